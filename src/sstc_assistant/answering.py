"""Answer generators and the rules that keep answers grounded.

Every generator turns (question, retrieved passages) into *claims*: a sentence plus the passage
that supports it. Claims become the answer text with `[n]` markers and the citation objects.
Whether to answer at all is decided from retrieval evidence, never by a generator's say-so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .answerability import AnswerabilityModel, Candidate, QuestionView, describe, is_candidate
from .caching import LRU
from .chunking import sentence_spans
from .citations import SupportChecker
from .dedup import containment
from .embeddings import Embedder
from .index import Index
from .lexicons import alternation, lexicon
from .questions import content_terms, countries, names_ordinal
from .quotes import quote_pages, whole_sentence
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


_HEADING_END = re.compile(r"[.;:!?…)\"”’\]]$")


def looks_like_prose(text: str) -> bool:
    """Table rows, figure labels, headings and headers are not answers."""
    tokens = text.split()
    if len(tokens) < 4:
        return False
    if len(tokens) <= 12 and not _HEADING_END.search(text.strip()):
        return False  # "I. Outcome of the fourth session", "Principle 5: Clarity in defining terrorism"
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
    layout: str = "prose"  # "list": one bullet per distinct point, in document order


class Generator(Protocol):
    name: str

    def draft(self, question: str, hits: Sequence[SearchHit]) -> Draft: ...


class SentenceVectors:
    """Answer-sentence vectors per embedder, the most recent `size` of them.

    Scoring a question's candidate sentences is most of an answer's cost, and the same popular
    passages are read again and again; a sentence's vector never changes, so it is computed once.
    Question vectors are not cached: every question pays its own embedding."""

    def __init__(self, size: int) -> None:
        self.cache: LRU[tuple[str, str], np.ndarray] = LRU(size)

    @property
    def hits(self) -> int:
        return self.cache.hits

    @property
    def misses(self) -> int:
        return self.cache.misses

    def get(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        keys = [(embedder.name, t) for t in texts]
        found = self.cache.found(keys)
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            fresh = list(zip(missing, embedder.embed_passages([t for _, t in missing]), strict=True))
            found.update(fresh)
            self.cache.put(fresh)
        return np.vstack([found[k] for k in keys])


class Documents(Protocol):
    """Where whole documents are read (the index)."""

    generation: int

    def document_text(self, doc_id: str) -> str: ...


class DocumentScope:
    """What a whole document names (States, occurrences of a series), read once per document and
    index generation: reading a long report for every question would cost more than answering."""

    def __init__(self, documents: Documents, size: int = 128) -> None:
        self.documents = documents
        self._states: LRU[tuple[int, str], set[str]] = LRU(size)
        self._ordinals: LRU[tuple[int, str, str, frozenset[str]], bool] = LRU(size)

    def states(self, doc_id: str) -> set[str]:
        key = (self.documents.generation, doc_id)
        return self._states.get(key, lambda: countries(self.documents.document_text(doc_id)))

    def names_ordinal(self, doc_id: str, ordinal: str, heads: set[str]) -> bool:
        key = (self.documents.generation, doc_id, ordinal, frozenset(heads))
        return self._ordinals.get(
            key, lambda: names_ordinal(self.documents.document_text(doc_id), ordinal, heads)
        )


class ExtractiveGenerator:
    """Picks the retrieved sentences that best answer the question; never writes text of its own.

    Which sentence answers, and whether any does, is the learned decision of `answerability`."""

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        settings: Settings,
        english: Embedder | None = None,
        model: AnswerabilityModel | None = None,
        documents: Documents | None = None,
    ) -> None:
        self.embedder = embedder  # the retrieval model: reads every language it supports
        self.english = english  # sharper on English questions
        self.settings = settings
        self._model = model
        self.vectors = SentenceVectors(settings.sentence_cache_size)
        self.scope = DocumentScope(documents) if documents is not None else None

    @property
    def model(self) -> AnswerabilityModel:
        """Loaded at the first answer (training computes features without a model)."""
        if self._model is None:
            self._model = AnswerabilityModel.load(embedder=self.embedder.name)
        return self._model

    def scorer(self, view: QuestionView) -> Embedder:
        """The model that scores sentences for this question: the English one reads an English
        question, or the English gloss of one in another language against English passages; the
        multilingual retrieval model reads the rest (a question with no gloss, or one read against
        an official translation in its own language)."""
        if self.english is not None and (view.english or (not view.same_language and view.words)):
            return self.english
        return self.embedder

    def threshold(self, view: QuestionView) -> float:
        """The calibrated threshold of the question's group, unless a setting overrides it."""
        s = self.settings
        override = s.abstain_threshold if self.model.group(view) == "english" else s.abstain_threshold_other
        return override if override is not None else self.model.groups[self.model.group(view)].threshold

    def can_answer(self, view: QuestionView, hit: SearchHit) -> bool:
        """A passage whose document never names a State the question names, or the occurrence it
        pins ("the twelfth Expo" where the text speaks of the eleventh), cannot answer it: a matter
        of logic, not of weighing evidence. The document, not only the passage, is read: a letter
        names its State on its first page and "the country" after."""
        context = f"{hit.title}\n{hit.text}"
        states = view.states - countries(context) if view.states else set()
        ordinals = [(o, h) for o, h in view.ordinals if not names_ordinal(context, o, h)]
        if not states and not ordinals:
            return True
        if self.scope is None:
            return False
        return states <= self.scope.states(hit.doc_id) and all(
            self.scope.names_ordinal(hit.doc_id, o, h) for o, h in ordinals
        )

    def candidates(self, hits: Sequence[SearchHit], passages: int | None = None) -> list[Candidate]:
        out = []
        budget = passages or self.settings.answer_passages
        for i, hit in enumerate(hits):
            if hit.follows is None:  # a passage added as a neighbour rides with its hit
                budget -= 1
                if budget < 0:
                    break
            for block in hit.text.split("\n\n"):
                for a, b in sentence_spans(block, clauses=False):
                    text = block[a:b].strip()
                    if (
                        len(text.split()) >= 2
                        and is_candidate(text)
                        and not looks_like_instruction(text)
                        and not imitates_citations(text)
                    ):
                        # a heading or a table row can answer ("Agenda item 24 (b)"), but seldom
                        # does: the learned decision weighs it
                        out.append(Candidate(text, i, prose=looks_like_prose(text)))
        return out

    def assess(
        self,
        view: QuestionView,
        hits: Sequence[SearchHit],
        question_vector: np.ndarray | None = None,
        *,
        score: bool = True,
    ) -> list[Candidate]:
        """Every candidate sentence with its features and (unless `score` is off, as in training)
        its probability of answering.

        `question_vector`: the question as the retrieval model embedded it, reused when that model
        scores the sentences too (questions in other languages)."""
        cands = self.candidates(hits, self.settings.answer_list_passages if view.listing else None)
        fits = {i: self.can_answer(view, hits[i]) for i in {c.hit for c in cands}}  # per passage
        cands = [c for c in cands if fits[c.hit]]
        if not cands:
            return cands
        embedder = self.scorer(view)
        if question_vector is not None and embedder is self.embedder:
            q = question_vector
        else:
            q = embedder.embed_query(view.words)
        sims = self.vectors.get(embedder, [c.text for c in cands]) @ q
        for cand, sim in zip(cands, sims, strict=True):
            cand.sim = float(sim)
        describe(view, cands, hits)
        if score:
            self.model.score(view, cands)
        return cands

    def draft(
        self,
        view: QuestionView,
        hits: Sequence[SearchHit],
        question_vector: np.ndarray | None = None,
    ) -> Draft:
        threshold = self.threshold(view)
        cands = self.assess(view, hits, question_vector)
        if not cands:  # no sentence at all is no evidence
            return Draft([], evidence=0.0, threshold=threshold)
        ranked = sorted(cands, key=lambda c: -c.probability)
        best = ranked[0].probability
        s = self.settings
        listing = view.listing
        most, margin = (
            (s.answer_list_points, s.answer_list_margin)
            if listing
            else (s.answer_max_sentences, s.answer_score_margin)
        )
        floor = max(best - margin, threshold / 2) if listing else max(threshold, best - margin)
        chosen: list[Candidate] = []
        words = 0
        for cand in ranked:
            if len(chosen) >= most or (not listing and words >= s.answer_max_words):
                break
            if chosen and cand.probability < floor:
                break
            if any(
                containment(cand.text, c.text) >= 0.8 or containment(c.text, cand.text) >= 0.8 for c in chosen
            ):
                continue
            chosen.append(cand)
            words += len(cand.text.split())
        if listing and len(chosen) > 1:  # bullets in the documents' order: by passage, then place
            first_doc = {hits[c.hit].doc_id: i for i, c in reversed(list(enumerate(ranked)))}
            chosen.sort(
                key=lambda c: (first_doc[hits[c.hit].doc_id], hits[c.hit].char_start or 0, cands.index(c))
            )
        claims = [Claim(c.text, c.hit, c.text, c.probability) for c in chosen]
        layout = "list" if listing and len(claims) > 1 else "prose"
        return Draft(claims, evidence=best, threshold=threshold, layout=layout)


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


_CHECKS = lexicon("verification")
_META_REFERENCE = alternation(_CHECKS["meta_references"])


def states_a_claim(sentence: str, passage: str) -> bool:
    """A generated sentence must say something of its own that its passage bears out: not talk
    about the sources ("These priorities were highlighted in the passage.") and share at least a
    few content words with the passage it cites."""
    if _META_REFERENCE.search(sentence):
        return False
    return len(content_terms(sentence) & content_terms(passage)) >= _CHECKS["min_shared_terms"]


def verify(text: str, hits: Sequence[SearchHit], checker: SupportChecker) -> Draft:
    """Keep generated sentences whose cited passage supports them; drop markers to nowhere and
    sentences that carry no claim of their own."""
    claims: list[Claim] = []
    unsupported: list[str] = []
    for sentence, refs in split_claims(text, len(hits)):
        support = None
        for r in refs:
            if not states_a_claim(sentence, hits[r - 1].text):
                continue
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
    docs: list[SearchHit] = []  # the passage of each part
    for claim in draft.claims:
        hit = hits[claim.hit]
        whole = whole_sentence(index, hit, claim.quote) if claim.quote == claim.sentence else None
        if whole is not None:  # never quote a piece a chunk boundary cut: read on and back
            claim = Claim(" ".join(whole[0].split()), claim.hit, whole[0], claim.score)
        key = (claim.hit, claim.quote)
        if key not in keys:
            pages = whole[1] if whole is not None else quote_pages(index, hit, claim.quote)
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
        parts.append(f"- {sentence} [{keys[key]}]" if draft.layout == "list" else f"{sentence} [{keys[key]}]")
        docs.append(hit)
    return Answer(
        question=question,
        answer=list_text(parts, docs) if draft.layout == "list" else " ".join(parts),
        answerable=True,
        layout="list" if draft.layout == "list" else "prose",
        citations=citations,
        sources=[to_source(h) for h in hits],
        unsupported=draft.unsupported,
        generator=generator,
        standalone_question=standalone_question,
    )


def list_text(bullets: Sequence[str], hits: Sequence[SearchHit]) -> str:
    """Bullets under a one-line lead; from several documents, grouped under each document's
    symbol and year (the draft already orders them by document, then place)."""
    order = list(dict.fromkeys(h.doc_id for h in hits))
    label = {h.doc_id: h.label + (f" ({h.date[:4]})" if h.date[:4].isdigit() else "") for h in hits}
    points = "point" if len(bullets) == 1 else "points"
    if len(order) == 1:
        return "\n".join([f"{len(bullets)} {points} in {label[order[0]]}:", *bullets])
    lines = [f"{len(bullets)} {points} in {len(order)} documents:"]
    for doc_id in order:
        lines.append(f"{label[doc_id]}:")
        lines += [b for b, h in zip(bullets, hits, strict=True) if h.doc_id == doc_id]
    return "\n".join(lines)


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
        follows=hit.follows,
    )
