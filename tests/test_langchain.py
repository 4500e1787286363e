"""The LangChain front end over the real corpus index: documents with citations, and chains."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from sstc_assistant.langchain import SSTCRetriever, ask_runnable, citation_document

QUESTION = "In what year did UNOSSC initiate the Cities Project?"
CORPUS_DOCS = {"cities-project-2024-highlights", "cities-project-overview"}


def test_retriever_returns_cited_documents(corpus_assistant) -> None:
    docs = SSTCRetriever(assistant=corpus_assistant, k=3).invoke(QUESTION)
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    for doc in docs:
        meta = doc.metadata
        assert {"doc_id", "symbol", "pages", "paragraph", "also_in", "citation"} <= set(meta)
        assert meta["doc_id"] in CORPUS_DOCS
        assert meta["pages"] and all(isinstance(p, int) for p in meta["pages"])
        assert meta["citation"].startswith(meta["symbol"] or meta["title"] or meta["doc_id"])
        assert doc.id == meta["chunk_id"]
    assert "2017" in docs[0].page_content  # the passage that answers comes first


def test_retriever_on_default_settings(corpus_assistant, monkeypatch) -> None:
    """`SSTCRetriever()` opens the index the `SSTC_*` settings name, as `sstc ask` does."""
    settings = corpus_assistant.settings
    monkeypatch.setenv("SSTC_HOME", str(settings.home))
    monkeypatch.setenv("SSTC_INDEXES_DIR", str(settings.indexes_dir))
    monkeypatch.setenv("SSTC_INDEX", settings.index)
    docs = SSTCRetriever(k=2).invoke(QUESTION)
    assert len(docs) == 2 and docs[0].metadata["doc_id"] in CORPUS_DOCS
    assert asyncio.run(SSTCRetriever(assistant=corpus_assistant, k=1).ainvoke(QUESTION))[0].page_content


def test_retriever_honours_filters(corpus_assistant) -> None:
    from sstc_assistant.retrieval import Filters

    only = Filters(doc_ids=["cities-project-overview"])
    docs = SSTCRetriever(assistant=corpus_assistant, k=4, filters=only).invoke(QUESTION)
    assert docs and {d.metadata["doc_id"] for d in docs} == {"cities-project-overview"}


def test_ask_in_a_small_chain(corpus_assistant) -> None:
    chain = (
        RunnableLambda(str.strip) | ask_runnable(corpus_assistant) | RunnableLambda(lambda a: a.plain_text())
    )
    text = chain.invoke(f"  {QUESTION}  ")
    assert "2017" in text and "[1] " in text


def test_ask_gives_the_answer_object_and_abstains(corpus_assistant) -> None:
    ask = ask_runnable(corpus_assistant)
    answer, refused = ask.batch(
        [QUESTION, {"question": "What is a good recipe for chocolate chip cookies?", "history": []}]
    )
    assert answer.answerable and answer.citations
    cited = [citation_document(c) for c in answer.citations]
    assert cited[0].metadata["citation"] == answer.citations[0].human
    assert cited[0].page_content in answer.answer  # the quote is what the answer says
    assert not refused.answerable and refused.answer == "The documents do not address this question."
    with pytest.raises(ValueError, match="question string"):
        ask.invoke(42)


def test_retrieval_feeds_a_prompt(corpus_assistant) -> None:
    """The retriever composes like any other: passages with their citations into a prompt."""
    prompt = ChatPromptTemplate.from_template(
        "Answer from these passages:\n{context}\n\nQuestion: {question}"
    )

    def context(docs: list[Document]) -> str:
        return "\n".join(f"[{d.metadata['citation']}] {d.page_content}" for d in docs)

    chain = {
        "context": SSTCRetriever(assistant=corpus_assistant, k=2) | context,
        "question": RunnablePassthrough(),
    } | prompt
    text = chain.invoke(QUESTION).to_string()
    assert "Question: " + QUESTION in text and "2017" in text and "[UNOSSC Cities Project" in text
