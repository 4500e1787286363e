"""Is the index whole? A cheap check for every `/api/health` request and a deep one on demand.

The cheap check never lists the vector store: it compares counts, looks up a few random passages
and runs one nearest-neighbour query (measured at 100,000 passages: 20-35 ms, most of it Chroma's
count). The deep check (`sstc check --deep`, `/api/health?deep=true`: 1.7-4.5 s there) compares
every id and every document. With the `openai` generator the LLM server is asked for its models
too (`add_llm_server`); the index check itself never is, so a start-up repair does not depend on it.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Literal

import httpx
import numpy as np
from pydantic import BaseModel, Field, SecretStr

from .errors import StoreError
from .errors import first_line as _line
from .index import Index
from .lexical import LexicalIndex
from .settings import Settings

Status = Literal["ok", "degraded", "damaged"]
SAMPLE = 8
PROBE_SECONDS = 2.0  # a load balancer polls health; a silent LLM host must not hold it up for long


class LLMServerHealth(BaseModel):
    """Whether the OpenAI-compatible server of `SSTC_GENERATOR=openai` answers `GET /models`."""

    reachable: bool
    detail: str = Field(description="what the probe got; never the server's address or key")


class IndexHealth(BaseModel):
    """`damaged`: answers may be wrong or fail, rebuild; `degraded`: answers are right, a plain
    `sstc ingest` (or a server restart) tidies up."""

    status: Status = "ok"
    documents: int = 0
    chunks: int = 0
    passages: int = Field(0, description="distinct passages in the catalog")
    vectors: int | None = Field(None, description="entries in the vector store")
    generation: int = 0
    writing: bool = Field(False, description="an ingest holds the writer lock now")
    deep: bool = False
    llm_server: LLMServerHealth | None = Field(
        None, description="the openai generator's server; null for a generator in this process"
    )
    problems: list[str] = Field(default_factory=list)

    def add(self, severity: Literal["degraded", "damaged"], problem: str) -> None:
        self.problems.append(problem)
        if severity == "damaged" or self.status == "ok":
            self.status = severity


def add_llm_server(health: IndexHealth, settings: Settings) -> IndexHealth:
    """Probe the LLM server of the openai generator (nothing for the others, which run in this
    process) with one cheap request. A server that is down, refuses the key or fails makes health
    `degraded`, not `damaged`: answers fall back to quotations of the passages meanwhile."""
    if settings.generator != "openai":
        return health
    status, detail = _probe(settings.openai_base_url, settings.openai_api_key)
    health.llm_server = LLMServerHealth(reachable=status is not None, detail=detail)
    if status is None:
        problem = (
            f"the LLM server (SSTC_OPENAI_BASE_URL) cannot be reached ({detail}): answers fall back "
            "to quotations until it answers; start it or fix SSTC_OPENAI_BASE_URL"
        )
    elif status in (401, 403):
        problem = (
            f"the LLM server refuses the key ({detail}): answers fall back to quotations; "
            "fix SSTC_OPENAI_API_KEY"
        )
    elif status >= 500:
        problem = f"the LLM server fails ({detail}): answers fall back to quotations until it recovers"
    else:  # 2xx, or a server without the route (404) that may still chat
        return health
    health.add("degraded", problem)
    return health


def _probe(base_url: str | None, key: SecretStr | None) -> tuple[int | None, str]:
    """`GET {base}/models` as the OpenAI client would send it: the HTTP status (None when nothing
    answered) and what happened, in words that hold neither the address nor the key."""
    if not base_url:
        return None, "SSTC_OPENAI_BASE_URL is not set"
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/models", headers=headers, timeout=PROBE_SECONDS)
    except httpx.TimeoutException:
        return None, f"no answer in {PROBE_SECONDS:g} s"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return None, _line(exc)
    return response.status_code, f"GET /models answered HTTP {response.status_code}"


def check_index(index: Index, *, deep: bool = False) -> IndexHealth:
    """Report what is wrong with an open index, each problem one line with its remedy."""
    name = index.settings.index
    rebuild = f"run `sstc ingest --rebuild --index {name}`"
    tidy = f"run `sstc ingest --index {name}` or restart the server"
    health = IndexHealth(deep=deep)
    try:
        stat = index.catalog_path.stat()
        if (stat.st_dev, stat.st_ino) != index.catalog_identity:
            health.add(
                "damaged",
                f"the catalog {index.catalog_path} was replaced since this process "
                "opened it (a rebuild?): restart this process",
            )
            return health
    except OSError:
        health.add("damaged", f"the catalog {index.catalog_path} was deleted: {rebuild}")
        return health
    try:
        writing = index.writing()
        stats = index.stats()
        health.documents, health.chunks = stats["documents"], stats["chunks"]
        health.passages = stats["vectors"]
        health.generation = index.generation
        pending = [r["doc_id"] for r in index.pending()]
    except sqlite3.DatabaseError as exc:
        health.add("damaged", f"the catalog {index.catalog_path} is unreadable ({_line(exc)}): {rebuild}")
        return health
    if not index.settings.chroma_url and not (index.path / "chroma").is_dir():
        health.add("damaged", f"the vector store folder {index.path / 'chroma'} is gone: {rebuild}")
        return health
    health.writing = writing
    _check_vectors(index, health, rebuild, tidy, writing, sample=not deep)
    if not writing:  # mid-ingest, pending documents and a stale BM25 copy are expected
        if pending:
            health.add(
                "degraded",
                f"{len(pending)} document(s) left half-written by an interrupted ingest "
                f"({', '.join(pending[:3])}): {tidy}",
            )
        _check_lexical(index, health, tidy)
    if deep and health.vectors is not None:
        _deep(index, health, rebuild, tidy, writing)
    return health


def _check_vectors(
    index: Index, health: IndexHealth, rebuild: str, tidy: str, writing: bool, *, sample: bool
) -> None:
    try:
        health.vectors = index.vectors.count()
        if health.vectors < health.passages:
            health.add(
                "damaged",
                f"{health.passages - health.vectors} passages missing from the vector store: {rebuild}",
            )
            return
        if health.vectors > health.passages and not writing:
            health.add(
                "degraded",
                f"{health.vectors - health.passages} vectors not in the catalog "
                f"(orphans of an interrupted ingest): {tidy}",
            )
        ids = _sample_ids(index)
        if not ids:
            return
        found = index.vectors.get_embeddings(ids)
        if len(found) < len(ids) and sample:  # the deep check counts them all instead
            health.add(
                "damaged",
                f"{len(ids) - len(found)} of {len(ids)} sampled passages missing "
                f"from the vector store: {rebuild}",
            )
            return
        if not found:
            return
        want = min(5, health.vectors)
        got = index.vectors.query(np.asarray([next(iter(found.values()))]), want)[0]
        if len(got) < want:
            health.add(
                "damaged",
                f"the vector store's search returns {len(got)} of {want} neighbours "
                f"(its ANN index is damaged): {rebuild}",
            )
    except StoreError as exc:
        health.add("damaged", _line(exc))
    except Exception as exc:  # chromadb raises its own errors for damaged segments or a lost server
        health.add("damaged", f"the vector store fails ({_line(exc)}): {rebuild}")


def _sample_ids(index: Index) -> list[str]:
    """A few random catalog passages, by rowid, without scanning the table."""
    # two subqueries: SQLite answers MIN and MAX apart from the b-tree's ends, together by a scan
    lo, hi = index.db.execute(
        "SELECT (SELECT MIN(rowid) FROM vectors), (SELECT MAX(rowid) FROM vectors)"
    ).fetchone()
    if lo is None:
        return []
    rowids = {random.randint(lo, hi) for _ in range(SAMPLE * 2)} | {lo, hi}
    q = f"SELECT vector_id FROM vectors WHERE rowid IN ({','.join('?' * len(rowids))})"
    return [r["vector_id"] for r in index.db.execute(q, sorted(rowids))][:SAMPLE]


def _check_lexical(index: Index, health: IndexHealth, tidy: str) -> None:
    saved = index.lexical.saved_state()
    if saved is None:
        if health.passages:
            health.add(
                "degraded",
                f"the keyword (BM25) index {index.lexical.path} is missing or unreadable "
                f"(rebuilt in memory at every start): {tidy}",
            )
        return
    generation, passages = saved
    if generation != health.generation or passages != health.passages:
        health.add(
            "degraded",
            f"the keyword (BM25) index is out of date (generation {generation}, catalog "
            f"{health.generation}): {tidy}",
        )


def _deep(index: Index, health: IndexHealth, rebuild: str, tidy: str, writing: bool) -> None:
    """Every id, every document, SQLite's own integrity check and a full load of the BM25 files."""
    db = index.db
    verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        health.add("damaged", f"the catalog fails SQLite's integrity check ({verdict}): {rebuild}")
        return
    broken = db.execute(
        "SELECT d.doc_id FROM documents d WHERE d.status = 'complete' AND ("
        " d.chunks != (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id) OR"
        " d.pages != (SELECT COUNT(*) FROM pages p WHERE p.doc_id = d.doc_id))"
    ).fetchall()
    if broken:
        names = ", ".join(r["doc_id"] for r in broken[:3])
        health.add("damaged", f"{len(broken)} document(s) lack chunks or pages ({names}): {rebuild}")
    unbacked = db.execute(
        "SELECT COUNT(DISTINCT vector_id) FROM chunks WHERE vector_id NOT IN (SELECT vector_id FROM vectors)"
    ).fetchone()[0]
    if unbacked:
        health.add("damaged", f"{unbacked} chunks point at passages the catalog lacks: {rebuild}")
    known = {r["vector_id"] for r in db.execute("SELECT vector_id FROM vectors")}
    try:
        stored = index.vectors.ids()
    except Exception as exc:
        health.add("damaged", f"the vector store cannot list its entries ({_line(exc)}): {rebuild}")
        return
    if known - stored and not any("missing from the vector store" in p for p in health.problems):
        health.add("damaged", f"{len(known - stored)} passages missing from the vector store: {rebuild}")
    if stored - known and not writing and not any("orphans" in p for p in health.problems):
        health.add("degraded", f"{len(stored - known)} vectors not in the catalog (orphans): {tidy}")
    if not writing and health.passages:
        lexical = LexicalIndex(index.lexical.path)
        if not lexical.load():
            if not any("BM25" in p for p in health.problems):
                health.add("degraded", f"the keyword (BM25) index {lexical.path} is unreadable: {tidy}")
        elif set(lexical.ids) != known and lexical.generation == health.generation:
            health.add("degraded", f"the keyword (BM25) index lists other passages than the catalog: {tidy}")
