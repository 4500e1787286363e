"""Near-duplicate passages: the corpus states the same thing verbatim or reworded, many times."""

from __future__ import annotations

import difflib
import hashlib
import re


def normalized(text: str) -> str:
    """Lower case, letters and digits only: what two copies of a passage have in common."""
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).strip()


def content_id(text: str) -> str:
    """Vector id of a passage: identical normalised text → the same stored vector."""
    return hashlib.sha256(normalized(text).encode()).hexdigest()[:24]


def similar(a: str, b: str) -> float:
    """Character-level similarity of normalised texts, in [0, 1] (difflib ratio)."""
    na, nb = normalized(a), normalized(b)
    if not na or not nb:
        return 0.0
    matcher = difflib.SequenceMatcher(None, na, nb, autojunk=False)
    if matcher.real_quick_ratio() < 0.8 or matcher.quick_ratio() < 0.8:
        return 0.0  # cannot reach any threshold we use; skip the quadratic ratio()
    return matcher.ratio()


def containment(a: str, b: str) -> float:
    """Share of the shorter text that also stands in the longer one (a passage quoted inside a
    longer one fills no second retrieval slot)."""
    na, nb = normalized(a), normalized(b)
    short, long_ = sorted((na, nb), key=len)
    if not short:
        return 0.0
    if short in long_:
        return 1.0
    words_short, words_long = set(short.split()), set(long_.split())
    if len(words_short & words_long) < 0.8 * len(words_short):
        return 0.0
    matcher = difflib.SequenceMatcher(None, short, long_, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(short)
