"""Whether a sentence answers a question: one learned, calibrated decision.

Every candidate sentence of the retrieved passages is described by the same few evidence
features (how similar it reads, how much of the question's rarer words it and its passage hold,
whether it has the kind of thing asked for, whether the passage names what the question pins:
the States, years, ordinal occurrence, document) and scored by a logistic regression trained on
the dev split of the generated question set (`eval/train_answerability.py`). The best sentence's
probability of answering, against a threshold chosen on dev, decides between answering and
"the documents do not say". Weights and thresholds live in `data/answerability.json`.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np

from .glossary import gloss
from .lexicons import lexicon
from .questions import (
    answer_type,
    asks_a_question,
    asks_for_list,
    content_terms,
    countries,
    has_answer_type,
    has_loose_answer_type,
    is_english,
    names_ordinal,
    question_acronyms,
    question_facts,
    question_ordinals,
    spells_out,
    stem,
)
from .types import SearchHit

MODEL_PATH = Path(__file__).parent / "data" / "answerability.json"
WEIGHTS_PATH = Path(__file__).parent / "data" / "term_weights.json"

FEATURES = (
    "sim",
    "sim_gap",
    "sim_rank",
    "cover_sentence",
    "cover_gap",
    "cover_passage",
    "missing_idf_sentence",
    "missing_idf_passage",
    "type_asked",
    "type_missing",
    "type_loosely_missing",
    "states_missing",
    "ordinal_missing",
    "years_missing",
    "named_here",
    "named_elsewhere",
    "named_absent",
    "dense",
    "dense_gap",
    "hit_rank",
    "question_terms",
    "sentence_words",
    "lexical_hit",
    "prose",
    "cross_lingual",
)
# what reads the same whatever embedder built the index: a raw dense score does not (e5 scores
# cluster near 0.85, MiniLM's near 0.5), so an index of another embedder is scored without it
PORTABLE = tuple(f for f in FEATURES if f != "dense")


class TermWeights:
    """How rare each stemmed word is in UN text (normalised IDF in [0, 1]).

    "population" or "time zone" in a question about Nairobi weigh more than "United Nations":
    a passage without the rare words of a question is not about what it asks. The shipped counts
    (`data/term_weights.json`, from the evaluation index's passages) keep the features the same on
    a two-document corpus and on a library of thousands; a word they never saw counts as rare."""

    def __init__(self, df: dict[str, int], n: int) -> None:
        self.n = n
        self.df = df
        self._norm = math.log(n + 1) if n else 1.0

    @classmethod
    def count(cls, texts: Iterable[str]) -> TermWeights:
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            df.update(content_terms(text))
        return cls(dict(df), n)

    @classmethod
    @cache
    def shipped(cls) -> TermWeights:
        data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
        return cls(data["df"], data["passages"])

    def idf(self, term: str) -> float:
        return math.log((self.n + 1) / (self.df.get(term, 0) + 1)) / self._norm


@cache
def _synonym_table() -> dict[str, frozenset[str]]:
    return {term: frozenset(stems) for term, stems in lexicon("synonyms")["synonyms"].items()}


def synonyms(term: str) -> frozenset[str]:
    """The stems that share a frequent WordNet sense with `term` (data/synonyms.json); read once,
    not cached per asked word (a server meets unboundedly many)."""
    return _synonym_table().get(term, frozenset())


@dataclass
class QuestionView:
    """What a question asks and pins, computed once per question."""

    text: str  # the question the sentences are scored against (a follow-up: resolved)
    asked: str  # the question as asked now: its answer-type cues count
    weights: TermWeights
    named_docs: set[str] = field(default_factory=set)
    named_absent: bool = False
    same_language: bool = False  # a question read against passages in its own (non-English) language

    @cached_property
    def english(self) -> bool:
        return is_english(self.asked)

    @cached_property
    def words(self) -> str:
        """The question in the passages' words: itself, or its English gloss when it is asked in
        another language against English passages."""
        return self.text if self.english or self.same_language else gloss(self.text)

    @cached_property
    def terms(self) -> dict[str, float]:
        return {t: self.weights.idf(t) for t in content_terms(self.words)}

    @cached_property
    def spelled(self) -> dict[str, str]:
        return {a: stem(a.lower()) for a in question_acronyms(self.text)}

    @cached_property
    def listing(self) -> bool:
        """Whether the question wants every point (what does X ask …), not one fact."""
        return asks_for_list(self.asked)

    @cached_property
    def kind(self) -> str | None:
        return answer_type(self.asked)

    @cached_property
    def years(self) -> set[str]:
        return question_facts(self.text)

    @cached_property
    def ordinals(self) -> list[tuple[str, set[str]]]:
        return question_ordinals(self.text)

    @cached_property
    def states(self) -> set[str]:
        return countries(self.words)

    def coverage(self, text: str) -> tuple[float, float]:
        """(IDF-weighted share of the question's words found in `text`, itself or as a WordNet
        synonym ("called" as "named"), the largest IDF of a question word missing from it)."""
        if not self.terms:
            return 0.0, 0.0
        found = content_terms(text)
        found |= {t for t in self.terms if not synonyms(t).isdisjoint(found)}
        for acronym, term in self.spelled.items():
            if term in self.terms and spells_out(acronym, text):
                found.add(term)
        total = sum(self.terms.values()) or 1.0
        have = sum(w for t, w in self.terms.items() if t in found)
        missing = [w for t, w in self.terms.items() if t not in found]
        return have / total, max(missing, default=0.0)


@dataclass
class Candidate:
    """A sentence of a retrieved passage that might answer the question."""

    text: str
    hit: int
    prose: bool = True  # reads as a sentence (not a heading, table row or label)
    sim: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0


def describe(view: QuestionView, cands: Sequence[Candidate], hits: Sequence[SearchHit]) -> None:
    """Fill each candidate's evidence features (FEATURES)."""
    if not cands:
        return
    best_sim = max(c.sim for c in cands)
    sim_rank = {id(c): r for r, c in enumerate(sorted(cands, key=lambda c: -c.sim))}
    dense_top = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
    passage_cache: dict[int, dict[str, float]] = {}
    for cand in cands:
        hit = hits[cand.hit]
        if cand.hit not in passage_cache:
            context = f"{hit.title}\n{hit.text}"
            cover_p, missing_p = view.coverage(context)
            passage_cache[cand.hit] = {
                "cover_passage": cover_p,
                "missing_idf_passage": missing_p,
                "states_missing": float(bool(view.states) and not view.states <= countries(context)),
                "ordinal_missing": float(
                    not all(names_ordinal(context, o, heads) for o, heads in view.ordinals)
                ),
                "years_missing": (
                    sum(y not in context for y in view.years) / len(view.years) if view.years else 0.0
                ),
                "named_here": float(hit.doc_id in view.named_docs),
                "named_elsewhere": float(bool(view.named_docs) and hit.doc_id not in view.named_docs),
                "dense": hit.scores.get("dense", 0.0),
                "dense_gap": hit.scores.get("dense", 0.0) - dense_top,
                "hit_rank": 1.0 / (1 + cand.hit),
                "lexical_hit": float(bool({"bm25", "named_bm25", "gloss_bm25"} & hit.scores.keys())),
            }
        cover_s, missing_s = view.coverage(cand.text)
        asked = view.kind is not None
        cand.features = {
            "sim": cand.sim,
            "sim_gap": cand.sim - best_sim,
            "cover_sentence": cover_s,
            "missing_idf_sentence": missing_s,
            "type_asked": float(asked),
            "type_missing": float(asked and not has_answer_type(view.kind, cand.text, view.asked)),
            "type_loosely_missing": float(asked and not has_loose_answer_type(view.kind, cand.text)),
            "sim_rank": 1.0 / (1 + sim_rank[id(cand)]),
            "named_absent": float(view.named_absent),
            "question_terms": math.log1p(len(view.terms)),
            "sentence_words": math.log1p(len(cand.text.split())),
            "prose": float(cand.prose),
            "cross_lingual": float(not (view.english or view.same_language)),
            **passage_cache[cand.hit],
        }
    best_cover = max(c.features["cover_sentence"] for c in cands)
    for cand in cands:
        cand.features["cover_gap"] = cand.features["cover_sentence"] - best_cover


@dataclass
class GroupModel:
    """Standardised logistic regression and the threshold of one group of questions (English or
    cross-lingual); the groups share the weights and differ in threshold."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


class AnswerabilityModel:
    """The trained weights and thresholds: `english` for questions read word for word against their
    passages, `other` for those in the five other languages read through their English gloss.

    Two variants are trained on the same sentences: one for indexes built by the embedder of the
    training index (every feature), a portable one for indexes of any other embedder (PORTABLE)."""

    _cache: ClassVar[dict[tuple[Path, str | None], AnswerabilityModel]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self, groups: dict[str, GroupModel], meta: dict, features: tuple[str, ...] = FEATURES
    ) -> None:
        self.groups = groups
        self.meta = meta
        self.features = features

    @classmethod
    def load(cls, path: Path = MODEL_PATH, embedder: str | None = None) -> AnswerabilityModel:
        """The variant for an index built by `embedder` (None: the training index's own)."""
        with cls._lock:
            if (path, embedder) not in cls._cache:
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise RuntimeError(
                        f"the answerability model {path} is unreadable ({exc}): "
                        "run eval/train_answerability.py"
                    ) from exc
                if tuple(data["features"]) != FEATURES or tuple(data["portable"]["features"]) != PORTABLE:
                    raise RuntimeError(
                        f"the answerability model {path} was trained on other features: "
                        "run eval/train_answerability.py"
                    )
                own = embedder is None or embedder == data["embedder"]
                variant = data if own else data["portable"]
                meta = {k: v for k, v in data.items() if k not in ("groups", "portable")}
                cls._cache[(path, embedder)] = cls(
                    {name: _group(g) for name, g in variant["groups"].items()},
                    meta | {"variant": "full" if own else "portable"},
                    FEATURES if own else PORTABLE,
                )
            return cls._cache[(path, embedder)]

    @staticmethod
    def group(view: QuestionView) -> str:
        """Questions matched word for word against their passages (English, or another language
        with its official translation indexed) use the `english` threshold; cross-lingual ones the
        `other` one."""
        return "english" if view.english or view.same_language else "other"

    def score(self, view: QuestionView, cands: Sequence[Candidate]) -> float:
        """Set each candidate's probability of answering; returns the group's threshold."""
        model = self.groups[self.group(view)]
        if cands:
            rows = np.asarray([[c.features[f] for f in self.features] for c in cands], dtype=np.float64)
            for cand, p in zip(cands, model.probabilities(rows), strict=True):
                cand.probability = float(p)
        return model.threshold


def _group(g: dict) -> GroupModel:
    return GroupModel(
        mean=np.asarray(g["mean"], dtype=np.float64),
        scale=np.asarray(g["scale"], dtype=np.float64),
        coef=np.asarray(g["coef"], dtype=np.float64),
        intercept=float(g["intercept"]),
        threshold=float(g["threshold"]),
    )


def is_candidate(text: str) -> bool:
    """A sentence that asks a question is never an answer ("(b) What are good practice
    examples …?" in a questionnaire reads like the question it does not answer)."""
    return not asks_a_question(text)
