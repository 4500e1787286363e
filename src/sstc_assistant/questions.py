"""What a question asks for, so a sentence can be checked against it.

Light, rule-based question analysis used by the extractive generator: content words, the kind of
answer expected (a year, a figure, a person), and the specifics a question pins down (an ordinal
session, a year, a country). A sentence that lacks what is asked is not an answer, however similar
it reads; these rules are what lets the assistant say "the documents do not say".
"""

from __future__ import annotations

import re
from functools import lru_cache

from .lexicons import alternation, lexicon

STOPWORDS = frozenset(lexicon("stopwords")["words"])
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/+\-]*")


_ISE = re.compile(r"is(e|ed|es|ing|ation|ations)$")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ed", "es", "s", "e", "y")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A light suffix fold so `initiated`/`initiate` and `priorities`/`priority` meet (memoised:
    every answer stems the same few thousand words of its passages)."""
    if len(word) >= 7:  # British and American spellings meet: prioritise / prioritize
        word = _ISE.sub(r"iz\1", word)
    if len(word) >= 5 and word.endswith("ies"):  # a plural meets its singular: cities / city
        word = word[:-3] + "y"
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> set[str]:
    """Stemmed, lower-cased content words: what a question (or sentence) is about. Hyphens fall
    away, so "South-South" meets the "SouthSouth" of a PDF's broken line and "sub-national" meets
    "subnational"."""
    out = set()
    for tok in _TOKEN.findall(text.lower()):
        tok = tok.strip("-/").replace("-", "")
        if len(tok) < 2 or tok in STOPWORDS:
            continue
        out.add(stem(tok))
    return out


# what a question asks for, in English and the other official languages (fr, es, ru, ar, zh),
# whose questions are answered from English passages: checked the same way (data/answer_cues.json)
_CUES = lexicon("answer_cues")
_OFFICES = "|".join(_CUES["offices"])
_ASKS_YEAR = alternation(_CUES["asks_year"])
_ASKS_DEADLINE = alternation(_CUES["asks_deadline"])
_MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# "By the end of 2018, there were 50 cities" dates a fact; a deadline is stated as one
_DEADLINE = re.compile(
    rf"\b(?:deadlines?|no later than|due (?:by|on|date)|closing date|(?:by|before|until) (?:\d{{1,2}} {_MONTHS}|"
    rf"{_MONTHS} \d{{1,2}}))\b",
    re.I,
)
_ASKS_NUMBER = alternation(_CUES["asks_number"])
# "who presided / was elected / was the President" wants a person; "who responded to the surveys"
# or "whom did the outcome document call upon" is as often answered by an office or a group
_ASKS_PERSON = alternation(_CUES["asks_person"], offices=_OFFICES)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_FIGURE = re.compile(r"(?<![/\d])\d[\d,.]*(?![/\d])")
_TITLED = re.compile(r"\b(Mr|Ms|Mrs|Dr|H\.E)\.?\s+[A-Z]")
# "Omar Hilale (Morocco)": a name followed by the State it represents, the UN way of naming a person
# ("United Nations Development Programme (UNDP)" has the same shape but an acronym in brackets)
_NAME_OF_STATE = re.compile(r"\b[A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ\-]+)+\s+\(([A-Z][A-Za-z' ]+)\)")
_QUESTION_YEAR = re.compile(r"(?<![/\d])(?:19|20)\d{2}(?![/\d])")
_UNITS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
_ORDINAL = (
    rf"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-(?:{_UNITS})|{_UNITS}|tenth|eleventh|twelfth|"
    r"(?:thir|four|fif|six|seven|eigh|nine)teenth|(?:twen|thir|for|fif|six|seven|eigh|nine)tieth|hundredth|"
    r"\d+(?:st|nd|rd|th))"
)
# "the twelfth Expo", "its twenty-second session": an ordinal naming one event of a series (not the
# adverb in "our city first needs help")
_QUESTION_ORDINAL = re.compile(
    rf"\b(?:the|its|their|his|her|this|that|a|an)\s+({_ORDINAL})\s+([^?.!,;:()]*)", re.I
)


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for, when a sentence can be checked for it."""
    if _ASKS_DEADLINE.search(question):
        return "deadline"
    if _ASKS_YEAR.search(question):
        return "year"
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_PERSON.search(question):
        return "person"
    return None


_MONEY_QUESTION = alternation(_CUES["money_question"])
_MONEY = alternation(_CUES["money"])
_DAY_OF_MONTH = re.compile(rf"\b\d{{1,2}}(?:\s*(?:to|-|–|and)\s*\d{{1,2}})?\s+{_MONTHS}\b")


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


_NUMBER_WORD = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion)\b", re.I
)
_CAPITALISED_NAME = re.compile(r"\b[A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ\-]+)+\b")


def has_loose_answer_type(kind: str | None, sentence: str) -> bool:
    """The lenient reading of `has_answer_type`: any figure for "how many", any date for "when",
    any capitalised name for "who". The learned decision weighs both readings."""
    if kind in ("deadline", "year"):
        return bool(_YEAR.search(sentence) or _DAY_OF_MONTH.search(sentence))
    if kind == "number":
        return bool(re.search(r"\d", sentence) or _NUMBER_WORD.search(sentence))
    if kind == "person":
        return bool(_TITLED.search(sentence) or _CAPITALISED_NAME.search(sentence))
    return True


def has_answer_type(kind: str | None, sentence: str, question: str) -> bool:
    if kind == "deadline":
        return bool(_DEADLINE.search(sentence))
    if kind == "year":
        return bool(_YEAR.search(sentence) or _DAY_OF_MONTH.search(sentence))
    if kind == "number":
        nouns = counted_nouns(question)
        if nouns:  # "how many pilot projects (co-financed)" wants a count of pilot projects, not any figure
            return counts_what_is_asked(_DAY_OF_MONTH.sub(" ", sentence), nouns)
        if _MONEY_QUESTION.search(question) and not _MONEY.search(sentence):
            return False  # "how much funding" wants an amount, not any figure
        asked = set(_FIGURE.findall(question))
        undated = _DAY_OF_MONTH.sub(" ", sentence)
        figures = [f for f in _FIGURE.findall(undated) if f not in asked and not _YEAR.fullmatch(f)]
        return bool(figures) or bool(_NUMBER_WORD.search(sentence))
    if kind == "person":
        return bool(_TITLED.search(sentence)) or any(
            countries(m.group(1)) for m in _NAME_OF_STATE.finditer(sentence)
        )
    return True


def question_facts(question: str) -> set[str]:
    """Years a question is specific about ("in 2023"): a passage that never mentions them is weaker
    evidence (the year often sits in a heading rather than the answering passage)."""
    return {m.group(0) for m in _QUESTION_YEAR.finditer(question)}


def question_ordinals(question: str) -> list[tuple[str, set[str]]]:
    """Ordinals a question pins (`twelfth`), each with the words of what it qualifies ("the twelfth
    Global South-South Development Expo" → {global, south-south, develop, expo}; "its twenty-second
    session call on" → {session}). "United Nations" names half the corpus, so it does not count."""
    out = []
    for m in _QUESTION_ORDINAL.finditer(question):
        heads: set[str] = set()
        words = _TOKEN.findall(m.group(2))
        # a name ("Global South-South Development Expo") runs while words are capitalised; a common
        # noun ("session") is one word: what follows it is the question's verb or a complement
        for word in words if words and words[0][0].isupper() else words[:1]:
            if word.lower() in STOPWORDS or (not word[0].isupper() and heads):
                break
            if word.lower() not in _UBIQUITOUS:
                heads.add(stem(word.lower()))
        if heads:
            out.append((m.group(1).lower(), heads))
    return out


_UBIQUITOUS = frozenset({"united", "nations", "un"})


_ORDINAL_UNITS = {w: n for n, w in enumerate(_UNITS.split("|"), 1)}
_ORDINAL_TEENS = {
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "hundredth": 100,
}
_TENS = {"twen": 20, "thir": 30, "for": 40, "fif": 50, "six": 60, "seven": 70, "eigh": 80, "nine": 90}


def ordinal_value(token: str) -> int | None:
    """The number an English ordinal names: "22nd", "twenty-second" and "twenty second" are 22."""
    token = token.lower().replace(" ", "-")
    if m := re.fullmatch(r"(\d+)(?:st|nd|rd|th)", token):
        return int(m.group(1))
    if token in _ORDINAL_UNITS:
        return _ORDINAL_UNITS[token]
    if token in _ORDINAL_TEENS:
        return _ORDINAL_TEENS[token]
    if m := re.fullmatch(r"(twen|thir|for|fif|six|seven|eigh|nine)(?:tieth|ty-(\w+))", token):
        unit = _ORDINAL_UNITS.get(m.group(2) or "", 0)
        return _TENS[m.group(1)] + unit if m.group(2) is None or unit else None
    return None


def names_ordinal(passage: str, ordinal: str, heads: set[str]) -> bool:
    """Whether `passage` has `ordinal` followed closely by the whole noun it qualifies in the
    question: "the eleventh Global South-South Development Expo" does not answer for the twelfth,
    nor "the third United Nations Conference on the Landlocked Developing Countries" for the third
    High-level United Nations Conference on South-South Cooperation. "22nd" and "twenty-second"
    are one ordinal."""
    tokens = [t.lower().strip("-/") for t in _TOKEN.findall(passage)]
    wanted = ordinal_value(ordinal)
    return any(
        (tok == ordinal or (wanted is not None and ordinal_value(tok) == wanted))
        and heads <= {stem(w) for w in tokens[i + 1 : i + 4 + len(heads)]}
        for i, tok in enumerate(tokens)
    )


_ROMANCE_CUES = re.compile(_CUES["romance_cues"], re.I)
_ENGLISH_CUES = re.compile(_CUES["english_cues"], re.I)


def is_english(text: str) -> bool:
    """A cheap guess good enough to pick a scorer: Latin letters, and French/Spanish cues (two or
    more) not outnumbered by English function words."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or sum(ch.isascii() for ch in letters) < 0.9 * len(letters):
        return False
    romance = len(_ROMANCE_CUES.findall(text))
    # "en route to La Paz" is English: its own function words outnumber the look-alikes
    return romance < 2 or len(_ENGLISH_CUES.findall(text)) > romance


# UN Member and observer States, with the other names documents use for some of them
_COUNTRY_NAMES = {name: names[0] for names in lexicon("countries")["states"] for name in names}
# longest first, so "South Sudan" is read before "Sudan" and "Papua New Guinea" before "Guinea"
_COUNTRY = re.compile(
    r"\b(" + "|".join(re.escape(n) for n in sorted(_COUNTRY_NAMES, key=len, reverse=True)) + r")\b", re.I
)
_COUNTRY_BY_LOWER = {name.lower(): canon for name, canon in _COUNTRY_NAMES.items()}


def countries(text: str) -> set[str]:
    """The States a text names (canonical names: "Turkey" and "Türkiye" are one)."""
    return {_COUNTRY_BY_LOWER[m.group(1).lower()] for m in _COUNTRY.finditer(text)}


_ACRONYM = re.compile(r"\b[A-Z][A-Z&]{1,9}\b")


def question_acronyms(question: str) -> set[str]:
    """Upper-case abbreviations in a question (UNCTAD, UNOSSC): documents often spell them out."""
    return {a for a in _ACRONYM.findall(question) if not re.fullmatch(r"[IVXLC]+", a)}


def spells_out(acronym: str, text: str) -> bool:
    """Whether `text` has a run of words whose initials spell `acronym`, skipping small words that
    do not fit ("United Nations Conference on Trade and Development" spells UNCTAD)."""
    words = [w for w in re.split(r"[\s\-/]+", text) if w[:1].isalpha()]
    letters = acronym.replace("&", "").lower()
    for start in range(len(words)):
        if words[start][0].lower() != letters[0]:
            continue
        i = 0
        for word in words[start:]:
            if i == len(letters):
                break
            if word[0].lower() == letters[i]:
                i += 1
            elif word.lower() not in STOPWORDS:
                break
        if i == len(letters):
            return True
    return False


_QUESTION_SENTENCE = re.compile(r"\?\s*[\"'”’)\]]*\s*$|？\s*$|؟\s*$")


def asks_a_question(sentence: str) -> bool:
    """Whether a sentence is itself a question (it ends with a question mark in any script)."""
    return bool(_QUESTION_SENTENCE.search(sentence.strip()))


_ASKS_LIST = alternation(_CUES["asks_list"])


def asks_for_list(question: str) -> bool:
    """Whether a question wants every point the documents make (what does X ask / call for, which
    measures, services, challenges …) rather than one fact."""
    return bool(_ASKS_LIST.search(question))
