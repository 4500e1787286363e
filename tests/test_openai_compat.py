"""The OpenAI-compatible endpoint, driven by the official `openai` client over real HTTP."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from sstc_assistant.api import create_app


@pytest.fixture(scope="module")
def base_url(corpus_assistant):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(corpus_assistant), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


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
