"""Answer generators and the rules that keep answers grounded.

Every generator turns (question, retrieved passages) into *claims*: a sentence plus the passage
that supports it. Claims become the answer text with `[n]` markers and the citation objects.
Whether to answer at all is decided from retrieval evidence, never by a generator's say-so.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .chunking import sentence_spans
from .citations import SupportChecker, pages_of_quote
from .dedup import containment
from .embeddings import Embedder
from .index import Index
from .questions import (
    answer_type,
    content_terms,
    countries,
    has_answer_type,
    is_english,
    names_ordinal,
    question_acronyms,
    question_facts,
    question_ordinals,
    spells_out,
    stem,
)
from .settings import Settings
from .types import Answer, Citation, SearchHit, Source

ABSTAIN_MESSAGE = "The documents do not address this question."


_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,30}\b(instructions?|prompts?|rules)\b|\breveal\b.{0,30}\b(key|settings|"
    r"prompt|password)s?\b|\bapi[ _-]?key\b|\bsystem prompt\b|\byou are now\b|\bas an ai\b",
    re.I,
)


def looks_like_instruction(text: str) -> bool:
    """Text that talks to the assistant (prompt injection) is never quoted as an answer."""
    return bool(_INSTRUCTION.search(text))


_MARKER_LIKE = re.compile(r"\[\s*\d{1,3}\s*\]")


def imitates_citations(text: str) -> bool:
    """A sentence carrying `[n]` markers of its own is never quoted: in an answer they would read as
    the assistant's citations (a fake `[1] A/RES/99/999, p. 3` planted in a document)."""
    return bool(_MARKER_LIKE.search(text))


def looks_like_prose(text: str) -> bool:
    """Table rows, figure labels and headers are not answers."""
    tokens = text.split()
    if len(tokens) < 4:
        return False
    words = [t for t in tokens if re.fullmatch(r"[(“\"]?[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’\-]*[.,;:)”\"]*", t)]
    lower = [t for t in words if t[:1].islower()]
    digits = [t for t in tokens if re.search(r"\d", t)]
    return len(words) >= 0.6 * len(tokens) and len(lower) >= 3 and len(digits) <= 0.3 * len(tokens)


@dataclass
class Claim:
    """A sentence of the answer and the passage (hit index) and quote that support it."""

    sentence: str
    hit: int
    quote: str
    score: float = 0.0


@dataclass
class Draft:
    claims: list[Claim]
    unsupported: list[str] = field(default_factory=list)
    evidence: float = 0.0  # best question-sentence score seen by the generator
    threshold: float = 0.0  # the abstention threshold that applies to that score


class Generator(Protocol):
    name: str

    def draft(self, question: str, hits: Sequence[SearchHit]) -> Draft: ...


class SentenceVectors:
    """A bounded LRU of answer-sentence vectors per embedder.

    Scoring a question's candidate sentences is most of an answer's cost, and the same popular
    passages are read again and again; a sentence's vector never changes, so it is computed once.
    Question vectors are not cached: every question pays its own embedding."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        if self.size == 0:
            return embedder.embed_passages(texts)
        keys = [(embedder.name, t) for t in texts]
        with self._lock:
            found = {k: self._vectors[k] for k in keys if k in self._vectors}
            for k in found:
                self._vectors.move_to_end(k)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            fresh = embedder.embed_passages([t for _, t in missing])
            found.update(zip(missing, fresh, strict=True))
            with self._lock:
                for k, v in zip(missing, fresh, strict=True):
                    self._vectors[k] = v
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        with self._lock:
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
        if not keys:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys])


@dataclass
class _Candidate:
    text: str
    hit: int
    score: float = 0.0


class ExtractiveGenerator:
    """Picks the retrieved sentences that best answer the question; never writes text of its own."""

    name = "extractive"

    def __init__(self, embedder: Embedder, settings: Settings, english: Embedder | None = None) -> None:
        self.embedder = embedder  # the retrieval model: reads every language it supports
        self.english = english  # sharper on English questions, and calibrated for abstention
        self.settings = settings
        self.vectors = SentenceVectors(settings.sentence_cache_size)

    def scorer(self, question: str) -> tuple[Embedder, float]:
        """The model that scores sentences for this question, and the abstention threshold for it."""
        if self.english is not None and is_english(question):
            return self.english, self.settings.abstain_threshold
        if self.embedder.name == "e5":
            return self.embedder, self.settings.abstain_threshold_e5
        return self.embedder, self.settings.abstain_threshold

    def candidates(self, hits: Sequence[SearchHit]) -> list[_Candidate]:
        out = []
        for i, hit in enumerate(hits[: self.settings.answer_passages]):
            for block in hit.text.split("\n\n"):
                for a, b in sentence_spans(block, clauses=False):
                    text = block[a:b].strip()
                    if (
                        looks_like_prose(text)
                        and not looks_like_instruction(text)
                        and not imitates_citations(text)
                    ):
                        out.append(_Candidate(text, i))
        return out

    def score(
        self,
        question: str,
        cands: list[_Candidate],
        hits: Sequence[SearchHit],
        question_vector: np.ndarray | None = None,
    ) -> None:
        """`question_vector`: the question as the retrieval model embedded it, reused when that
        model scores the sentences too (questions in other languages)."""
        if not cands:
            return
        embedder, _ = self.scorer(question)
        if question_vector is not None and embedder is self.embedder:
            q = question_vector
        else:
            q = embedder.embed_query(question)
        vecs = self.vectors.get(embedder, [c.text for c in cands])
        sims = vecs @ q
        terms = content_terms(question)
        spelled = {a: stem(a.lower()) for a in question_acronyms(question)}
        kind = answer_type(question)
        facts = question_facts(question)
        s = self.settings
        # a question in another language shares no words with English passages: its evidence is the
        # cross-lingual similarity alone (what it asks for is still checked, in `fitting`)
        cross = embedder.name == "e5" and not is_english(question)
        for cand, sim in zip(cands, sims, strict=True):
            passage = hits[cand.hit].text.lower()
            if cross:
                cand.score = float(sim) - s.answer_type_penalty * sum(f not in passage for f in facts)
                continue
            shared = terms & content_terms(cand.text)
            # "UNCTAD" in the question, "United Nations Conference on Trade and Development" in the text
            shared |= {
                t for a, t in spelled.items() if t in terms and t not in shared and spells_out(a, cand.text)
            }
            overlap = len(shared) / len(terms) if terms else 0.0
            cand.score = (
                float(sim)
                + s.answer_lexical_weight * overlap
                + 0.02 / (1 + cand.hit)
                + (s.answer_named_weight if "named" in hits[cand.hit].scores else 0.0)
                - (0.0 if has_answer_type(kind, cand.text, question) else s.answer_type_penalty)
                - s.answer_type_penalty * sum(f not in passage for f in facts)
            )

    @staticmethod
    def fitting(question: str, cands: list[_Candidate], hits: Sequence[SearchHit]) -> list[_Candidate]:
        """The sentences that could answer at all: holding what is asked (a figure, a year, a person),
        from a passage naming the same occurrence of what the question pins ("the twelfth Expo") and
        the States it names. Similar wording is not an answer to a question about something else."""
        kind = answer_type(question)
        ordinals = question_ordinals(question)
        states = countries(question)
        passage_fits: dict[int, bool] = {}
        out = []
        for cand in cands:
            if cand.hit not in passage_fits:
                hit = hits[cand.hit]
                context = f"{hit.title}\n{hit.text}"
                passage_fits[cand.hit] = (not states or states <= countries(context)) and all(
                    names_ordinal(context, ordinal, heads) for ordinal, heads in ordinals
                )
            if passage_fits[cand.hit] and (kind is None or has_answer_type(kind, cand.text, question)):
                out.append(cand)
        return out

    def draft(
        self, question: str, hits: Sequence[SearchHit], question_vector: np.ndarray | None = None
    ) -> Draft:
        cands = self.candidates(hits)
        self.score(question, cands, hits, question_vector)
        threshold = self.scorer(question)[1]
        if not cands:  # no sentence at all is no evidence: far below the threshold, not level with it
            return Draft([], evidence=0.0, threshold=threshold)
        fitting = self.fitting(question, cands, hits)
        if not fitting:  # below the threshold by construction, so the calibration sweep sees it too
            best_unfit = max(c.score for c in cands) - self.settings.answer_type_penalty
            return Draft([], evidence=min(best_unfit, threshold - 0.001), threshold=threshold)
        cands = fitting
        ranked = sorted(cands, key=lambda c: -c.score)
        best = ranked[0].score
        chosen: list[_Candidate] = []
        words = 0
        for cand in ranked:
            if len(chosen) >= self.settings.answer_max_sentences or words >= self.settings.answer_max_words:
                break
            if chosen and cand.score < best - self.settings.answer_score_margin:
                break
            if any(containment(cand.text, c.text) >= 0.8 for c in chosen):
                continue
            chosen.append(cand)
            words += len(cand.text.split())
        claims = [Claim(c.text, c.hit, c.text, c.score) for c in chosen]
        return Draft(claims, evidence=best, threshold=threshold)


class GenerativeGenerator:
    """An LLM phrases the answer from numbered passages; only verified sentences are kept."""

    def __init__(self, backend, checker: SupportChecker, settings: Settings) -> None:
        self.backend = backend
        self.checker = checker
        self.settings = settings
        self.name = backend.name

    def draft(self, question: str, hits: Sequence[SearchHit]) -> Draft:
        from .llm import build_messages, says_not_found

        passages = list(hits[: self.settings.llm_passages])
        text = self.backend.chat(build_messages(question, passages), max_tokens=self.settings.llm_max_tokens)
        if says_not_found(text) or not text.strip():
            return Draft([])
        return verify(text, passages, self.checker)


def split_claims(text: str, n_hits: int) -> Iterator[tuple[str, list[int]]]:
    """Sentences of generated text with the passage numbers their `[n]` markers name (1-based)."""
    for a, b in sentence_spans(text, clauses=False):
        sentence = text[a:b].strip()
        refs = [int(n) for n in re.findall(r"\[(\d{1,2})\]", sentence)]
        clean = re.sub(r"\s*\[\d{1,2}\](?:\s*,?\s*\[\d{1,2}\])*", "", sentence).strip()
        if clean:
            yield clean, [r for r in dict.fromkeys(refs) if 1 <= r <= n_hits]


def verify(text: str, hits: Sequence[SearchHit], checker: SupportChecker) -> Draft:
    """Keep generated sentences whose cited passage supports them; drop markers to nowhere."""
    claims: list[Claim] = []
    unsupported: list[str] = []
    for sentence, refs in split_claims(text, len(hits)):
        support = None
        for r in refs:
            s = checker.check(sentence, hits[r - 1].text)
            if s.supported:
                support = (r - 1, s)
                break
        if support is None:
            unsupported.append(sentence)
        else:
            hit, s = support
            claims.append(Claim(sentence, hit, s.quote, s.similarity))
    return Draft(claims, unsupported)


def is_follow_up(question: str) -> bool:
    q = question.lower().strip()
    if q.startswith(("and ", "what about", "how about", "also", "then ", "but ")):
        return True
    words = re.findall(r"[a-z']+", q)
    deictic = {
        "it",
        "its",
        "they",
        "their",
        "them",
        "this",
        "that",
        "these",
        "those",
        "there",
        "he",
        "she",
        "his",
        "her",
        "same",
        "former",
        "latter",
    }
    return len(words) <= 14 and bool(deictic & set(words))


def standalone(question: str, history: Sequence[str]) -> str:
    """Resolve a follow-up against the conversation: carry the previous question's terms."""
    if not history or not is_follow_up(question):
        return question
    return f"{history[-1].strip()} {question.strip()}"


def compose(
    question: str,
    draft: Draft,
    hits: Sequence[SearchHit],
    index: Index,
    *,
    generator: str,
    standalone_question: str | None,
) -> Answer:
    """Claims → answer text with `[n]` markers and citation objects with exact quotes and pages."""
    citations: list[Citation] = []
    keys: dict[tuple[int, str], int] = {}
    parts: list[str] = []
    for claim in draft.claims:
        hit = hits[claim.hit]
        key = (claim.hit, claim.quote)
        if key not in keys:
            pages = _quote_pages(index, hit, claim.quote)
            keys[key] = len(citations) + 1
            citations.append(
                Citation(
                    n=keys[key],
                    doc_id=hit.doc_id,
                    symbol=hit.symbol,
                    title=hit.title,
                    pages=pages,
                    paragraph=hit.paragraph,
                    quote=claim.quote,
                    chunk_id=hit.chunk_id,
                    score=round(hit.score, 4),
                    also_in=hit.also_in,
                )
            )
        sentence = claim.sentence.rstrip()
        parts.append(f"{sentence} [{keys[key]}]")
    return Answer(
        question=question,
        answer=" ".join(parts),
        answerable=True,
        citations=citations,
        sources=[to_source(h) for h in hits],
        unsupported=draft.unsupported,
        generator=generator,
        standalone_question=standalone_question,
    )


def abstain(
    question: str,
    hits: Sequence[SearchHit],
    *,
    generator: str,
    standalone_question: str | None,
    unsupported: list[str] | None = None,
) -> Answer:
    return Answer(
        question=question,
        answer=ABSTAIN_MESSAGE,
        answerable=False,
        citations=[],
        sources=[to_source(h) for h in hits],
        unsupported=unsupported or [],
        generator=generator,
        standalone_question=standalone_question,
    )


def to_source(hit: SearchHit) -> Source:
    return Source(
        doc_id=hit.doc_id,
        symbol=hit.symbol,
        title=hit.title,
        pages=hit.pages,
        paragraph=hit.paragraph,
        text=hit.text,
        chunk_id=hit.chunk_id,
        score=round(hit.score, 4),
        also_in=hit.also_in,
    )


def _quote_pages(index: Index, hit: SearchHit, quote: str) -> list[int]:
    if len(hit.pages) == 1:
        return hit.pages
    texts = {p: index.page_text(hit.doc_id, p) or "" for p in hit.pages}
    return pages_of_quote(texts, quote, hit.pages[0], hit.pages[-1])
