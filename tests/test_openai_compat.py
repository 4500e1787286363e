"""The OpenAI-compatible endpoint, driven by the official `openai` client over real HTTP."""

from __future__ import annotations

import pytest
from servers import serving

from sstc_assistant.api import create_app


@pytest.fixture(scope="module")
def base_url(corpus_assistant):
    with serving(create_app(corpus_assistant), ready="/api/health", log_level="error") as url:
        yield f"{url}/v1"


@pytest.fixture(scope="module")
def client(base_url: str):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)


def test_models_are_listed_and_retrieved(client) -> None:
    """Chat front ends (Open WebUI) list the models before anything else."""
    import openai

    models = client.models.list()
    ids = [m.id for m in models.data]
    assert ids == ["sstc-assistant"]
    card = client.models.retrieve("sstc-assistant")
    assert card.id == "sstc-assistant" and card.object == "model" and card.created > 0
    with pytest.raises(openai.NotFoundError) as refused:
        client.models.retrieve("gpt-4o")
    assert "gpt-4o" in refused.value.message  # OpenAI's error object: the SDK shows its message


def test_usage_is_counted(client) -> None:
    reply = client.chat.completions.create(
        model="sstc-assistant",
        messages=[{"role": "user", "content": "In what year did UNOSSC initiate the Cities Project?"}],
    )
    usage = reply.usage
    assert usage.prompt_tokens == 10  # words and punctuation: 9 words and "?"
    assert usage.completion_tokens > 20
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_stream_ends_with_done_and_can_carry_usage(base_url: str, client) -> None:
    """The raw stream ends with `data: [DONE]`; with include_usage the last chunk has the counts."""
    import httpx

    body = {
        "model": "sstc-assistant",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "In what year did UNOSSC initiate the Cities Project?"}],
    }
    with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=120) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    stream = client.chat.completions.create(**body)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "2017" in text and "[1]" in text
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_openai_errors_carry_the_message(client) -> None:
    import openai

    with pytest.raises(openai.UnprocessableEntityError) as refused:
        client.chat.completions.create(model="sstc-assistant", messages=[{"role": "user", "content": " "}])
    assert "the last user message is empty" in refused.value.message


FIRST = "When was the UN Office for South-South Cooperation established?"
FOLLOW_UP = "And what was it first called?"


def _conversation(client) -> list[dict[str, str]]:
    opening = client.chat.completions.create(
        model="sstc-assistant", messages=[{"role": "user", "content": FIRST}]
    )
    return [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": FIRST},
        {"role": "assistant", "content": opening.choices[0].message.content},
        {"role": "user", "content": FOLLOW_UP},
    ]


def test_follow_up_is_answered_as_api_ask_with_history(base_url: str, client) -> None:
    """The earlier user turns are the history, exactly as `/api/ask` takes it; the system and
    assistant turns are not questions."""
    import httpx

    from sstc_assistant.types import Answer

    reply = client.chat.completions.create(model="sstc-assistant", messages=_conversation(client))
    asked = httpx.post(
        base_url.removesuffix("/v1") + "/api/ask",
        json={"question": FOLLOW_UP, "history": [FIRST]},
        timeout=120,
    )
    assert asked.status_code == 200
    assert reply.choices[0].message.content == Answer.model_validate(asked.json()).plain_text()


def test_follow_up_names_the_first_name(client) -> None:
    """Issue 13's target: the second turn of a conversation is answered, not abstained on."""
    reply = client.chat.completions.create(model="sstc-assistant", messages=_conversation(client))
    text = reply.choices[0].message.content
    assert "Special Unit for Technical Cooperation between Developing Countries" in text
    assert "[1]" in text


def test_chat_completion_carries_citations(base_url: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=base_url, api_key="unused")
    reply = client.chat.completions.create(
        model="sstc-assistant",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "In what year did UNOSSC initiate the Cities Project?"},
        ],
    )
    text = reply.choices[0].message.content
    assert "2017" in text and "[1]" in text
    assert "[1] UNOSSC Cities Project" in text or "[1] SSTC among" in text  # the human citation form


def test_chat_completion_streams(base_url: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=base_url, api_key="unused")
    stream = client.chat.completions.create(
        model="sstc-assistant",
        stream=True,
        messages=[{"role": "user", "content": "What is a good recipe for chocolate chip cookies?"}],
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "The documents do not address this question."


def test_rate_limit_answers_429_with_retry_after(corpus_assistant) -> None:
    from fastapi.testclient import TestClient

    settings = corpus_assistant.settings.model_copy(update={"rate_limit_per_minute": 3})
    limited = type(corpus_assistant)(settings, embedder=corpus_assistant.embedder)
    client = TestClient(create_app(limited))
    codes = [
        client.post("/api/search", json={"query": "pilot projects", "k": 1}).status_code for _ in range(5)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    refused = client.post("/api/search", json={"query": "pilot projects"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "too many requests" in refused.json()["message"]
    assert client.get("/api/health").status_code == 200  # only model-time endpoints are limited
