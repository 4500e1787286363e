"""Citations: where a quote stands (pages), and whether a sentence is supported by a passage.

No NLI model ships offline (MODELS.md), so support is judged by embedding similarity plus
lexical rules: the figures, UN symbols and names a sentence states must stand in its passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .chunking import sentence_spans
from .dedup import normalized
from .references import symbols_in

_NUMBER = re.compile(r"(?<![\w/])\d[\d,.]*\d|\b\d\b")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+(?:\s+(?:of|and|for|the|de|la)?\s*[A-Z][a-z]+)+)")
_WS = re.compile(r"\s+")


def squash(text: str) -> str:
    return _WS.sub(" ", text).strip()


def pages_of_quote(page_texts: dict[int, str], quote: str, first: int, last: int) -> list[int]:
    """The pages a verbatim quote stands on, searched within the chunk's page span."""
    head, tail = squash(quote)[:60], squash(quote)[-60:]
    start = end = None
    for number in range(first, last + 1):
        text = squash(page_texts.get(number, ""))
        if start is None and head in text:
            start = number
        if tail in text:
            end = number
            if start is not None:
                break
    if start is None and end is None:
        return list(range(first, last + 1))
    start = start or end
    end = max(end or start, start)
    return list(range(start, end + 1))


def facts(sentence: str) -> set[str]:
    """Figures, UN symbols and multi-word names: what a supporting passage must contain."""
    found = {m.group(0).rstrip(".,") for m in _NUMBER.finditer(sentence)}
    found |= {symbol for symbol, _, _ in symbols_in(sentence)}
    found |= {m.group(1) for m in _NAME.finditer(sentence)}
    return {f for f in found if f}


def missing_facts(sentence: str, passage: str) -> list[str]:
    """Facts of the sentence that the passage does not state."""
    hay = normalized(passage)
    hay_digits = re.sub(r"[,\s]", "", passage)
    out = []
    for fact in sorted(facts(sentence)):
        if any(ch.isdigit() for ch in fact) and "/" not in fact:
            if fact.replace(",", "") not in hay_digits:
                out.append(fact)
        elif normalized(fact) not in hay:
            out.append(fact)
    return out


@dataclass
class Support:
    supported: bool
    similarity: float
    missing: list[str]
    quote: str


class SupportChecker:
    """Judges whether a passage supports a sentence (the offline stand-in for an NLI model)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], min_similarity: float = 0.55) -> None:
        self.embed = embed
        self.min_similarity = min_similarity

    def check(self, sentence: str, passage: str) -> Support:
        candidates = [passage[a:b] for a, b in sentence_spans(passage)] or [passage]
        vecs = self.embed([sentence, *candidates])
        sims = vecs[1:] @ vecs[0]
        best = int(np.argmax(sims))
        # a sentence may paraphrase several clauses of the passage: compare with the whole too
        whole = float(self.embed([passage])[0] @ vecs[0]) if len(candidates) > 1 else float(sims[best])
        similarity = max(float(sims[best]), whole)
        missing = missing_facts(sentence, passage)
        return Support(
            supported=similarity >= self.min_similarity and not missing,
            similarity=similarity,
            missing=missing,
            quote=candidates[best].strip(),
        )
