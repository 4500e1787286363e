"""What a question asks for, so a sentence can be checked against it.

Light, rule-based question analysis used by the extractive generator: content words, the kind of
answer expected (a year, a figure, a person), and the specifics a question pins down (an ordinal
session, a year, a country). A sentence that lacks what is asked is not an answer, however similar
it reads; these rules are what lets the assistant say "the documents do not say".
"""

from __future__ import annotations

import re

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
