"""LangChain front end: the index as a `BaseRetriever`, and `ask` as a runnable.

    from sstc_assistant.langchain import SSTCRetriever, ask_runnable
    docs = SSTCRetriever(k=3).invoke("What did BAPA+40 ask of sub-national governments?")
    answer = ask_runnable().invoke("In what year did UNOSSC initiate the Cities Project?")

Both wrap the same `Assistant` as every other front end, so a chain gets the same hybrid
retrieval, citations and abstention as `sstc ask`; nothing here embeds or answers on its own.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict, Field, PrivateAttr

from .assistant import Assistant
from .retrieval import Filters
from .settings import RetrievalMode, Settings
from .types import Answer, Citation, SearchHit, Source, human_place

__all__ = ["SSTCRetriever", "ask_runnable", "citation_document", "hit_document"]


def hit_document(hit: SearchHit | Source) -> Document:
    """A retrieved passage as a LangChain `Document`: verbatim text, and where to cite it."""
    return Document(
        page_content=hit.text,
        id=hit.chunk_id,
        metadata={
            "doc_id": hit.doc_id,
            "symbol": hit.symbol,
            "title": hit.title,
            "pages": list(hit.pages),
            "paragraph": hit.paragraph,
            "citation": human_place(hit.symbol or hit.title or hit.doc_id, hit.paragraph, hit.pages),
            "also_in": [loc.model_dump() for loc in hit.also_in],
            "score": hit.score,
            "chunk_id": hit.chunk_id,
            **({"kind": hit.kind, "date": hit.date} if isinstance(hit, SearchHit) else {}),
        },
    )


def citation_document(citation: Citation) -> Document:
    """An answer's `[n]` as a `Document` whose text is the quote that supports the sentence."""
    return Document(
        page_content=citation.quote,
        id=citation.chunk_id,
        metadata={
            "n": citation.n,
            "doc_id": citation.doc_id,
            "symbol": citation.symbol,
            "title": citation.title,
            "pages": list(citation.pages),
            "paragraph": citation.paragraph,
            "citation": citation.human,
            "also_in": [loc.model_dump() for loc in citation.also_in],
            "score": citation.score,
            "chunk_id": citation.chunk_id,
        },
    )


class SSTCRetriever(BaseRetriever):
    """The assistant's hybrid retrieval (dense + BM25, named-document boosts, no near-duplicates)
    over an index; `assistant` defaults to one on the default settings (`SSTC_*`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant | None = None
    k: int = Field(5, ge=1, le=100, description="passages returned")
    mode: RetrievalMode | None = Field(None, description="bm25, dense or hybrid; default SSTC_RETRIEVAL_MODE")
    filters: Filters | None = None
    _default: Assistant | None = PrivateAttr(None)

    @property
    def used_assistant(self) -> Assistant:
        """The given assistant, else one opened on first use (loading models takes seconds)."""
        if self.assistant is not None:
            return self.assistant
        if self._default is None:
            self._default = Assistant(Settings())
        return self._default

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.used_assistant.search(query, self.k, mode=self.mode, filters=self.filters)
        return [hit_document(hit) for hit in hits]


def _ask_input(value: Any) -> tuple[str, list[str]]:
    """A question string, or `{"question": ..., "history": [earlier questions]}` as `/api/ask` takes."""
    if isinstance(value, str):
        return value, []
    if isinstance(value, dict) and isinstance(value.get("question"), str):
        history = value.get("history") or []
        turns = [t if isinstance(t, str) else str(t.get("content", "")) for t in history if t]
        return value["question"], turns
    raise ValueError("ask expects a question string or {'question': ..., 'history': [...]}")


def ask_runnable(assistant: Assistant | None = None, *, k: int | None = None) -> Runnable[Any, Answer]:
    """`Assistant.ask` as a runnable: a question (or `{"question", "history"}`) in, the cited
    `Answer` out, abstention included (`answer.answerable` is False then)."""
    opened: list[Assistant] = [assistant] if assistant is not None else []

    def ask(value: Any) -> Answer:
        question, history = _ask_input(value)
        if not opened:  # on first use, not when the chain is built
            opened.append(Assistant(Settings()))
        return opened[0].ask(question, history=history, k=k)

    return RunnableLambda(ask, name="sstc_ask")
