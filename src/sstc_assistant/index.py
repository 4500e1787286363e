"""The index: a SQLite catalog (source of truth for documents, pages, chunk locations), a vector
store (Chroma, embedded or server) and a BM25 index, kept in step by `ingest`.

Chroma and BM25 hold one entry per *distinct* passage (a vector id); the catalog maps every
location of that passage (document, pages, paragraph) to it, so duplicates are stored once and
every place they are stated is kept.

Each part is a module of its own (`index_catalog`, `vector_store`, `lexical`, and the writer lock
in `locking`); `Index` is the one object the rest of the code uses, and the writes that must
change them together are its own.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import StoreError
from .index_catalog import CATALOG_FILE, SCHEMA_VERSION, CatalogQueries, open_catalog
from .lexical import LexicalIndex
from .locking import LOCK_NAME, lower_thread_priority, writer_active, writer_lock
from .settings import Settings
from .types import Chunk, DocumentMeta, ParsedDocument
from .vector_store import ChromaStore, VectorStore

log = logging.getLogger("sstc")

# callers import these from here; the parts they belong to are modules of their own
__all__ = [
    "Index",
    "LexicalIndex",
    "StoreError",
    "lower_thread_priority",
    "wipe_index",
    "writer_lock",
]


class Index(CatalogQueries):
    """One named index: catalog + vectors + BM25, opened read-only or as the single writer."""

    def __init__(self, settings: Settings, *, create: bool = False) -> None:
        self.settings = settings
        self.path = settings.index_path
        if not create and not (self.path / CATALOG_FILE).exists():
            raise StoreError(
                f"no index '{settings.index}' at {self.path}: build it with "
                f"`sstc ingest --index {settings.index}`"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self.catalog_path = self.path / CATALOG_FILE
        self.db = open_catalog(self.catalog_path, settings.index)
        stat = self.catalog_path.stat()
        self.catalog_identity = (stat.st_dev, stat.st_ino)
        self._lexical_lock = threading.Lock()  # one BM25 build at a time; searches never take it
        self._refresher: threading.Thread | None = None
        self._refresher_guard = threading.Lock()
        self.vectors: VectorStore = ChromaStore(settings, self.path / "chroma", collection_name(self))
        self.lexical = LexicalIndex(self.path / "bm25")
        for name, (made, wanted) in self.vectors.hnsw_differences(settings).items():
            how = "`sstc ingest` applies it" if name == "ef_search" else "it applies to a rebuilt index only"
            log.warning(
                "SSTC_HNSW_%s=%s but index '%s' has %s: %s",
                name.upper(), wanted, settings.index, made, how,
            )  # fmt: skip

    # --- meta (reads in CatalogQueries) --------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def bump_generation(self) -> None:
        self.set_meta("generation", str(self.generation + 1))

    def check_embedder(self, name: str, *, claim: bool) -> None:
        """Refuse to mix vectors of two models in one index."""
        built = self.get_meta("embedder")
        if built and built != name:
            raise StoreError(
                f"index '{self.settings.index}' was built with embedder {built}, settings say "
                f"{name}: re-ingest with `sstc ingest --rebuild` or set SSTC_EMBEDDER={built}"
            )
        if not built and claim:
            with self.db:
                self.set_meta("embedder", name)
                self.set_meta("schema", SCHEMA_VERSION)

    # --- writer lock ---------------------------------------------------------------------------

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_NAME

    @contextlib.contextmanager
    def writer(self, wait: float = 0.0, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """The index's writer lock (see `writer_lock`), refused to a process whose catalog was
        replaced since it opened it: what it wrote would go into files a rebuild has deleted."""
        with writer_lock(self.settings, wait, on_wait):
            try:
                stat = self.catalog_path.stat()
                replaced = (stat.st_dev, stat.st_ino) != self.catalog_identity
            except OSError:
                replaced = True
            if replaced:
                raise StoreError(
                    f"the catalog {self.catalog_path} was replaced since this process opened it "
                    "(a rebuild?): restart this process"
                )
            # the one HNSW parameter an existing collection can take, set by its single writer
            if "ef_search" in self.vectors.hnsw_differences(self.settings):
                self.vectors.set_ef_search(self.settings.hnsw_ef_search)
                log.info(
                    "index '%s': HNSW ef_search set to %s", self.settings.index, self.settings.hnsw_ef_search
                )
            yield

    def writing(self) -> bool:
        """Whether this or another process holds the writer lock now (see `writer_active`)."""
        return writer_active(self.lock_path)

    # --- documents -----------------------------------------------------------------------------

    def begin_document(self, doc: ParsedDocument, catalog_sig: str = "") -> None:
        """Mark a document pending and drop its old locations, in one transaction."""
        with self.db:
            self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc.doc_id,))
            self.db.execute("DELETE FROM pages WHERE doc_id = ?", (doc.doc_id,))
            self.db.execute(
                "INSERT OR REPLACE INTO documents (doc_id, path, sha256, meta, pages, pages_inferred,"
                " chunks, catalog_sig, status) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'pending')",
                (
                    doc.doc_id,
                    doc.path,
                    doc.sha256,
                    doc.meta.model_dump_json(),
                    len(doc.pages),
                    int(doc.pages_inferred),
                    catalog_sig,
                ),
            )

    def begin_upload(self, doc_id: str, path: Path) -> None:
        """Record an upload before its file lands in the corpus, so a process killed before
        ingestion starts leaves a pending document that recovery finishes or forgets."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO documents (doc_id, path, sha256, meta, pages, chunks, status) "
                "VALUES (?, ?, '', ?, 0, 0, 'pending')",
                (doc_id, str(path), DocumentMeta(doc_id=doc_id).model_dump_json()),
            )

    def commit_document(
        self,
        doc: ParsedDocument,
        chunks: list[Chunk],
        vector_ids: list[str],
        new_vectors: dict[str, str],
    ) -> None:
        """Write the locations and flip the document to complete, atomically."""
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO vectors (vector_id, text) VALUES (?, ?)",
                list(new_vectors.items()),
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO pages (doc_id, number, text) VALUES (?, ?, ?)",
                [(doc.doc_id, p.number, p.text) for p in doc.pages],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO chunks (chunk_id, doc_id, ordinal, vector_id, text, "
                "page_start, page_end, char_start, char_end, paragraph, part, n_tokens) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.chunk_id,
                        c.doc_id,
                        c.ordinal,
                        v,
                        c.text,
                        c.page_start,
                        c.page_end,
                        c.char_start,
                        c.char_end,
                        c.paragraph,
                        c.part,
                        c.n_tokens,
                    )
                    for c, v in zip(chunks, vector_ids, strict=True)
                ],
            )
            self.db.execute(
                "UPDATE documents SET status = 'complete', chunks = ?, updated_at = CURRENT_TIMESTAMP"
                " WHERE doc_id = ?",
                (len(chunks), doc.doc_id),
            )
            self.bump_generation()

    def remove_document(self, doc_id: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            self.db.execute("DELETE FROM pages WHERE doc_id = ?", (doc_id,))
            self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            self.bump_generation()

    # --- passages ------------------------------------------------------------------------------

    def collect_garbage(self) -> int:
        """Drop vectors no location refers to, and store entries the catalog does not know
        (left by a run killed between the vector write and the catalog commit)."""
        with self.db:
            unused = [
                r["vector_id"]
                for r in self.db.execute(
                    "SELECT vector_id FROM vectors WHERE vector_id NOT IN "
                    "(SELECT DISTINCT vector_id FROM chunks)"
                )
            ]
            self.db.executemany("DELETE FROM vectors WHERE vector_id = ?", [(v,) for v in unused])
            if unused:
                self.bump_generation()
        known = {r["vector_id"] for r in self.db.execute("SELECT vector_id FROM vectors")}
        orphans = sorted(self.vectors.ids() - known)
        stale = sorted(set(unused) | set(orphans))
        if stale:
            self.vectors.delete(stale)
        return len(stale)

    def missing_vectors(self) -> list[str]:
        """Catalog vectors absent from the store (a damaged or replaced store)."""
        known = {r["vector_id"] for r in self.db.execute("SELECT vector_id FROM vectors")}
        return sorted(known - self.vectors.ids())

    def abandon_pending(self) -> list[str]:
        """Documents a killed run left half-written: forget them so this run redoes them."""
        pending = [
            r["doc_id"] for r in self.db.execute("SELECT doc_id FROM documents WHERE status != 'complete'")
        ]
        for doc_id in pending:
            self.remove_document(doc_id)
        return pending

    # --- lexical -------------------------------------------------------------------------------

    def refresh_lexical(self, *, save: bool) -> None:
        """(Re)build BM25 when the catalog moved on since it was built; swapped in whole when ready."""
        with self._lexical_lock:
            gen = self.generation
            if self.lexical.generation == gen:
                if save and self.lexical.saved_state() != (gen, len(self.lexical.ids)):
                    self.lexical.save()  # brought up to date by a query's background refresh
                return
            fresh = LexicalIndex(self.lexical.path)
            if fresh.load() and fresh.generation == gen:
                if save and fresh.saved_state() is None:
                    fresh.save()  # an index saved before the meta file existed
            else:
                rows = self.db.execute("SELECT vector_id, text FROM vectors ORDER BY vector_id").fetchall()
                fresh.build([r["vector_id"] for r in rows], [r["text"] for r in rows], gen)
                if save:
                    fresh.save()
            self.lexical = fresh

    def lexical_for_search(self) -> LexicalIndex:
        """The BM25 index a query should use now.

        A stale one (the catalog moved on: an upload here or in another process) is rebuilt on a
        low-priority background thread while queries go on with the previous one: rebuilding takes
        seconds on a large index, and a query that waited for it held up every answer queued
        behind it. Meanwhile new passages are found by dense search, and passages of removed
        documents are dropped when hits are resolved. Only when there is none yet does a query
        build it."""
        lexical = self.lexical
        if lexical.generation == self.generation:
            return lexical
        if lexical.generation < 0:
            self.refresh_lexical(save=False)
            return self.lexical
        with self._refresher_guard:
            if self._refresher is None or not self._refresher.is_alive():
                self._refresher = threading.Thread(
                    target=self._refresh_quietly, name="sstc-bm25", daemon=True
                )
                self._refresher.start()
        return lexical

    def _refresh_quietly(self) -> None:
        lower_thread_priority(self.settings.ingest_nice)
        try:
            self.refresh_lexical(save=False)
        except Exception:  # the next query tries again; never take a server thread down
            log.exception("rebuilding the BM25 index of '%s' failed", self.settings.index)

    def close(self) -> None:
        self.db.close()


def collection_name(index: Index) -> str:
    """The Chroma collection of an index, fixed when the index is created and kept in its catalog,
    so a renamed or copied index folder still finds its vectors."""
    name = index.get_meta("collection")
    if name is None:
        name = f"sstc-{index.settings.index}"
        with index.db:
            index.set_meta("collection", name)
    return name


def wipe_index(settings: Settings, wait: float = 0.0) -> None:
    """Delete an index entirely (`--rebuild`): catalog, vectors and BM25, under its writer lock (a
    caller that goes on to build it anew holds the lock around both). The lock file stays, so a
    process waiting for it waits on the same file as the one that holds it."""
    path = settings.index_path
    with writer_lock(settings, wait):
        if settings.chroma_url:
            name = f"sstc-{settings.index}"
            with contextlib.suppress(sqlite3.Error):
                db = sqlite3.connect(f"file:{path / CATALOG_FILE}?mode=ro", uri=True)
                row = db.execute("SELECT value FROM meta WHERE key = 'collection'").fetchone()
                db.close()
                name = row[0] if row else name
            with contextlib.suppress(StoreError):
                ChromaStore(settings, path / "chroma", name).drop()
        for entry in path.iterdir():
            if entry.name == LOCK_NAME:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
