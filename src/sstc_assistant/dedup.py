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
    """Word-level similarity of normalised texts, in [0, 1] (difflib ratio over words)."""
    wa, wb = normalized(a).split(), normalized(b).split()
    if not wa or not wb:
        return 0.0
    matcher = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    if matcher.real_quick_ratio() < 0.8 or matcher.quick_ratio() < 0.8:
        return 0.0  # cannot reach any threshold we use; skip the quadratic ratio()
    return matcher.ratio()


def containment(a: str, b: str, min_run: int = 3) -> float:
    """Share of the shorter text's words that stand, in runs of `min_run` or more words, in the
    longer one: a passage quoted inside a longer one fills no second retrieval slot."""
    short, long_ = sorted((normalized(a).split(), normalized(b).split()), key=len)
    if not short:
        return 0.0
    if len(set(short) & set(long_)) < 0.8 * len(set(short)):
        return 0.0
    matcher = difflib.SequenceMatcher(None, short, long_, autojunk=False)
    return sum(m.size for m in matcher.get_matching_blocks() if m.size >= min_run) / len(short)
