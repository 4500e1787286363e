"""The health check on real damaged indexes: vectors deleted behind the catalog's back, orphan
vectors, a truncated Chroma database, a deleted Chroma folder, a stale or broken BM25 copy, a
garbage catalog, a half-deleted document. Each is reported with its remedy, and the remedy works.
And the LLM server of the `openai` generator: a real one on loopback, then a closed port."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, ROOT
from servers import free_port, serving

from sstc_assistant.api import create_app
from sstc_assistant.assistant import Assistant
from sstc_assistant.health import check_index
from sstc_assistant.index import Index
from sstc_assistant.ingest import ingest
from sstc_assistant.settings import Settings

SSTC = [sys.executable, "-m", "sstc_assistant.cli"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real MiniLM index of corpus/, copied for each test to damage."""
    base = tmp_path_factory.mktemp("pristine")
    report = ingest(_settings(base))
    assert report.ingested_any
    return base


def _settings(base: Path) -> Settings:
    return Settings(home=ROOT, indexes_dir=base / "indexes", index="h", corpus_dir=CORPUS, embedder="minilm")


@pytest.fixture
def copy(pristine: Path, tmp_path: Path) -> Settings:
    shutil.copytree(pristine / "indexes", tmp_path / "indexes")
    return _settings(tmp_path)


def _check(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSTC_")}
    env.update(
        SSTC_HOME=str(ROOT),
        SSTC_INDEXES_DIR=str(settings.resolve(settings.indexes_dir)),
        SSTC_INDEX=settings.index,
        SSTC_CORPUS_DIR=str(CORPUS),
        SSTC_EMBEDDER="minilm",
        **{f"SSTC_{key.upper()}": value for key, value in extra.items()},
    )
    return subprocess.run([*SSTC, *args], env=env, capture_output=True, text=True, timeout=300)


def test_a_whole_index_is_ok(copy: Settings) -> None:
    for deep in (False, True):
        health = check_index(Index(copy), deep=deep)
        assert (health.status, health.problems) == ("ok", []), health
        assert health.documents == 2 and health.passages == health.vectors > 0


def test_vectors_deleted_behind_the_catalog(copy: Settings) -> None:
    index = Index(copy)
    ids = sorted(r[0] for r in index.db.execute("SELECT vector_id FROM vectors"))
    index.vectors.delete(ids[:3])
    health = check_index(index)
    assert health.status == "damaged"
    assert health.problems == [
        "3 passages missing from the vector store: run `sstc ingest --rebuild --index h`"
    ]
    run = _check(copy, "check")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "damaged" in run.stdout and "3 passages missing" in run.stdout and "Traceback" not in run.stderr
    rebuilt = _check(copy, "ingest", "--rebuild", "--quiet")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert _check(copy, "check", "--deep").returncode == 0


def test_one_vector_swapped_is_found_by_the_deep_check(copy: Settings) -> None:
    """Same count, one id different: the sample may miss it, the deep check does not."""
    index = Index(copy)
    victim = index.db.execute("SELECT vector_id FROM vectors LIMIT 1").fetchone()[0]
    emb = index.vectors.get_embeddings([victim])[victim]
    index.vectors.delete([victim])
    index.vectors.upsert(["stranger"], emb[None, :], ["a passage nobody indexed"])
    deep = check_index(index, deep=True)
    assert deep.status == "damaged"
    assert "1 passages missing from the vector store" in deep.problems[0]
    assert any("1 vectors not in the catalog" in p for p in deep.problems)


def test_orphan_vectors_are_degraded_and_ingest_tidies_them(copy: Settings) -> None:
    index = Index(copy)
    vec = np.ones((2, 384), dtype=np.float32) / np.sqrt(384)
    index.vectors.upsert(["orphan-1", "orphan-2"], vec, ["left by a killed run", "another"])
    health = check_index(index)
    assert health.status == "degraded"
    assert health.problems == [
        "2 vectors not in the catalog (orphans of an interrupted ingest): "
        "run `sstc ingest --index h` or restart the server"
    ]
    index.close()
    report = ingest(copy)
    assert report.removed_vectors == 2
    assert check_index(Index(copy), deep=True).status == "ok"


def test_truncated_chroma_database(copy: Settings) -> None:
    db = copy.index_path / "chroma" / "chroma.sqlite3"
    db.write_bytes(db.read_bytes()[:8192])
    run = _check(copy, "check")
    assert run.returncode == 2
    assert "vector store" in run.stdout and "unreadable" in run.stdout and "--rebuild" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    # the server refuses to start on it, in one line, rather than serve wrong answers
    serve = _check(copy, "serve", "--port", "9")
    assert serve.returncode == 2
    assert serve.stderr.strip().splitlines()[-1].startswith("error: index 'h' is damaged: the vector store")
    assert "Traceback" not in serve.stderr
    assert _check(copy, "ingest", "--rebuild", "--quiet").returncode == 0
    assert _check(copy, "check", "--deep").returncode == 0


def test_deleted_chroma_folder(copy: Settings) -> None:
    index = Index(copy)
    shutil.rmtree(copy.index_path / "chroma")
    health = check_index(index)
    assert health.status == "damaged"
    assert "vector store folder" in health.problems[0] and "is gone" in health.problems[0]
    index.close()
    # a fresh process (Chroma caches its client per folder within one) recreates an empty store
    run = _check(copy, "check")
    assert run.returncode == 2 and "passages missing from the vector store" in run.stdout, run.stdout
    assert _check(copy, "ingest", "--rebuild", "--quiet").returncode == 0
    assert _check(copy, "check", "--deep").returncode == 0


def test_stale_or_broken_bm25(copy: Settings) -> None:
    bm25 = copy.index_path / "bm25"
    (bm25 / "meta.json").write_text('{"generation": 0, "passages": 1}', encoding="utf-8")
    health = check_index(Index(copy))
    assert health.status == "degraded"
    assert health.problems[0].startswith("the keyword (BM25) index is out of date (generation 0, catalog ")
    for f in (bm25 / "bm25").iterdir():
        f.write_bytes(b"\x00garbage")
    (bm25 / "meta.json").unlink()
    deep = check_index(Index(copy), deep=True)
    assert deep.status == "degraded"
    assert "missing or unreadable" in deep.problems[0]
    run = _check(copy, "check")
    assert run.returncode == 1 and "degraded" in run.stdout
    assert _check(copy, "ingest", "--quiet").returncode == 0
    assert check_index(Index(copy), deep=True).status == "ok"


def test_garbage_catalog(copy: Settings) -> None:
    catalog = copy.index_path / "catalog.sqlite"
    for extra in ("-wal", "-shm"):
        Path(str(catalog) + extra).unlink(missing_ok=True)
    catalog.write_bytes(b"this is not a database" * 100)
    run = _check(copy, "check")
    assert run.returncode == 2
    assert "catalog" in run.stdout and "unreadable" in run.stdout and "--rebuild" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert _check(copy, "ingest", "--rebuild", "--quiet").returncode == 0
    assert _check(copy, "check", "--deep").returncode == 0


def test_catalog_deleted_under_a_running_process(copy: Settings) -> None:
    index = Index(copy)
    (copy.index_path / "catalog.sqlite").unlink()
    health = check_index(index)
    assert health.status == "damaged" and "was deleted" in health.problems[0]


def test_half_deleted_document_is_found_by_the_deep_check(copy: Settings) -> None:
    index = Index(copy)
    with index.db:
        index.db.execute(
            "DELETE FROM chunks WHERE rowid = (SELECT MIN(rowid) FROM chunks WHERE doc_id = "
            "'cities-project-overview')"
        )
    assert check_index(index).status == "ok"  # the cheap check cannot see it
    deep = check_index(index, deep=True)
    assert deep.status == "damaged"
    assert deep.problems[0].startswith("1 document(s) lack chunks or pages (cities-project-overview)")


# --- the LLM server of the openai generator ----------------------------------------------------------

LLM_KEY = "sk-llm-probe-NEVER-SHOW"


@pytest.fixture
def llm_server() -> Iterator[tuple[str, list[str]]]:
    """A real OpenAI-compatible `/v1/models` on a loopback port; yields its base URL and the
    Authorization header of every request it got."""
    seen: list[str] = []

    async def models(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        auth = dict(scope["headers"]).get(b"authorization")
        seen.append(f"{scope['path']} {auth.decode() if auth is not None else None}")
        found = scope["path"] == "/v1/models"
        body = json.dumps({"object": "list", "data": [{"id": "qwen", "object": "model"}]}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200 if found else 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # ready=None: no readiness request of its own among the ones it records
    with serving(models, ready=None, lifespan="off", log_config=None, log_level="error") as url:
        yield f"{url}/v1", seen


def _closed_port() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


def _api_health(settings: Settings, **llm: str) -> tuple[int, dict]:
    """`GET /api/health` of the API over this index with these SSTC_* settings, validated as the
    environment would be."""
    from fastapi.testclient import TestClient

    settings = Settings.model_validate({**settings.model_dump(), **llm})
    with TestClient(create_app(Assistant(settings))) as client:
        r = client.get("/api/health")
    assert LLM_KEY not in r.text
    return r.status_code, r.json()


def test_a_reachable_llm_server_is_reported(copy: Settings, llm_server) -> None:
    url, seen = llm_server
    llm = {"generator": "openai", "openai_base_url": url, "openai_api_key": LLM_KEY}
    code, health = _api_health(copy, **llm)
    assert code == 200 and health["status"] == "ok", health
    assert health["generator"] == "openai"
    assert health["llm_server"] == {"reachable": True, "detail": "GET /models answered HTTP 200"}
    assert seen == [f"/v1/models Bearer {LLM_KEY}"]
    run = _check(copy, "check", "--json", **llm)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["llm_server"]["reachable"] is True
    assert len(seen) == 2


def test_an_unreachable_llm_server_degrades_health(copy: Settings) -> None:
    """Answers then fall back to quotations (tests/test_deployment.py): degraded, not damaged."""
    llm = {"generator": "openai", "openai_base_url": _closed_port(), "openai_api_key": LLM_KEY}
    started = time.monotonic()
    code, health = _api_health(copy, **llm)
    assert time.monotonic() - started < 10
    assert code == 200 and health["status"] == "degraded", health
    assert health["llm_server"]["reachable"] is False
    assert len(health["problems"]) == 1
    assert health["problems"][0].startswith("the LLM server (SSTC_OPENAI_BASE_URL) cannot be reached")
    assert "answers fall back to quotations" in health["problems"][0]
    run = _check(copy, "check", **llm)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "degraded" in run.stdout and "the LLM server (SSTC_OPENAI_BASE_URL) cannot" in run.stdout
    assert LLM_KEY not in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_nothing_is_probed_for_the_extractive_generator(copy: Settings, llm_server) -> None:
    url, seen = llm_server
    code, health = _api_health(copy, generator="extractive", openai_base_url=url)
    assert code == 200 and health["status"] == "ok" and health["llm_server"] is None, health
    run = _check(copy, "check", "--json", generator="extractive", openai_base_url=url)
    assert run.returncode == 0 and json.loads(run.stdout)["llm_server"] is None
    assert seen == []
