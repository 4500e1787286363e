"""The catalog of an index: a SQLite database, the source of truth for its documents, their pages
and every location (document, pages, paragraph) of each distinct passage, under the passage's
vector id.

`CatalogQueries` holds the lookups that only read it (retrieval, listings, health checks); the
writes, which must stay in step with the vector store and BM25, are `Index`'s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import StoreError, first_line
from .types import DocumentMeta, IndexedDocument

CATALOG_FILE = "catalog.sqlite"

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, meta TEXT NOT NULL,
    pages INTEGER NOT NULL, pages_inferred INTEGER NOT NULL DEFAULT 0, chunks INTEGER NOT NULL,
    catalog_sig TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS pages (
    doc_id TEXT NOT NULL, number INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (doc_id, number));
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    vector_id TEXT NOT NULL, text TEXT NOT NULL, page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    paragraph TEXT, part TEXT, n_tokens INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_vector ON chunks (vector_id);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id);
CREATE TABLE IF NOT EXISTS vectors (vector_id TEXT PRIMARY KEY, text TEXT NOT NULL);
"""


def open_catalog(path: Path, index_name: str) -> sqlite3.Connection:
    """The catalog at `path`, created when new, or a StoreError that says how to rebuild it."""
    try:
        # WAL and a busy timeout: several processes of one host may read while one writes
        db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"the catalog {path} is unreadable ({first_line(exc)}): "
            f"run `sstc ingest --rebuild --index {index_name}`"
        ) from exc
    return db


class CatalogQueries:
    """Lookups that only read the catalog `db`: a mixin of `Index`, which adds the writes that
    must stay in step with its vector store and BM25."""

    db: sqlite3.Connection

    # --- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    @property
    def embedder_name(self) -> str | None:
        return self.get_meta("embedder")

    # --- documents -----------------------------------------------------------------------------

    def document_rows(self) -> dict[str, sqlite3.Row]:
        return {r["doc_id"]: r for r in self.db.execute("SELECT * FROM documents")}

    def documents(self, doc_id: str | None = None) -> list[IndexedDocument]:
        """Complete documents, all or the one named."""
        query, args = "SELECT * FROM documents WHERE status = 'complete'", ()
        if doc_id is not None:
            query, args = query + " AND doc_id = ?", (doc_id,)
        out = []
        for r in self.db.execute(query + " ORDER BY doc_id", args):
            meta = DocumentMeta.model_validate_json(r["meta"])
            out.append(
                IndexedDocument(
                    doc_id=r["doc_id"],
                    symbol=meta.symbol,
                    title=meta.title,
                    date=meta.date,
                    kind=meta.kind,
                    language=meta.language,
                    pages=r["pages"],
                    chunks=r["chunks"],
                    path=r["path"],
                    source=meta.source,
                    pages_inferred=bool(r["pages_inferred"]),
                )
            )
        return out

    def document_meta(self, doc_id: str) -> DocumentMeta | None:
        row = self.db.execute(
            "SELECT meta FROM documents WHERE doc_id = ? AND status = 'complete'", (doc_id,)
        ).fetchone()
        return DocumentMeta.model_validate_json(row["meta"]) if row else None

    def all_meta(self) -> dict[str, DocumentMeta]:
        return {
            r["doc_id"]: DocumentMeta.model_validate_json(r["meta"])
            for r in self.db.execute("SELECT doc_id, meta FROM documents WHERE status = 'complete'")
        }

    def page_text(self, doc_id: str, number: int) -> str | None:
        row = self.db.execute(
            "SELECT text FROM pages WHERE doc_id = ? AND number = ?", (doc_id, number)
        ).fetchone()
        return row["text"] if row else None

    def document_text(self, doc_id: str) -> str:
        """The text chunk offsets point into: the page texts joined by form feeds."""
        rows = self.db.execute(
            "SELECT text FROM pages WHERE doc_id = ? ORDER BY number", (doc_id,)
        ).fetchall()
        return "\f".join(r["text"] for r in rows)

    def pending(self) -> list[sqlite3.Row]:
        """Documents an ingest has begun and not committed (in progress, or left by a crash)."""
        return self.db.execute("SELECT * FROM documents WHERE status != 'complete'").fetchall()

    # --- passages ------------------------------------------------------------------------------

    def known_vectors(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = f"SELECT vector_id FROM vectors WHERE vector_id IN ({','.join('?' * len(part))})"
            found.update(r["vector_id"] for r in self.db.execute(q, part))
        return found

    def vector_texts(self, ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = f"SELECT vector_id, text FROM vectors WHERE vector_id IN ({','.join('?' * len(part))})"
            out.update((r["vector_id"], r["text"]) for r in self.db.execute(q, part))
        return out

    def passage_texts(self) -> Iterator[str]:
        """Every distinct passage text (for corpus statistics such as word rarity)."""
        rows = self.db.execute("SELECT text FROM vectors").fetchall()  # no cursor held across threads
        for row in rows:
            yield row["text"]

    # --- lookups for retrieval -----------------------------------------------------------------

    def locations(self, vector_ids: Sequence[str]) -> dict[str, list[sqlite3.Row]]:
        """Every chunk row of each vector, first-ingested first."""
        out: dict[str, list[sqlite3.Row]] = {v: [] for v in vector_ids}
        ids = list(vector_ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = (
                "SELECT c.*, c.rowid AS rid FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
                f"WHERE d.status = 'complete' AND c.vector_id IN ({','.join('?' * len(part))}) "
                "ORDER BY c.rowid"
            )
            for r in self.db.execute(q, part):
                out[r["vector_id"]].append(r)
        return out

    def following(self, chunk_ids: Sequence[str]) -> dict[str, sqlite3.Row]:
        """The chunk after each given one in its document (an operative paragraph's next
        sub-items, a chapeau's list), for those that have one."""
        out: dict[str, sqlite3.Row] = {}
        ids = list(chunk_ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = (
                "SELECT c.chunk_id AS source, n.* FROM chunks c "
                "JOIN chunks n ON n.doc_id = c.doc_id AND n.ordinal = c.ordinal + 1 "
                "JOIN documents d ON d.doc_id = n.doc_id "
                f"WHERE d.status = 'complete' AND c.chunk_id IN ({','.join('?' * len(part))})"
            )
            for r in self.db.execute(q, part):
                out[r["source"]] = r
        return out

    def paragraph_pages(self, doc_id: str, paragraph: str) -> list[int]:
        """The pages a numbered paragraph of a document stands on (empty when it has none such)."""
        rows = self.db.execute(
            "SELECT MIN(page_start) AS first, MAX(page_end) AS last FROM chunks c "
            "JOIN documents d ON d.doc_id = c.doc_id "
            "WHERE d.status = 'complete' AND c.doc_id = ? AND c.paragraph = ?",
            (doc_id, paragraph),
        ).fetchone()
        return list(range(rows["first"], rows["last"] + 1)) if rows and rows["first"] else []

    def vector_ids_of(self, doc_ids: set[str]) -> list[str]:
        ids = list(doc_ids)
        q = f"SELECT DISTINCT vector_id FROM chunks WHERE doc_id IN ({','.join('?' * len(ids))})"
        return [r["vector_id"] for r in self.db.execute(q, ids)] if ids else []

    def vectors_mentioning(self, phrases: Sequence[str], limit: int) -> list[str]:
        """Passages whose text contains one of the phrases verbatim (UN symbols, mostly)."""
        out: list[str] = []
        for phrase in phrases:
            rows = self.db.execute(
                "SELECT vector_id FROM vectors WHERE instr(text, ?) > 0 LIMIT ?", (phrase, limit)
            ).fetchall()
            out.extend(r["vector_id"] for r in rows if r["vector_id"] not in out)
        return out[:limit]

    def stats(self) -> dict[str, int]:
        q = self.db.execute
        return {
            "documents": q("SELECT COUNT(*) FROM documents WHERE status='complete'").fetchone()[0],
            "chunks": q("SELECT COUNT(*) FROM chunks").fetchone()[0],
            "vectors": q("SELECT COUNT(*) FROM vectors").fetchone()[0],
        }
