"""Retrieval: dense (vector store) and lexical (BM25) search fused by weighted reciprocal rank,
with metadata filters and recognition of the UN documents a question names."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, NamedTuple

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from .catalog import symbol_from_name
from .dedup import containment
from .embeddings import Embedder
from .glossary import gloss
from .index import Index
from .lexicons import lexicon
from .questions import is_english
from .references import symbols_in
from .settings import RetrievalMode, Settings
from .types import DocKind, DocumentMeta, Location, SearchHit
from .versions import question_language, set_aside


class Filters(BaseModel):
    """Restrict retrieval to some documents; every field is optional and they combine with AND."""

    model_config = {"extra": "forbid"}

    doc_ids: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=200)
    kinds: list[DocKind] = Field(default_factory=list, max_length=10)
    symbols: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=200)
    year_from: int | None = Field(None, ge=1900, le=2100)
    year_to: int | None = Field(None, ge=1900, le=2100)

    @field_validator("symbols")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        return [s.strip().upper() for s in v if s.strip()]

    @model_validator(mode="after")
    def _years_in_order(self) -> Filters:
        """A reversed range would silently match nothing; say so instead."""
        if self.year_from and self.year_to and self.year_from > self.year_to:
            raise ValueError(f"year_from ({self.year_from}) is after year_to ({self.year_to})")
        return self

    @property
    def active(self) -> bool:
        return bool(self.doc_ids or self.kinds or self.symbols or self.year_from or self.year_to)

    def admits(self, meta: DocumentMeta | None) -> bool:
        if meta is None:
            return False
        if self.doc_ids and meta.doc_id not in self.doc_ids:
            return False
        if self.kinds and meta.kind not in self.kinds:
            return False
        if self.symbols and meta.symbol.upper() not in self.symbols:
            return False
        year = meta.year
        if self.year_from and (year is None or year < self.year_from):
            return False
        return not (self.year_to and (year is None or year > self.year_to))


# Named outcomes people use instead of symbols, in English and as the UN's other official
# languages name them (data/named_documents.json): a question in Chinese about the Buenos Aires
# outcome document is searched inside it as an English one is.
NAMED_DOCUMENTS = {d["pattern"]: d["symbol"] for d in lexicon("named_documents")["documents"]}
# digits bounded by non-digits, not by word boundaries: Chinese writes "第72/237号决议" with no space
_RESOLUTION = re.compile(
    r"\bresolutions?\s+(\d{2,3})/(\d{1,4})\b|(?<![\d/.])(\d{2,3})/(\d{1,4})(?![\d/])", re.IGNORECASE
)


def named_symbols(question: str) -> list[str]:
    """UN symbols a question names: `A/RES/72/237`, `resolution 72/237`, `BAPA+40`, ..."""
    found: list[str] = []
    inside: list[tuple[int, int]] = []
    for symbol, start, end in symbols_in(question, any_case=True):
        found.append(symbol.upper())  # as the catalogue keys them
        inside.append((start, end))
    for m in _RESOLUTION.finditer(question):
        if any(a <= m.start() < b for a, b in inside):
            continue  # the "80/39" of "A/80/39" is not resolution 80/39
        session, number = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if 40 <= int(session) <= 99:
            found.append(f"A/RES/{session}/{number}")
    for pattern, symbol in NAMED_DOCUMENTS.items():
        if re.search(pattern, question, re.IGNORECASE):
            found.append(symbol)
    return list(dict.fromkeys(found))


def without_names(question: str, min_terms: int = 1) -> str:
    """The question less the words that name a document, for searching inside that document.

    Every passage of a named document is about that document, so its name ("the twenty-second
    session of the High-level Committee on South-South Cooperation", "resolution 80/156") matches
    boilerplate and headings there; what tells its passages apart is the rest ("Who was the
    President ..."). Falls back to the whole question when too little would be left."""
    spans = [(start, end) for _, start, end in symbols_in(question, any_case=True)]
    spans += [m.span() for m in re.finditer(r"\bresolutions?\s+\d{2,3}/\d{1,4}\b", question, re.IGNORECASE)]
    spans += [m.span() for p in NAMED_DOCUMENTS for m in re.finditer(p, question, re.IGNORECASE)]
    if not spans:
        return question
    keep = [ch if not any(a <= i < b for a, b in spans) else " " for i, ch in enumerate(question)]
    rest = " ".join("".join(keep).split())
    words = [w for w in re.findall(r"[^\W_]{3,}", rest.lower()) if w not in _QUESTION_WORDS]
    return rest if len(words) >= min_terms else question


_QUESTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        "what which who whom whose when where why how did does do was were the its their and for with that this from about according",
    )
)


@dataclass
class _Catalogue:
    """Per-generation view of document metadata for filtering and symbol lookup."""

    generation: int
    meta: dict[str, DocumentMeta]
    by_symbol: dict[str, list[str]] = field(default_factory=dict)
    set_aside: dict[str, set[str]] = field(default_factory=dict)  # per question language

    def versions_set_aside(self, lang: str | None) -> set[str]:
        """Other-language versions of the documents that have one in `lang` (see versions.py)."""
        if lang is None:
            return set()
        if lang not in self.set_aside:
            self.set_aside[lang] = set_aside(self.meta, self.by_symbol, lang)
        return self.set_aside[lang]


class RankedList(NamedTuple):
    """One retriever's ranking: (vector id, its own score) best first, and its weight in fusion."""

    name: str
    ranked: list[tuple[str, float]]
    weight: float


def fuse(lists: Sequence[RankedList], rrf_k: int) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Weighted reciprocal rank fusion: each list adds weight / (rrf_k + rank) to every passage it
    ranks. Returns the fused score of each passage and every list's own score for it (the
    answerability features read them)."""
    fused: dict[str, float] = {}
    scores: dict[str, dict[str, float]] = {}
    for name, ranked, weight in lists:
        for rank, (vid, score) in enumerate(ranked):
            fused[vid] = fused.get(vid, 0.0) + weight / (rrf_k + rank + 1)
            scores.setdefault(vid, {})[name] = score
    return fused, scores


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._catalogue: _Catalogue | None = None
        self._reranker = None

    # --- catalogue -----------------------------------------------------------------------------

    def catalogue(self) -> _Catalogue:
        gen = self.index.generation
        with self._lock:
            if self._catalogue is None or self._catalogue.generation != gen:
                meta = self.index.all_meta()
                by_symbol: dict[str, list[str]] = {}
                for doc_id, m in meta.items():
                    for sym in {m.symbol.upper(), symbol_from_name(doc_id).upper()} - {""}:
                        by_symbol.setdefault(sym.rstrip("*"), []).append(doc_id)
                self._catalogue = _Catalogue(gen, meta, by_symbol)
            return self._catalogue

    def symbols_not_indexed(self, question: str) -> list[str]:
        """UN symbols a question names that no indexed document carries ("resolution 77/999")."""
        cat = self.catalogue()
        return [sym for sym in named_symbols(question) if sym not in cat.by_symbol]

    def docs_named_in(self, question: str) -> list[str]:
        cat = self.catalogue()
        out: list[str] = []
        for sym in named_symbols(question):
            out.extend(cat.by_symbol.get(sym, []))
        return list(dict.fromkeys(out))

    # --- search --------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        mode: RetrievalMode | None = None,
        filters: Filters | None = None,
        boost_named: bool = True,
        query_vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """`query_vector`: the query already embedded by the retrieval model (a caller that needs
        the vector too embeds once)."""
        query = query.strip()
        if not query:
            return []
        mode = mode or self.settings.retrieval_mode
        filters = filters or Filters()
        cat = self.catalogue()
        allowed = {d for d, m in cat.meta.items() if filters.admits(m)} if filters.active else None
        # a document in the question's language is read in it: its other versions step aside
        aside = cat.versions_set_aside(question_language(query))
        if aside:
            allowed = (allowed if allowed is not None else set(cat.meta)) - aside
        named = self.docs_named_in(query) if boost_named else []
        if allowed is not None:
            named = [d for d in named if d in allowed]
        fetch = max(k * 4, 40)
        qvec = (
            None
            if mode == "bm25"
            else query_vector
            if query_vector is not None
            else self.embedder.embed_query(query)
        )
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        if qvec is not None:
            if allowed is not None and len(allowed) <= 50:
                dense = self._dense_within(qvec, allowed, fetch)
            else:
                dense = self.index.vectors.query(qvec[None, :], fetch * (3 if allowed else 1))[0]
        glossed: list[tuple[str, float]] = []
        if mode != "dense":
            keyword = self.index.lexical_for_search()
            # a question in another language meets English passages through its English gloss, and
            # an official translation (and the figures and symbols it shares) through its own words:
            # one search over both, so the untranslated words are not counted as a second opinion
            if not is_english(query) and (english := gloss(query)):
                glossed = keyword.search(f"{query} {english}", fetch * (3 if allowed else 1))
            else:
                lexical = keyword.search(query, fetch * (3 if allowed else 1))
        inner = without_names(query) if named else query
        inner_vec = qvec if inner == query or qvec is None else self.embedder.embed_query(inner)
        named_dense = (
            self._dense_within(inner_vec, set(named), fetch) if named and inner_vec is not None else []
        )
        named_lexical = self._lexical_within(inner, set(named), fetch) if named and mode != "dense" else []
        mentions = self._mentions(query, fetch)

        s = self.settings
        lists = [
            RankedList("dense", dense, s.rrf_dense_weight if mode != "dense" else 1.0),
            RankedList("bm25", lexical, s.rrf_bm25_weight if mode != "bm25" else 1.0),
            RankedList("gloss_bm25", glossed, s.rrf_bm25_weight if mode != "bm25" else 1.0),
            RankedList("named", named_dense, s.rrf_named_weight),
            RankedList("named_bm25", named_lexical, s.rrf_named_weight),
            RankedList("mention", mentions, s.rrf_named_weight),
        ]
        fused, scores = fuse(lists, s.rrf_k)
        order = sorted(fused, key=lambda v: -fused[v])
        if mode == "hybrid+rerank":
            order = self._rerank(query, order[: max(k * 4, 20)], scores) + order[max(k * 4, 20) :]
        if qvec is not None:
            self._fill_dense_scores(qvec, order[: k * 3], scores)
        hits = self._hits(order, scores, fused, allowed, set(named), k)
        return hits

    def _rerank(self, query: str, ids: list[str], scores: dict[str, dict[str, float]]) -> list[str]:
        """Optional cross-encoder stage; only with a local model (none ships offline on PyPI)."""
        if self.settings.reranker_model is None:
            raise ValueError(
                "no reranker configured: set SSTC_RERANKER_MODEL to a local cross-encoder folder"
            )
        with self._lock:
            if self._reranker is None:
                from sentence_transformers import CrossEncoder

                self._reranker = CrossEncoder(
                    str(self.settings.reranker_model), device="cpu", local_files_only=True
                )
        texts = self.index.vector_texts(ids)
        ids = [i for i in ids if i in texts]
        ranks = self._reranker.predict([(query, texts[i]) for i in ids], show_progress_bar=False)
        for vid, score in zip(ids, ranks, strict=True):
            scores.setdefault(vid, {})["rerank"] = float(score)
        return [vid for _, vid in sorted(zip(ranks, ids, strict=True), key=lambda t: -t[0])]

    def _lexical_within(self, query: str, doc_ids: set[str], k: int) -> list[tuple[str, float]]:
        """BM25 restricted to the documents a question names. Inside them too, a question in
        another language meets English passages through its gloss (and an official translation
        through its own words)."""
        wanted = set(self.index.vector_ids_of(doc_ids))
        if not wanted:
            return []
        words = query if is_english(query) else f"{query} {gloss(query)}"
        ranked = self.index.lexical_for_search().search(words, max(200, k * 10))
        return [(vid, score) for vid, score in ranked if vid in wanted][:k]

    def _mentions(self, query: str, k: int) -> list[tuple[str, float]]:
        """Passages that quote a UN symbol the question names (e.g. a report not in the index)."""
        symbols = [symbol for symbol, _, _ in symbols_in(query, any_case=True)]
        if not symbols:
            return []
        return [(vid, 1.0) for vid in self.index.vectors_mentioning(symbols, k)]

    def _dense_within(self, qvec: np.ndarray, doc_ids: set[str], k: int) -> list[tuple[str, float]]:
        """Exact search over the vectors of a few documents (filters, named documents)."""
        if not doc_ids:
            return []
        ids = self.index.vector_ids_of(doc_ids)
        if not ids:
            return []
        embs = self.index.vectors.get_embeddings(ids)
        if not embs:
            return []
        keys = list(embs)
        mat = np.asarray([embs[i] for i in keys], dtype=np.float32)
        sims = mat @ qvec
        top = np.argsort(-sims)[:k]
        return [(keys[i], float(sims[i])) for i in top]

    def _fill_dense_scores(
        self, qvec: np.ndarray, ids: list[str], scores: dict[str, dict[str, float]]
    ) -> None:
        need = [v for v in ids if "dense" not in scores.get(v, {})]
        if not need:
            return
        embs = self.index.vectors.get_embeddings(need)
        for vid, emb in embs.items():
            scores.setdefault(vid, {})["dense"] = float(np.asarray(emb, dtype=np.float32) @ qvec)

    def _hits(
        self,
        order: list[str],
        scores: dict[str, dict[str, float]],
        fused: dict[str, float],
        allowed: set[str] | None,
        named: set[str],
        k: int,
    ) -> list[SearchHit]:
        cat = self.catalogue()
        hits: list[SearchHit] = []
        step = max(k * 3, 30)
        for start in range(0, len(order), step):
            batch = order[start : start + step]
            locs = self.index.locations(batch)
            for vid in batch:
                rows = locs.get(vid) or []
                rows_ok = [r for r in rows if r["doc_id"] in allowed] if allowed is not None else rows
                if not rows_ok:
                    continue
                preferred = [r for r in rows_ok if r["doc_id"] in named] or rows_ok
                primary = preferred[0]
                meta = cat.meta.get(primary["doc_id"]) or DocumentMeta(doc_id=primary["doc_id"])
                also = []
                for r in rows:  # every other place the passage stands, repeats on one page included
                    if r["chunk_id"] == primary["chunk_id"]:
                        continue
                    also.append(
                        Location(
                            doc_id=r["doc_id"],
                            pages=list(range(r["page_start"], r["page_end"] + 1)),
                            paragraph=r["paragraph"],
                        )
                    )
                twin = next((h for h in hits if containment(h.text, primary["text"]) >= 0.9), None)
                if twin is not None:  # the same passage, quoted within another: one slot
                    twin.also_in.append(
                        Location(
                            doc_id=primary["doc_id"],
                            paragraph=primary["paragraph"],
                            pages=list(range(primary["page_start"], primary["page_end"] + 1)),
                        )
                    )
                    continue
                sc = dict(scores.get(vid, {}))
                sc["fused"] = fused[vid]
                if primary["doc_id"] in named:
                    sc.setdefault("named", sc.get("dense", 0.0))
                hits.append(_hit(primary, meta, sc, also))
                if len(hits) >= k:
                    return hits
        return hits

    def with_neighbours(self, hits: Sequence[SearchHit], top: int) -> list[SearchHit]:
        """`hits` with the next passage of each of the first `top` placed right after it, unless
        already there: an operative paragraph's sub-items (a)…(k) and a chapeau's list run on
        past the chunk a question's words found. An added passage names its hit in `follows`."""
        have = {h.chunk_id for h in hits}
        nexts = self.index.following([h.chunk_id for h in hits[:top]]) if top > 0 else {}
        cat = self.catalogue()
        out: list[SearchHit] = []
        for hit in hits:
            out.append(hit)
            row = nexts.get(hit.chunk_id)
            if row is None or row["chunk_id"] in have:
                continue
            have.add(row["chunk_id"])
            meta = cat.meta.get(row["doc_id"]) or DocumentMeta(doc_id=row["doc_id"])
            added = _hit(row, meta, {"fused": hit.scores.get("fused", 0.0)}, [])
            out.append(added.model_copy(update={"follows": hit.chunk_id}))
        return out


def _hit(row: sqlite3.Row, meta: DocumentMeta, scores: dict[str, float], also: list[Location]) -> SearchHit:
    """A catalog chunk row as a retrieved passage."""
    return SearchHit(
        chunk_id=row["chunk_id"],
        vector_id=row["vector_id"],
        doc_id=row["doc_id"],
        symbol=meta.symbol,
        title=meta.title,
        kind=meta.kind,
        date=meta.date,
        text=row["text"],
        pages=list(range(row["page_start"], row["page_end"] + 1)),
        paragraph=row["paragraph"],
        part=row["part"],
        char_start=row["char_start"],
        char_end=row["char_end"],
        score=round(scores.get("dense", 0.0), 4),
        scores=scores,
        also_in=also,
    )
