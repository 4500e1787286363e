"""Ingestion: files → parsed pages → chunks → embeddings → index, incremental and idempotent.

Order of writes makes a killed run harmless: a document is marked pending, its vectors are
upserted, then its locations are committed with the document flipped to complete in one SQLite
transaction. The next run forgets pending documents and drops store entries nobody refers to.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from .catalog import Catalog, CatalogError
from .chunking import chunk_document
from .dedup import content_id, similar
from .documents import DocumentError, doc_id_for, iter_corpus_files, read_document
from .embeddings import Embedder, get_embedder
from .index import Index, wipe_index
from .locking import writer_lock
from .settings import Settings
from .types import Chunk

Progress = Callable[[str, int, int], None]


def _pipeline_code_hash() -> str:
    """Readers and chunker code: when it changes, files are re-read (their vectors are reused)."""
    from . import catalog, chunking, cleaning, documents

    digest = hashlib.sha256()
    for module in (documents, cleaning, chunking, catalog):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


PIPELINE_VERSION = _pipeline_code_hash()


class FileOutcome(BaseModel):
    path: str
    doc_id: str
    status: str  # added | updated | unchanged | skipped | removed
    reason: str = ""
    pages: int = 0
    chunks: int = 0
    new_vectors: int = 0


class IngestReport(BaseModel):
    index: str
    embedder: str
    files: list[FileOutcome] = Field(default_factory=list)
    chunks_added: int = 0
    vectors_added: int = 0
    duplicates_merged: int = 0
    removed_vectors: int = 0
    recovered_pending: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    pages_parsed: int = 0
    chunks_embedded: int = 0

    def by_status(self, status: str) -> list[FileOutcome]:
        return [f for f in self.files if f.status == status]

    @property
    def ingested_any(self) -> bool:
        return any(f.status in ("added", "updated", "unchanged") for f in self.files)


class Ingestor:
    """Runs one ingestion against one index; holds the writer lock for its duration."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """Loaded on first use, so a run with nothing new to embed starts in a blink."""
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder, self.settings.embed_batch_size)
        return self._embedder

    @property
    def max_tokens(self) -> int:
        return min(self.settings.chunk_max_tokens, self.embedder.max_tokens)

    @property
    def pipeline_signature(self) -> str:
        """Changes when parsing or chunking would give other chunks, so files are re-read."""
        s = self.settings
        return f"v{PIPELINE_VERSION}:{s.chunk_max_tokens}:{s.chunk_min_tokens}:{s.chunk_overlap_tokens}"

    @property
    def embedder_name(self) -> str:
        return self._embedder.name if self._embedder is not None else self.settings.embedder

    def run(
        self,
        paths: Sequence[Path] | None = None,
        *,
        rebuild: bool = False,
        prune: bool = True,
        progress: Progress | None = None,
        index: Index | None = None,
        lock_wait: float = 0.0,
        on_wait: Callable[[], None] | None = None,
    ) -> IngestReport:
        """Ingest files/folders (None: the corpus; [] none, only recovery); with `index`, into that
        open index (a serving process), waiting up to `lock_wait` s for another writer (`on_wait`
        is called if it must)."""
        started = time.perf_counter()
        roots = [Path(p).resolve() for p in (self.settings.default_sources if paths is None else paths)]
        with contextlib.ExitStack() as rebuilding:
            if rebuild:
                if index is not None:
                    raise ValueError("cannot rebuild an index that is open for serving")
                # held from the deletion until the new index is complete: no other writer in between
                rebuilding.enter_context(writer_lock(self.settings, lock_wait, on_wait))
                wipe_index(self.settings)
            own = index is None
            index = index or Index(self.settings, create=True)
            report = IngestReport(index=self.settings.index, embedder=self.embedder_name)
            try:
                with index.writer(lock_wait, on_wait):
                    index.check_embedder(self.embedder_name, claim=True)
                    report.recovered_pending = index.abandon_pending()
                    self._ingest_files(index, roots, report, prune=prune, progress=progress)
                    report.removed_vectors = index.collect_garbage()
                    missing = index.missing_vectors()
                    if missing:
                        self._restore_vectors(index, missing)
                    index.refresh_lexical(save=True)
            finally:
                if own:
                    index.close()
        report.seconds = time.perf_counter() - started
        return report

    # --- steps ---------------------------------------------------------------------------------

    def _ingest_files(
        self,
        index: Index,
        roots: list[Path],
        report: IngestReport,
        *,
        prune: bool,
        progress: Progress | None,
    ) -> None:
        missing_roots = [r for r in roots if not r.exists()]
        for r in missing_roots:
            report.files.append(
                FileOutcome(path=str(r), doc_id="", status="skipped", reason="no such file or folder")
            )
        roots = [r for r in roots if r.exists()]
        files = iter_corpus_files(roots)
        try:
            catalog = Catalog.load(
                [r if r.is_dir() else r.parent for r in roots] + [self.settings.corpus_path]
            )
        except CatalogError as exc:
            report.files.append(FileOutcome(path="catalog", doc_id="", status="skipped", reason=str(exc)))
            catalog = Catalog()
        known = index.document_rows()
        seen: dict[str, str] = {}
        max_bytes = int(self.settings.max_file_mb * 1e6)
        for n, path in enumerate(files):
            doc_id = doc_id_for(path)
            if progress:
                progress(path.name, n, len(files))
            if doc_id in seen:
                report.files.append(
                    FileOutcome(
                        path=str(path),
                        doc_id=doc_id,
                        status="skipped",
                        reason=f"same document id as {seen[doc_id]} (file names must be unique)",
                    )
                )
                continue
            seen[doc_id] = str(path)
            outcome = self._ingest_one(index, path, doc_id, known.get(doc_id), catalog, max_bytes)
            report.files.append(outcome)
            report.pages_parsed += outcome.pages if outcome.status in ("added", "updated") else 0
            if outcome.status in ("added", "updated"):
                report.chunks_added += outcome.chunks
                report.vectors_added += outcome.new_vectors
                report.chunks_embedded += outcome.chunks
                report.duplicates_merged += outcome.chunks - outcome.new_vectors
        if progress:
            progress("", len(files), len(files))
        if prune:
            for doc_id, row in known.items():
                p = Path(row["path"])
                if doc_id in seen or p.exists():
                    continue
                if any(p == r or r in p.parents for r in roots):
                    index.remove_document(doc_id)
                    report.files.append(
                        FileOutcome(
                            path=str(p),
                            doc_id=doc_id,
                            status="removed",
                            reason="file no longer in the corpus",
                        )
                    )

    def _ingest_one(
        self, index: Index, path: Path, doc_id: str, row, catalog: Catalog, max_bytes: int
    ) -> FileOutcome:
        try:
            signature = f"{self.pipeline_signature}|{catalog.signature(doc_id, path)}"
            if row is not None and row["status"] == "complete":
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if (digest, str(path), signature) == (row["sha256"], row["path"], row["catalog_sig"]):
                    return FileOutcome(
                        path=str(path),
                        doc_id=doc_id,
                        status="unchanged",
                        pages=row["pages"],
                        chunks=row["chunks"],
                    )
            doc = read_document(path, catalog, max_bytes=max_bytes, max_pages=self.settings.max_pdf_pages)
        except DocumentError as exc:
            return FileOutcome(path=str(path), doc_id=doc_id, status="skipped", reason=exc.reason)
        except (OSError, CatalogError) as exc:
            return FileOutcome(path=str(path), doc_id=doc_id, status="skipped", reason=str(exc))
        chunks = chunk_document(
            doc,
            self.embedder.count_tokens,
            self.max_tokens,
            self.settings.chunk_min_tokens,
            self.settings.chunk_overlap_tokens,
        )
        if not chunks:
            return FileOutcome(
                path=str(path), doc_id=doc_id, status="skipped", reason="no text to index after clean-up"
            )
        index.begin_document(doc, signature)
        vector_ids, new_vectors = self._vectors_for(index, chunks)
        index.commit_document(doc, chunks, vector_ids, new_vectors)
        return FileOutcome(
            path=str(path),
            doc_id=doc_id,
            status="updated" if row is not None else "added",
            pages=len(doc.pages),
            chunks=len(chunks),
            new_vectors=len(new_vectors),
        )

    def _vectors_for(self, index: Index, chunks: list[Chunk]) -> tuple[list[str], dict[str, str]]:
        """Map each chunk to a stored vector: an identical or near-identical one, else a new one."""
        ids = [content_id(c.text) for c in chunks]
        existing = index.known_vectors(ids)
        todo = [i for i, v in enumerate(ids) if v not in existing]
        # identical passages repeated inside this document share the first one's id
        first: dict[str, int] = {}
        fresh = []
        for i in todo:
            if ids[i] in first:
                continue
            first[ids[i]] = i
            fresh.append(i)
        if not fresh:
            return ids, {}
        texts = [chunks[i].text for i in fresh]
        vecs = self.embedder.embed_passages(texts)
        threshold = self.settings.dedup_threshold
        # near-duplicates already in the index
        neighbours = index.vectors.query(vecs, 2)
        cand_ids = {vid for hits in neighbours for vid, score in hits if score >= threshold}
        cand_texts = index.vector_texts(list(cand_ids))
        keep: list[int] = []
        for j, i in enumerate(fresh):
            match = next(
                (
                    vid
                    for vid, score in neighbours[j]
                    if score >= threshold
                    and vid in cand_texts
                    and similar(chunks[i].text, cand_texts[vid]) >= threshold
                ),
                None,
            )
            if match:
                ids[i] = match
            else:
                keep.append(j)
        # near-duplicates inside this document
        sims = vecs @ vecs.T
        final: list[int] = []
        for j in keep:
            i = fresh[j]
            twin = next(
                (
                    fresh[k]
                    for k in final
                    if sims[j, k] >= threshold and similar(chunks[i].text, chunks[fresh[k]].text) >= threshold
                ),
                None,
            )
            if twin is not None:
                ids[i] = ids[twin]
            else:
                final.append(j)
        for i in todo:  # repeats point at whatever their first occurrence became
            ids[i] = ids[first[content_id(chunks[i].text)]]
        new = {ids[fresh[j]]: chunks[fresh[j]].text for j in final}
        if new:
            index.vectors.upsert(list(new), vecs[final], list(new.values()))
        return ids, new

    def _restore_vectors(self, index: Index, missing: list[str]) -> None:
        """The store lost entries the catalog has (e.g. a wiped Chroma server): re-embed them."""
        texts = index.vector_texts(missing)
        order = [v for v in missing if v in texts]
        for i in range(0, len(order), 256):
            part = order[i : i + 256]
            vecs = self.embedder.embed_passages([texts[v] for v in part])
            index.vectors.upsert(part, vecs, [texts[v] for v in part])


def ingest(
    settings: Settings,
    paths: Sequence[Path] | None = None,
    *,
    rebuild: bool = False,
    prune: bool = True,
    progress: Progress | None = None,
    lock_wait: float = 0.0,
    on_wait: Callable[[], None] | None = None,
) -> IngestReport:
    return Ingestor(settings).run(
        paths, rebuild=rebuild, prune=prune, progress=progress, lock_wait=lock_wait, on_wait=on_wait
    )
