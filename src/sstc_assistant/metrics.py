"""Benchmark metrics: answers (SQuAD normalisation, keypoints), retrieval (gold pages, nDCG) and
citations (ALCE-style, judged offline)."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .citations import SupportChecker
from .dataset import GoldSource
from .types import Answer, Source

if TYPE_CHECKING:
    from .assistant import Assistant

JUDGE = (
    "proxy-nli: a passage set supports a sentence when the sentence stands verbatim in it, or when "
    "MiniLM cosine similarity (sentence vs best passage sentence or the whole passage) is >= 0.70 "
    "and every figure, UN symbol and multi-word name of the sentence appears in it"
)


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (p in [0, 1]) of `values`, NaN for none: latency figures of the
    benchmarks and of `sstc eval` are read the same way."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p * len(s)) - 1))]


def normalize_answer(text: str) -> str:
    text = text.lower()
    text = "".join(ch if ch not in set(string.punctuation) | {"“", "”", "’", "‘"} else " " for ch in text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def answer_recall(prediction: str, gold: str) -> float:
    """1 when every token of the gold answer appears in the prediction."""
    ref = normalize_answer(gold).split()
    pred = set(normalize_answer(prediction).split())
    return float(bool(ref) and all(t in pred for t in ref))


def keypoint_recall(keypoints: Sequence[Sequence[str]], text: str) -> float:
    """Share of points with at least one of their phrases verbatim in `text` (case-insensitive,
    whitespace normalised): how complete an answer to a policy question is."""
    if not keypoints:
        return 0.0
    hay = " ".join(text.lower().split())
    found = sum(any(" ".join(p.lower().split()) in hay for p in point) for point in keypoints)
    return found / len(keypoints)


def strip_markers(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text)


# --- retrieval metrics ---------------------------------------------------------------------------


def hit_matches(hit: Source, gold: Sequence[GoldSource]) -> bool:
    """A retrieved passage is relevant when one of its locations is a gold location."""
    locations = [(hit.doc_id, hit.pages)] + [(loc.doc_id, loc.pages) for loc in hit.also_in]
    for doc_id, pages in locations:
        for g in gold:
            if g.doc_id == doc_id and (not g.pages or set(g.pages) & set(pages)):
                return True
    return False


def ndcg(relevant: list[bool], n_gold: int, k: int = 10) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, rel in enumerate(relevant[:k]) if rel)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(max(n_gold, 1), k)))
    return min(1.0, dcg / ideal) if ideal else 0.0


# --- citation metrics (ALCE) ---------------------------------------------------------------------


class CitationJudge:
    """ALCE citation recall/precision with an offline support judge (no NLI model ships)."""

    def __init__(self, assistant: Assistant) -> None:
        embedder = assistant.embedder
        self.checker = SupportChecker(embedder.embed_passages, min_similarity=0.70)

    def supports(self, sentence: str, passages: Sequence[str]) -> bool:
        if not passages:
            return False
        joined = " ".join(passages)
        if normalize_answer(sentence) in normalize_answer(joined):
            return True
        return self.checker.check(sentence, joined).supported

    def score(self, answer: Answer) -> tuple[int, int, int, int]:
        """(sentences, supported sentences, citations, relevant citations) of one answer."""
        by_n = {c.n: c for c in answer.citations}
        sentences = supported = n_cit = relevant = 0
        for sentence, refs in _answer_sentences(answer.answer):
            sentences += 1
            cited = [by_n[r] for r in refs if r in by_n]
            texts = [self._passage(answer, c) for c in cited]
            ok = self.supports(sentence, texts)
            supported += ok
            for i, _ in enumerate(cited):
                n_cit += 1
                alone = self.supports(sentence, [texts[i]])
                rest = texts[:i] + texts[i + 1 :]
                irrelevant = not alone and (not rest or self.supports(sentence, rest))
                relevant += ok and not irrelevant
        return sentences, supported, n_cit, relevant

    @staticmethod
    def _passage(answer: Answer, citation) -> str:
        for s in answer.sources:
            if s.chunk_id == citation.chunk_id:
                return s.text
        return citation.quote


def _answer_sentences(text: str):
    # a list's lead and document headings ("3 points in A/RES/80/156:") state nothing to cite
    text = "\n".join(line for line in text.splitlines() if not re.fullmatch(r"[^\[\]]*:\s*", line))
    parts = re.split(r"(?<=\])\s+(?=[^\[\s])", text.strip())  # a sentence keeps all its markers
    for part in parts:
        refs = [int(n) for n in re.findall(r"\[(\d+)\]", part)]
        sentence = strip_markers(part).strip()
        if sentence:
            yield sentence, refs
