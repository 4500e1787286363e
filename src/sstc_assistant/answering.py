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
from .settings import Settings
from .types import Answer, Citation, SearchHit, Source

ABSTAIN_MESSAGE = "The documents do not address this question."

_STOPWORD_TEXT = """
a about above after again all also am an and any are as at be been being both but by can could
did do does doing done during each few for from further had has have having he her here hers him
his how i if in into is it its itself just me more most my no nor not now of off on once only or
other our ours out over own same she should so some such than that the their theirs them then
there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours shall may might must per via upon within
without whose tell say said says according document documents ask asked asks state stated please
give
"""
STOPWORDS = frozenset(re.split(r"\s+", _STOPWORD_TEXT.strip()))
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/+\-]*")


_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ed", "es", "s", "e", "y")


def stem(word: str) -> str:
    """A light suffix fold so `initiated`/`initiate` and `priorities`/`priority` meet."""
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> set[str]:
    """Stemmed, lower-cased content words: what a question (or sentence) is about."""
    out = set()
    for tok in _TOKEN.findall(text.lower()):
        tok = tok.strip("-/")
        if len(tok) < 2 or tok in STOPWORDS:
            continue
        out.add(stem(tok))
    return out


_ASKS_YEAR = re.compile(r"\b(what|which) year\b|\bwhen\b|\bin what year\b|\bwhat date\b", re.I)
_ASKS_NUMBER = re.compile(
    r"\bhow (many|much)\b|\bnumber of\b|\bwhat (percentage|share|amount|proportion|total|budget)\b|"
    r"\b(total|annual) (value|budget|amount)\b|\bhow large\b",
    re.I,
)
_ASKS_PERSON = re.compile(r"^\s*(who|whom)\b|\bwhich (ambassador|person|official|minister)\b", re.I)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_FIGURE = re.compile(r"(?<![/\d])\d[\d,.]*(?![/\d])")
_PERSON = re.compile(
    r"\b(Mr|Ms|Mrs|Dr|H\.E)\.?\s+[A-Z]|\b[A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ\-]+)+\s+\([A-Z][A-Za-z ]+\)"
)
_QUESTION_FACT = re.compile(
    r"(?<![/\d])(?:19|20)\d{2}(?![/\d])|\b(?:first|second|third|fourth|fifth|sixth|seventh|"
    r"eighth|ninth|tenth|eleventh|twelfth|[a-z]+ty-[a-z]+)\b",
    re.I,
)


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for, when a sentence can be checked for it."""
    if _ASKS_YEAR.search(question):
        return "year"
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_PERSON.search(question):
        return "person"
    return None


_MONEY_QUESTION = re.compile(
    r"\b(money|fund(s|ing)?|budget|dollars?|usd|contributions?|pledged?|financ\w*|cost)\b", re.I
)
_MONEY = re.compile(r"[$€£]|\b(US\$|USD|EUR|dollars?|euros?|million|billion)\b", re.I)
_DAY_OF_MONTH = re.compile(
    r"\b\d{1,2}(?:\s*(?:to|-|–|and)\s*\d{1,2})?\s+(January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\b"
)


_HOW_MANY = re.compile(r"\bhow many\s+((?:[A-Za-z][\w-]*\s+){0,2}[A-Za-z][\w-]*)", re.I)
_COUNT = (
    r"(?:(?<![/\w.,])\d+(?:[.,]\d+)*(?![/\w])|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-[a-z]+)?|dozens?|hundreds?|thousands?|millions?)\b)"
)


def counted_nouns(question: str) -> set[str]:
    """What a "how many X" question counts (stemmed words of X, up to the verb or a stopword)."""
    m = _HOW_MANY.search(question)
    if not m:
        return set()
    out: set[str] = set()
    for word in m.group(1).lower().split():
        if word in STOPWORDS:
            break
        out.add(stem(word))
    return out


def counts_what_is_asked(sentence: str, nouns: set[str]) -> bool:
    """A figure followed within a few words by the counted noun ("sixty-two delegations", "157
    members"): "500,000 people" does not answer "how many pilot projects"."""
    for m in re.finditer(_COUNT, sentence, re.I):
        if _YEAR.fullmatch(m.group(0)):
            continue
        after = _TOKEN.findall(sentence[m.end() : m.end() + 60].lower())[:4]
        if any(stem(w.strip("-/")) in nouns for w in after):
            return True
    return False


def has_answer_type(kind: str | None, sentence: str, question: str) -> bool:
    if kind == "year":
        return bool(_YEAR.search(sentence))
    if kind == "number":
        nouns = counted_nouns(question)
        if nouns:  # "how many pilot projects (co-financed)" wants a count of pilot projects, not any figure
            return counts_what_is_asked(_DAY_OF_MONTH.sub(" ", sentence), nouns)
        if _MONEY_QUESTION.search(question) and not _MONEY.search(sentence):
            return False  # "how much funding" wants an amount, not any figure
        asked = set(_FIGURE.findall(question))
        undated = _DAY_OF_MONTH.sub(" ", sentence)
        figures = [f for f in _FIGURE.findall(undated) if f not in asked and not _YEAR.fullmatch(f)]
        return bool(figures) or bool(
            re.search(
                r"\b(one|two|three|four|five|six|seven|eight|nine|ten|"
                r"dozen|hundred|thousand|million|billion)\b",
                sentence,
                re.I,
            )
        )
    if kind == "person":
        return bool(_PERSON.search(sentence))
    return True


def question_facts(question: str) -> set[str]:
    """Years and ordinals a question is specific about ("in 2023", "twenty-first session")."""
    return {m.group(0).lower() for m in _QUESTION_FACT.finditer(question)}


_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,30}\b(instructions?|prompts?|rules)\b|\breveal\b.{0,30}\b(key|settings|"
    r"prompt|password)s?\b|\bapi[ _-]?key\b|\bsystem prompt\b|\byou are now\b|\bas an ai\b",
    re.I,
)


_ROMANCE_CUES = re.compile(
    r"(¿|¡|\b(quel|quelle|quels|quelles|est-ce|les|des|du|une|qué|cuál|cuáles|cuándo|dónde|cuánto|los|las|del|"
    r"una|por|para|qual|quais|não|le|la|el|de|en|que|qui|est|sur|au|aux|selon|según|con|su|sus|se|combien|"
    r"comment|pourquoi|où|cuántos|cuántas|quién|quiénes|cómo|tenía|a-t-il|a-t-elle|doit-elle|doit-il)\b)",
    re.I,
)


def is_english(text: str) -> bool:
    """A cheap guess good enough to pick a scorer: Latin letters, and French/Spanish cues (two or
    more) not outnumbered by English function words."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or sum(ch.isascii() for ch in letters) < 0.9 * len(letters):
        return False
    romance = len(_ROMANCE_CUES.findall(text))
    # "en route to La Paz" is English: its own function words outnumber the look-alikes
    return romance < 2 or len(_ENGLISH_CUES.findall(text)) > romance


_ENGLISH_CUES = re.compile(
    r"\b(the|of|and|to|in|what|which|who|whom|how|when|where|did|does|do|is|was|were|for|on|with|by|from|its|that)\b",
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

    def score(self, question: str, cands: list[_Candidate], hits: Sequence[SearchHit]) -> None:
        if not cands:
            return
        embedder, _ = self.scorer(question)
        q = embedder.embed_query(question)
        vecs = self.vectors.get(embedder, [c.text for c in cands])
        sims = vecs @ q
        terms = content_terms(question)
        kind = answer_type(question)
        facts = question_facts(question)
        s = self.settings
        # a question in another language shares no words with English passages, and its answer-type
        # cues are English: its evidence is the cross-lingual similarity alone
        cross = embedder.name == "e5" and not is_english(question)
        for cand, sim in zip(cands, sims, strict=True):
            passage = hits[cand.hit].text.lower()
            if cross:
                cand.score = float(sim) - s.answer_type_penalty * sum(f not in passage for f in facts)
                continue
            overlap = len(terms & content_terms(cand.text)) / len(terms) if terms else 0.0
            cand.score = (
                float(sim)
                + s.answer_lexical_weight * overlap
                + 0.02 / (1 + cand.hit)
                + (s.answer_named_weight if "named" in hits[cand.hit].scores else 0.0)
                - (0.0 if has_answer_type(kind, cand.text, question) else s.answer_type_penalty)
                - s.answer_type_penalty * sum(f not in passage for f in facts)
            )

    def draft(self, question: str, hits: Sequence[SearchHit]) -> Draft:
        cands = self.candidates(hits)
        self.score(question, cands, hits)
        if not cands:
            return Draft([])
        threshold = self.scorer(question)[1]
        kind = answer_type(question)
        if kind and is_english(question):
            # a question asking for a figure, a year or a person is answered only by a sentence holding one
            typed = [c for c in cands if has_answer_type(kind, c.text, question)]
            if not typed:  # below the threshold by construction, so the calibration sweep sees it too
                best_untyped = max(c.score for c in cands) - self.settings.answer_type_penalty
                return Draft([], evidence=min(best_untyped, threshold - 0.001), threshold=threshold)
            cands = typed
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
