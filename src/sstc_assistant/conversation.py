"""Conversations: whether a question leans on the one before, and the standalone question it
stands for ("And what was it first called?" after a question about the UN Office for South-South
Cooperation). Opening words and pointing words in six languages are data (`data/conversation.json`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lexicons import lexicon
from .questions import is_english
from .references import symbols_in

_TALK = lexicon("conversation")
_FOLLOW_START = re.compile(
    r"^\s*¿?\s*(?:" + "|".join(re.escape(w) for ws in _TALK["starts"].values() for w in ws) + r")(?:\b|\s|$)",
    re.I,
)
_POINTING = {w for lang, ws in _TALK["pointing_words"].items() if lang != "zh" for w in ws}
_POINTING_ZH = tuple(_TALK["pointing_words"]["zh"])


def is_follow_up(question: str) -> bool:
    """A question that leans on the one before: it opens like a continuation ("And …", "What
    about …", "Et …") or points back with a pronoun ("it", "its", "他们") in a short question."""
    q = question.strip()
    if _FOLLOW_START.search(q):
        return True
    words = re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", q.lower())
    if len(words) > _TALK["max_words"]:
        return False
    if _POINTING & set(words):
        return True
    return any(w in q for w in _POINTING_ZH)


_SUBJECT = re.compile(
    r"\b(?:the\s+)?(?:[A-Z][\w'’-]*|\d+/\d+)(?:\s+(?:of|for|on|and|the|de|du|des|del|la|le|to)?\s*(?:[A-Z][\w'’-]*|\d+/\d+))*"
)
_LEAD_IN = re.compile(r"^\s*¿?\s*(?:and|but|also|then|so)\s*,?\s+", re.I)
_PRONOUN = re.compile(r"\b(it|they|them|this|that|he|she)\b", re.I)
_POSSESSIVE = re.compile(r"\b(its|their|his|her)\b", re.I)
_NAMED_DECISION = re.compile(r"\b(?:resolution|decision)\s+\d+/\d+")
_QUESTION_OPENERS = frozenset(
    [
        "What",
        "When",
        "Which",
        "Who",
        "Whom",
        "Whose",
        "Where",
        "Why",
        "How",
        "Does",
        "Did",
        "Do",
        "Is",
        "Are",
        "Was",
        "Were",
        "Can",
        "Could",
        "In",
        "On",
        "According",
        "Tell",
        "List",
    ]
)


def subject_of(question: str) -> str | None:
    """The longest name in a question ("the UN Office for South-South Cooperation", "resolution
    80/156"'s "80/156"): what a pronoun in the next question most likely points back to."""
    best = None
    for m in _SUBJECT.finditer(question):
        words = m.group(0).split()
        while words and words[0] in _QUESTION_OPENERS:
            words = words[1:]
        text = " ".join(words)
        if text.lower() in ("", "the") or len(text) < 3:
            continue
        if best is None or len(text) > len(best):
            best = text
    return best


def standalone(question: str, history: Sequence[str]) -> str:
    """Resolve a follow-up against the conversation. An English follow-up that points back with a
    pronoun gets the earlier question's subject in its place ("And what was it first called?" →
    "what was the UN Office for South-South Cooperation first called?"); otherwise the earlier
    question (and the one before it, when that was a follow-up too) is carried along, so its
    subject and the documents it names keep the conversation's scope."""
    if not history or not is_follow_up(question):
        return question
    context = history[-1].strip()
    if len(history) >= 2 and is_follow_up(context):
        context = f"{history[-2].strip()} {context}"
    subject = subject_of(context)
    bare = _LEAD_IN.sub("", question.strip())
    if subject and is_english(question) and (_PRONOUN.search(bare) or _POSSESSIVE.search(bare)):
        if _PRONOUN.search(bare):
            resolved = _PRONOUN.sub(subject, bare, count=1)
        else:
            resolved = _POSSESSIVE.sub(f"{subject}'s", bare, count=1)
        named = [(m.start(), m.group(0)) for m in _NAMED_DECISION.finditer(context)]
        named = [
            n for _, n in sorted(named + [(start, s) for s, start, _ in symbols_in(context, any_case=True)])
        ]
        extra = [n for n in named if n not in resolved]  # keep the documents the conversation named
        return " ".join([resolved, *extra])
    return f"{context} {question.strip()}"
