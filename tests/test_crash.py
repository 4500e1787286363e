"""kill -9 of a real `sstc serve`: during a burst of questions, then during the upload and ingest of
a 40-page PDF. After each restart the index is whole: the same documents and answers after the
burst; after the upload, the document fully present (every chunk with its vector, every page,
answerable, no orphans) because the restarted server finishes the interrupted ingest."""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, ROOT
from pdfgen import write_pdf

from sstc_assistant.launch import Child, serve, server_env

pytestmark = pytest.mark.slow

KEY = "crash-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
PAGES = 40
FACT_PAGE = 23
FACT = "The Kampala river-taxi pilot was approved in 2033 by the city-to-city partnership board."
QUESTION = "In what year was the Kampala river-taxi pilot approved?"
FIXED_QUESTION = "In what year did UNOSSC initiate the Cities Project?"


def _env(base: Path) -> dict[str, str]:
    return server_env(
        ROOT, base, "crash", base / "corpus", embedder="minilm", api_key=KEY, rate_limit_per_minute="0"
    )


def _big_pdf(path: Path) -> Path:
    """40 pages of distinct numbered paragraphs (words drawn from the real corpus, so none is a
    near-duplicate of another and every one is embedded) and one page with a fact to ask about."""
    words = sorted(set(re.findall(r"[A-Za-z]{4,}", " ".join(p.read_text() for p in CORPUS.glob("*.txt")))))
    pages = []
    for n in range(1, PAGES + 1):
        rng = random.Random(n)
        lines = [f"Annex page {n}", ""]
        for j in range(1, 7):
            lines += [f"{(n - 1) * 6 + j}. " + " ".join(rng.choice(words) for _ in range(45)) + ".", ""]
        if n == FACT_PAGE:
            lines += [f"{PAGES * 6 + 1}. {FACT}", ""]
        pages.append(lines)
    return write_pdf(path, pages)


def _catalog(base: Path) -> sqlite3.Connection:
    """The catalog, read beside the server (SQLite in WAL mode allows it; Chroma is not opened)."""
    db = sqlite3.connect(base / "indexes" / "crash" / "catalog.sqlite", timeout=5)
    db.row_factory = sqlite3.Row
    return db


def _state(url: str) -> tuple[list[str], dict]:
    with httpx.Client(base_url=url, timeout=120) as client:
        docs = sorted(d["doc_id"] for d in client.get("/api/documents").json())
        answer = client.post("/api/ask", json={"question": FIXED_QUESTION}).json()
    return docs, {
        "answer": answer["answer"],
        "citations": [(c["doc_id"], c["quote"]) for c in answer["citations"]],
    }


def _clean(log: str) -> None:
    assert "Traceback" not in log, log
    assert not re.search(r"\b500\b", log), log


def _sstc_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sstc_assistant.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_kill_minus_nine_during_questions_and_during_an_upload(tmp_path: Path) -> None:
    started = time.monotonic()
    shutil.copytree(CORPUS, tmp_path / "corpus")
    env = _env(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "sstc_assistant.cli", "ingest", "--quiet"],
        env=env,
        check=True,
        capture_output=True,
    )
    server = serve(env, tmp_path / "server-1.log")
    servers: list[Child] = [server]
    try:
        before = _state(server.url)
        assert before[0] == ["cities-project-2024-highlights", "cities-project-overview"]
        assert "2017" in before[1]["answer"]
        generation = _catalog(tmp_path).execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0]

        # (b) kill -9 while eight clients are asking
        statuses: list[int | str] = []
        stop = threading.Event()

        def asker(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                while not stop.is_set():
                    try:
                        q = FIXED_QUESTION if n % 2 else "Which services does the Cities Project provide?"
                        statuses.append(client.post("/api/ask", json={"question": q}).status_code)
                    except httpx.TransportError as exc:
                        statuses.append(type(exc).__name__)
                        return

        threads = [threading.Thread(target=asker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while sum(s == 200 for s in statuses) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(s == 200 for s in statuses) >= 8, statuses
        server.kill()  # with questions in flight: the clients loop until their connection breaks
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert any(isinstance(s, str) for s in statuses), "no request was in flight at the kill"
        assert 500 not in statuses and all(s == 200 for s in statuses if isinstance(s, int)), statuses

        server = serve(env, tmp_path / "server-2.log")
        servers.append(server)
        health = httpx.get(f"{server.url}/api/health", params={"deep": "true"}, timeout=60).json()
        assert (health["status"], health["problems"]) == ("ok", []), health
        assert _state(server.url) == before
        assert _catalog(tmp_path).execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0] == (
            generation
        )

        # (a) kill -9 while a 40-page PDF is being ingested
        pdf = _big_pdf(tmp_path / "kampala-annex.pdf")
        outcome: list[object] = []

        def upload() -> None:
            try:
                with httpx.Client(base_url=server.url, timeout=300) as client:
                    files = {"file": ("kampala-annex.pdf", pdf.read_bytes(), "application/pdf")}
                    outcome.append(client.post("/api/documents", files=files, headers=AUTH).status_code)
            except httpx.TransportError as exc:
                outcome.append(type(exc).__name__)

        uploader = threading.Thread(target=upload)
        uploader.start()
        db = _catalog(tmp_path)
        deadline = time.monotonic() + 120
        row = None
        while time.monotonic() < deadline and not outcome:
            # pages > 0: parsing is done and the passages are being embedded
            row = db.execute("SELECT status, pages FROM documents WHERE doc_id = 'kampala-annex'").fetchone()
            if row is not None and row["pages"] > 0:
                break
            time.sleep(0.02)
        assert row is not None and row["pages"] == PAGES and not outcome, (row and dict(row), outcome)
        server.kill()
        uploader.join(timeout=60)
        assert outcome and isinstance(outcome[0], str), outcome  # the upload never got an answer
        row = db.execute("SELECT status FROM documents WHERE doc_id = 'kampala-annex'").fetchone()
        assert row["status"] == "pending", "killed after the ingest had finished: nothing was tested"
        db.close()
        assert (tmp_path / "corpus" / "kampala-annex.pdf").read_bytes() == pdf.read_bytes()
        check = _sstc_check(env)  # between the crash and the restart: what was left
        assert check.returncode == 1 and "half-written by an interrupted ingest" in check.stdout, check.stdout

        server = serve(env, tmp_path / "server-3.log")
        servers.append(server)
        with httpx.Client(base_url=server.url, timeout=120) as client:
            health = client.get("/api/health", params={"deep": "true"}).json()
            assert (health["status"], health["problems"]) == ("ok", []), health
            assert health["passages"] == health["vectors"]
            doc = client.get("/api/documents/kampala-annex").json()
            assert doc["pages"] == PAGES and doc["chunks"] >= PAGES * 6, doc
            answer = client.post("/api/ask", json={"question": QUESTION}).json()
            assert answer["answerable"] and "2033" in answer["answer"], answer
            cited = [c for c in answer["citations"] if c["doc_id"] == "kampala-annex"]
            assert cited and cited[0]["pages"] == [FACT_PAGE], answer["citations"]
            r = client.post(
                "/api/documents", files={"file": ("kampala-annex.pdf", pdf.read_bytes())}, headers=AUTH
            )
            assert r.status_code == 400 and "exists already" in r.json()["message"]
            assert _state(server.url)[0] == [*before[0], "kampala-annex"]
        assert "finished interrupted ingest of kampala-annex: added" in server.log_text()
        no_pending = _catalog(tmp_path).execute("SELECT COUNT(*) FROM documents WHERE status != 'complete'")
        assert no_pending.fetchone()[0] == 0
    finally:
        for s in servers:
            s.stop()
    for s in servers:
        _clean(s.log_text())
    print(f"crash test took {time.monotonic() - started:.0f} s")
