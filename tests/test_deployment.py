"""The team deployment, with real processes on 127.0.0.1: one `chroma run` server and two
`sstc serve` processes sharing it and one index folder (catalog + BM25). What one process
writes, the other answers from; simultaneous uploads to both wait for each other."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, ROOT
from pdfgen import pdf_bytes
from servers import free_port

from sstc_assistant import launch
from sstc_assistant.assistant import Assistant
from sstc_assistant.ingest import ingest

pytestmark = pytest.mark.slow

KEY = "team-key-4b1d"
AUTH = {"Authorization": f"Bearer {KEY}"}
FACTS = {
    "lusaka-bus-pilot": (
        "The Lusaka electric bus pilot was approved in 2034 with twelve partner municipalities.",
        "In what year was the Lusaka electric bus pilot approved?",
        "2034",
    ),
    "recife-desalination": (
        "The Recife solar desalination exchange trained 410 engineers from island cities.",
        "How many engineers did the Recife solar desalination exchange train?",
        "410",
    ),
    "hanoi-flood-twinning": (
        "The Hanoi flood-warning twinning programme links 27 river cities in three regions.",
        "How many river cities does the Hanoi flood-warning twinning programme link?",
        "27",
    ),
}


def _pdf(doc_id: str) -> bytes:
    fact = FACTS[doc_id][0]
    return pdf_bytes([[f"{doc_id.replace('-', ' ').title()}: decision record", "", fact]])


def _upload(url: str, doc_id: str) -> httpx.Response:
    files = {"file": (f"{doc_id}.pdf", _pdf(doc_id), "application/pdf")}
    return httpx.post(f"{url}/api/documents", files=files, headers=AUTH, timeout=300)


def _ask(url: str, doc_id: str) -> dict:
    r = httpx.post(f"{url}/api/ask", json={"question": FACTS[doc_id][1]}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def _cites(answer: dict, doc_id: str) -> bool:
    return answer["answerable"] and any(
        c["doc_id"] == doc_id and FACTS[doc_id][2] in c["quote"] for c in answer["citations"]
    )


def _answered_soon(url: str, doc_id: str, within: float = 60.0) -> bool:
    """Another process's upload is in the shared vectors at once, and in this process's BM25 index
    once the background rebuild that the first query after it starts has finished (seconds)."""
    deadline = time.monotonic() + within
    while not _cites(_ask(url, doc_id), doc_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _docs(url: str) -> set[str]:
    return {d["doc_id"] for d in httpx.get(f"{url}/api/documents", timeout=30).json()}


def test_two_api_processes_share_one_chroma_server(tmp_path: Path) -> None:
    shutil.copytree(CORPUS, tmp_path / "corpus")
    chroma = launch.chroma(tmp_path / "chroma-data", tmp_path / "chroma.log")
    children = [chroma]
    try:
        env = launch.server_env(
            ROOT,
            tmp_path,
            "team",
            tmp_path / "corpus",
            chroma_url=chroma.url,
            embedder="minilm",
            api_key=KEY,
            rate_limit_per_minute="0",
        )
        cli = [sys.executable, "-m", "sstc_assistant.cli"]
        subprocess.run([*cli, "ingest", "--quiet"], env=env, check=True, capture_output=True, timeout=300)
        assert not (tmp_path / "indexes" / "team" / "chroma").exists()  # the vectors are on the server
        one = launch.serve(env, tmp_path / "api-1.log")
        children.append(one)
        two = launch.serve(env, tmp_path / "api-2.log")
        children.append(two)
        corpus_docs = {"cities-project-overview", "cities-project-2024-highlights"}
        assert _docs(one.url) == _docs(two.url) == corpus_docs

        # written through one, answered through the other
        r = _upload(one.url, "lusaka-bus-pilot")
        assert r.status_code == 201 and r.json()["status"] == "added", r.text
        assert _answered_soon(two.url, "lusaka-bus-pilot")
        assert FACTS["lusaka-bus-pilot"][2] in _ask(two.url, "lusaka-bus-pilot")["answer"]

        # uploads to both at once: the writer lock makes one wait for the other, neither fails
        results: dict[str, int] = {}

        def up(url: str, doc_id: str) -> None:
            results[doc_id] = _upload(url, doc_id).status_code

        threads = [
            threading.Thread(target=up, args=(one.url, "recife-desalination")),
            threading.Thread(target=up, args=(two.url, "hanoi-flood-twinning")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert results == {"recife-desalination": 201, "hanoi-flood-twinning": 201}
        assert _answered_soon(two.url, "recife-desalination")
        assert _answered_soon(one.url, "hanoi-flood-twinning")
        assert _docs(one.url) == _docs(two.url) == corpus_docs | set(FACTS)

        # deleted through two, gone through one
        r = httpx.delete(f"{two.url}/api/documents/lusaka-bus-pilot", headers=AUTH, timeout=120)
        assert r.status_code == 200, r.text
        assert "lusaka-bus-pilot" not in _docs(one.url)
        assert httpx.get(f"{one.url}/api/documents/lusaka-bus-pilot").status_code == 404
        assert not _cites(_ask(one.url, "lusaka-bus-pilot"), "lusaka-bus-pilot")

        for child in (one, two):
            health = httpx.get(f"{child.url}/api/health", params={"deep": "true"}, timeout=60).json()
            assert (health["status"], health["problems"]) == ("ok", []), health
            assert health["documents"] == 4 and health["passages"] == health["vectors"]

        # the Chroma server goes away: a 503 with the reason, not a 500; back when it is back
        chroma.stop()
        r = httpx.get(f"{one.url}/api/health", timeout=30)
        assert r.status_code == 503 and "cannot reach the Chroma server" in r.json()["problems"][0], r.text
        r = httpx.post(f"{two.url}/api/ask", json={"question": FACTS["recife-desalination"][1]}, timeout=60)
        assert r.status_code == 503 and r.json()["message"].startswith("cannot reach the Chroma server")
        chroma = launch.chroma(
            tmp_path / "chroma-data", tmp_path / "chroma.log", port=int(chroma.url.rsplit(":", 1)[1])
        )
        children.append(chroma)
        assert _cites(_ask(two.url, "recife-desalination"), "recife-desalination")
    finally:
        for child in reversed(children):
            child.stop()
    for child in (one, two):
        log = child.log_text()
        assert "Traceback" not in log and not re.search(r"\b500\b", log), log


def test_a_down_llm_server_degrades_to_quotation(make_settings) -> None:
    """SSTC_GENERATOR=openai with nothing listening: answers still come, quoted and cited."""
    settings = make_settings(
        embedder="minilm", generator="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1"
    )
    assert ingest(settings).ingested_any
    answer = Assistant(settings).ask("In what year did UNOSSC initiate the Cities Project?")
    assert answer.generator == "openai+extractive-fallback"
    assert answer.answerable and "2017" in answer.answer and answer.citations
