"""Is the index whole? A cheap check for every `/api/health` request and a deep one on demand.

The cheap check never lists the vector store: it compares counts, looks up a few random passages
and runs one nearest-neighbour query (measured at 100,000 passages: 20-35 ms, most of it Chroma's
count). The deep check (`sstc check --deep`, `/api/health?deep=true`: 1.7-4.5 s there) compares
every id and every document.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from .index import Index, LexicalIndex, StoreError
from .index import first_line as _line

Status = Literal["ok", "degraded", "damaged"]
SAMPLE = 8


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
    problems: list[str] = Field(default_factory=list)

    def add(self, severity: Literal["degraded", "damaged"], problem: str) -> None:
        self.problems.append(problem)
        if severity == "damaged" or self.status == "ok":
            self.status = severity


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
