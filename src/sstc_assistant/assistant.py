"""The one object every front end talks to: CLI, REST API, UI and benchmark."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np

from .answerability import QuestionView, TermWeights
from .answering import (
    Draft,
    ExtractiveGenerator,
    GenerativeGenerator,
    Generator,
    abstain,
    compose,
)
from .conversation import standalone
from .documents import SUPPORTED_SUFFIXES, DocumentError, doc_id_for, read_document
from .embeddings import Embedder, get_embedder
from .errors import StoreError, first_line
from .health import IndexHealth, check_index
from .index import Index, lower_thread_priority
from .ingest import Ingestor, IngestReport
from .references import unindexed_mandates
from .retrieval import Filters, Retriever
from .settings import RetrievalMode, Settings
from .types import Answer, IndexedDocument, SearchHit
from .versions import add_versions, question_language

MAX_QUESTION_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
log = logging.getLogger("sstc")
T = TypeVar("T")

# how long an upload or delete waits for another process's ingest before answering 503
WRITE_WAIT_SECONDS = 300.0


class FairSlots:
    """A counting semaphore that admits waiters strictly in arrival order.

    `threading.Semaphore` lets a newly arrived thread take a freed slot before the waiter it woke,
    and the loser goes back to the end of the queue: under load a few answers waited twice the
    average. Here the thread leaving hands its slot straight to the oldest waiter."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._lock = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()

    def __enter__(self) -> FairSlots:
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the thread that hands over its slot
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._free += 1

    @property
    def waiting(self) -> int:
        return len(self._waiters)


class IngestThread:
    """The one low-priority thread corpus changes run on: an upload being parsed and embedded takes
    the CPU only when the answers being computed leave it free."""

    def __init__(self, nice: int) -> None:
        self.nice = nice
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=1,
                    thread_name_prefix="sstc-ingest",
                    initializer=lower_thread_priority,
                    initargs=(self.nice,),
                )
        return self._pool.submit(fn, *args).result()


class Assistant:
    """Loads the embedder and opens the index once; safe to share between threads."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._feedback_lock = threading.Lock()
        self._ingest = IngestThread(self.settings.ingest_nice)
        # more answers at once than cores only makes every one slower (the models' thread pools
        # fight over the CPU); the rest wait their turn in order
        slots = self.settings.answer_concurrency or max(1, os.cpu_count() or 1)
        self._answer_slots = FairSlots(slots)

    @cached_property
    def index(self) -> Index:
        index = Index(self.settings)
        built = index.embedder_name
        if built and built != self.settings.embedder and self._embedder is None:
            # answer with the model the index was built with rather than refuse to start
            self.settings = self.settings.model_copy(update={"embedder": built})
        return index

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with contextlib.suppress(StoreError):
                _ = self.index  # learn which embedder built the index before loading one
        with self._lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings.embedder, self.settings.embed_batch_size)
        return self._embedder

    @cached_property
    def retriever(self) -> Retriever:
        index = self.index
        index.check_embedder(self.embedder.name, claim=False)
        return Retriever(index, self.embedder, self.settings)

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: RetrievalMode | None = None,
        filters: Filters | None = None,
    ) -> list[SearchHit]:
        query = clean_question(query)
        return self.retriever.search(query, k or self.settings.top_k, mode=mode, filters=filters)

    @cached_property
    def extractive(self) -> ExtractiveGenerator:
        english = None
        if self.settings.answer_embedder and self.settings.answer_embedder != self.embedder.name:
            english = get_embedder(self.settings.answer_embedder, self.settings.embed_batch_size)
        elif self.embedder.name == self.settings.answer_embedder:
            english = self.embedder
        return ExtractiveGenerator(self.embedder, self.settings, english, documents=self.index)

    @cached_property
    def generator(self) -> Generator:
        """The answer generator named by SSTC_GENERATOR; the backend loads once per process."""
        name = self.settings.generator
        if name == "extractive":
            return self.extractive
        from .citations import SupportChecker
        from .llm import backend_for

        backend = backend_for(self.settings)
        checker = SupportChecker(self.embedder.embed_passages, self.settings.support_min_similarity)
        return GenerativeGenerator(backend, checker, self.settings)

    def ask(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        k: int | None = None,
        filters: Filters | None = None,
        mode: RetrievalMode | None = None,
    ) -> Answer:
        """Retrieve `k` passages (all returned as sources), draft from the best few, and answer
        only when the evidence is strong enough."""
        question = clean_question(question)
        history = [_CONTROL.sub(" ", turn).strip()[:MAX_QUESTION_CHARS] for turn in history]
        arrived = time.perf_counter()
        with self._answer_slots:
            answer = self._answer(question, history, k, filters, mode)
        answer.timings_ms["queued"] = max(
            0.0, round((time.perf_counter() - arrived) * 1000 - answer.timings_ms["total"], 1)
        )
        answer.not_indexed = unindexed_mandates(answer, self.index)
        add_versions(answer, self.index)
        return answer

    def _answer(
        self,
        question: str,
        history: Sequence[str],
        k: int | None,
        filters: Filters | None,
        mode: RetrievalMode | None,
    ) -> Answer:
        t0 = time.perf_counter()
        query = standalone(question, [turn for turn in history if turn])
        view = self.question_view(query, question)
        # the question is embedded once: retrieval and (in other languages) sentence scoring share it
        vector = (
            None if (mode or self.settings.retrieval_mode) == "bm25" else self.embedder.embed_query(query)
        )
        hits = self.gather(query, view, k, mode=mode, filters=filters, vector=vector)
        lang = question_language(question)
        if hits and lang not in (None, "en"):  # an official translation in the question's language
            meta = self.retriever.catalogue().meta.get(hits[0].doc_id)
            view.same_language = meta is not None and meta.language == lang
        t1 = time.perf_counter()
        generator = self.generator
        # whether to answer is decided from retrieval evidence, before any model writes a word;
        # a follow-up's sentences are scored against the resolved question, its answer type as asked
        evidence = self.extractive.draft(view, hits, question_vector=vector) if hits else Draft([])
        draft, used = evidence, generator.name
        if evidence.claims and evidence.evidence >= evidence.threshold and generator is not self.extractive:
            try:
                draft = generator.draft(query, hits)  # the model sees the resolved question
            except Exception as exc:  # a down or failing LLM server: quote rather than fail
                reason = first_line(exc)
                log.warning("generator %s failed (%s): answering by quotation", generator.name, reason)
                draft = Draft([])
            draft.evidence = evidence.evidence
            if not draft.claims:  # nothing the model wrote survived verification: quote instead
                draft = Draft(
                    evidence.claims, draft.unsupported, evidence.evidence, evidence.threshold, evidence.layout
                )
                used = f"{generator.name}+extractive-fallback"
        t2 = time.perf_counter()
        resolved = query if query != question else None
        if not draft.claims or evidence.evidence < evidence.threshold:
            answer = abstain(
                question,
                hits,
                generator=used,
                standalone_question=resolved,
                unsupported=draft.unsupported,
            )
        else:
            answer = compose(question, draft, hits, self.index, generator=used, standalone_question=resolved)
        answer.confidence = round(evidence.evidence - evidence.threshold, 4)
        t3 = time.perf_counter()
        answer.timings_ms = {
            "retrieve": round((t1 - t0) * 1000, 1),
            "generate": round((t2 - t1) * 1000, 1),
            "total": round((t3 - t0) * 1000, 1),
        }
        return answer

    def gather(
        self,
        query: str,
        view: QuestionView,
        k: int | None = None,
        *,
        mode: RetrievalMode | None = None,
        filters: Filters | None = None,
        vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """The passages a question is answered from: `k` hits, more for a question that wants
        every point, with the passage after each strong hit (a list runs on past its chunk)."""
        s = self.settings
        k = k or s.top_k
        if not view.listing:
            return self.retriever.search(query, k, mode=mode, filters=filters, query_vector=vector)
        hits = self.retriever.search(
            query, max(k, s.answer_list_passages), mode=mode, filters=filters, query_vector=vector
        )
        return self.retriever.with_neighbours(hits, s.answer_list_neighbours)

    def question_view(self, text: str, asked: str | None = None) -> QuestionView:
        """What the answerability model needs to know of a question (`text` as resolved, `asked`
        as the user put it now)."""
        return QuestionView(
            text=text,
            asked=asked or text,
            weights=TermWeights.shipped(),
            named_docs=set(self.retriever.docs_named_in(text)),
            named_absent=bool(self.retriever.symbols_not_indexed(text)),
        )

    # --- corpus changes (API uploads) -------------------------------------------------------------

    def add_upload(self, filename: str, stream: BinaryIO) -> dict:
        """Save an uploaded file into the corpus and ingest it into the open index. A refused upload
        leaves no file behind and never replaces a document already indexed."""
        name = safe_filename(filename)
        limit = int(self.settings.max_file_mb * 1e6)
        folder = self.settings.resolve(self.settings.upload_dir or self.settings.corpus_dir)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        refuse_taken(self.index, target)
        tmp = folder / f".upload-{uuid.uuid4().hex}{Path(name).suffix}"
        too_large = f"{name}: file is over the {self.settings.max_file_mb:g} MB limit (SSTC_MAX_FILE_MB)"
        try:
            save_within(stream, tmp, limit, too_large)
            report = self._ingest.run(self._ingest_upload, tmp, target, limit)
        except DocumentError as exc:
            raise ValueError(f"{name}: {exc.reason}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        outcome = report.files[0]
        if outcome.status == "skipped":
            target.unlink(missing_ok=True)
            raise ValueError(f"{name}: {outcome.reason}")
        return outcome.model_dump()

    def _ingest_upload(self, tmp: Path, target: Path, limit: int) -> IngestReport:
        # parse before anything moves in: a bad file is refused with the reader's reason
        read_document(tmp, max_bytes=limit, max_pages=self.settings.max_pdf_pages)
        with self._write_lock, self.index.writer(wait=WRITE_WAIT_SECONDS):
            refuse_taken(self.index, target)  # another upload (or process) may have won the race
            # the catalog learns of the upload before its file lands: a crash from here on
            # leaves a pending document that the next start finishes (see `recover`)
            doc_id = doc_id_for(target)
            self.index.begin_upload(doc_id, target)
            tmp.rename(target)
            try:
                return Ingestor(self.settings, self.embedder).run([target], prune=False, index=self.index)
            except Exception:  # an error, not a crash: leave neither the file nor the record
                target.unlink(missing_ok=True)
                self.index.remove_document(doc_id)
                raise

    def remove_document(self, doc_id: str) -> None:
        """Forget a document; its file moves to `.deleted/` in its folder, so nothing is lost."""
        row = self._ingest.run(self._forget, doc_id)
        path = Path(row["path"])
        if path.is_file():
            trash = path.parent / ".deleted"
            trash.mkdir(exist_ok=True)
            path.rename(trash / f"{int(time.time())}-{path.name}")

    def _forget(self, doc_id: str) -> sqlite3.Row:
        with self._write_lock, self.index.writer(wait=WRITE_WAIT_SECONDS):
            row = self.index.document_rows().get(doc_id)
            if row is None:
                raise ValueError(f"no document '{doc_id}'")
            self.index.remove_document(doc_id)
            self.index.collect_garbage()
            self.index.refresh_lexical(save=True)
        return row

    def documents(self, doc_id: str | None = None) -> list[IndexedDocument]:
        """The indexed documents, all or the one named (none when it is not indexed)."""
        return self.index.documents(doc_id)

    def page_text(self, doc_id: str, page: int) -> str | None:
        """The text of a document's page (1-based), None past its last page."""
        return self.index.page_text(doc_id, page)

    def save_feedback(self, fields: Mapping[str, Any]) -> None:
        """Append a rating as one JSON line with the time it arrived (UI and API share the file)."""
        path = self.settings.resolve(self.settings.feedback_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **fields}
        with self._feedback_lock, path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def health(self, *, deep: bool = False) -> IndexHealth:
        try:
            return check_index(self.index, deep=deep)
        except StoreError as exc:  # the index could not even be opened
            health = IndexHealth(deep=deep)
            health.add("damaged", first_line(exc))
            return health

    def recover(self) -> list[str]:
        """At start: finish what a killed process left (pending uploads, orphan vectors, a stale
        BM25 copy) so the index is whole again; refuse to serve a damaged one.

        Returns what was done, one line each; raises StoreError when only a rebuild can help."""
        before = self.health()
        if before.status == "damaged":
            raise StoreError(f"index '{self.settings.index}' is damaged: {before.problems[0]}")
        if before.status == "ok" or before.writing:
            return []
        with self._write_lock, self.index.writer(wait=WRITE_WAIT_SECONDS):
            unfinished = {r["doc_id"]: Path(r["path"]) for r in self.index.pending()}
            report = Ingestor(self.settings, self.embedder).run(
                [p for p in unfinished.values() if p.is_file()], prune=False, index=self.index
            )
        done = [f"{f.doc_id}: {f.status}{f' ({f.reason})' if f.reason else ''}" for f in report.files]
        dropped = sorted(d for d, p in unfinished.items() if not p.is_file())
        notes = [f"finished interrupted ingest of {', '.join(done)}"] if done else []
        notes += (
            [f"forgot interrupted upload(s) whose file never landed: {', '.join(dropped)}"] if dropped else []
        )
        notes += [f"removed {report.removed_vectors} orphan vectors"] if report.removed_vectors else []
        return notes or [f"repaired: {'; '.join(before.problems)}"]


_RESERVED_NAMES = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(10)),
    *(f"LPT{i}" for i in range(10)),
}
MAX_NAME_BYTES = 180  # ext4 and most file systems allow 255 bytes; leaves room for prefixes


def refuse_taken(index: Index, target: Path) -> None:
    """An upload may add a document, never overwrite a file or an indexed document of that id."""
    if target.exists():
        raise ValueError(f"a document named {target.name} exists already: delete it first or rename the file")
    doc_id = doc_id_for(target)
    if index.documents(doc_id):
        raise ValueError(
            f"a document with the id '{doc_id}' is indexed already: delete it first or rename the file"
        )


def save_within(stream: BinaryIO, target: Path, limit: int, too_large: str) -> None:
    """Write `stream` to `target` a megabyte at a time; past `limit` bytes refuse it (ValueError
    `too_large`) without reading the rest."""
    size = 0
    with target.open("wb") as fh:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise ValueError(too_large)
            fh.write(chunk)


def clean_question(text: str) -> str:
    """A question as every front end hands it on: control characters out, not blank, bounded."""
    text = _CONTROL.sub(" ", text).strip()
    if not text:
        raise ValueError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


def safe_filename(filename: str) -> str:
    """The base name of an upload with letters and digits of any script kept (an Arabic or Chinese
    name stays recognisable) and everything else (separators, controls, bidi overrides, emoji,
    spaces) turned into `_`: safe on every file system and in a URL."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", filename or "")[-1])
    if not base.strip(" ."):
        raise ValueError("the upload has no usable file name")
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = _CONTROL.sub("?", suffix) or "(none)"
        raise ValueError(
            f"unsupported file type '{shown}' (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    stem = "".join(
        ch if unicodedata.category(ch)[0] in "LNM" or ch in "._-" else "_" for ch in base[: -len(suffix)]
    )
    stem = re.sub(r"_{2,}", "_", stem).strip("._-")
    if not stem:
        raise ValueError("the upload has no usable file name")
    if stem.split(".")[0].upper() in _RESERVED_NAMES:  # CON, NUL, ... are devices on Windows
        stem = f"_{stem}"
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip("._-") + suffix
