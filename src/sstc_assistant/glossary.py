"""English keywords for a question asked in another official language.

The documents are English, and only the multilingual embedder reads a French or Chinese question
against them; keyword search and the word-coverage evidence of answerability see nothing in
common. A glossary of UN terms in the six official languages (`data/glossary.json`) glosses the
question into the English words UN texts use ("По какому пункту повестки дня была принята
резолюция 72/237?" → "agenda item adopted resolution 72/237"), so both can work across languages.
Longest match wins; symbols, numbers and Latin-script names pass through unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from .lexicons import lexicon

_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None})
_ARTICLE = re.compile(r"^(?:وال|بال|كال|فال|لل|ال)(?=\w{3})")
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[\w/+]+(?:[-.][\w/+]+)*")
_KEEP = re.compile(r"\d|[A-Z]|^[a-z]+/|[A-Za-z]{2,}\d")  # numbers, symbols, names and acronyms


def _plain(text: str) -> str:
    """Lower case without accents or Arabic vowel marks, so "résolution" meets "resolution"."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_ARABIC_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).replace("ё", "е")


def _tokens(text: str) -> list[str]:
    return [_ARTICLE.sub("", t) for t in _WORD.findall(_plain(text).replace("'", " ").replace("’", " "))]


def _same_word(a: str, b: str) -> int:
    """2 for the same word, 1 for two inflections of one word (all but the last two letters of the
    longer shared: резолюция / резолюции, résolution / résolutions, доклад / докладе), else 0.
    "Austria" is not "Australia", nor "Malawi" "Malaysia"."""
    if a == b:
        return 2
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return int(n >= max(4, max(len(a), len(b)) - 2))


@dataclass(frozen=True)
class Term:
    english: str
    words: tuple[str, ...]  # the form's plain tokens (Chinese: one token, the characters)


class Glossary:
    """Forms of UN terms in French, Spanish, Russian, Arabic and Chinese, each with its English."""

    def __init__(self, entries: list[dict]) -> None:
        self.by_first: dict[str, list[Term]] = {}
        self.chinese: dict[str, str] = {}
        for entry in entries:
            for lang, forms in entry.items():
                if lang == "en":
                    continue
                for form in forms:
                    if lang == "zh":
                        self.chinese[_plain(form)] = entry["en"]
                    elif words := tuple(_tokens(form)):
                        self.by_first.setdefault(words[0][:4], []).append(Term(entry["en"], words))
        for terms in self.by_first.values():
            terms.sort(key=lambda t: -len(t.words))
        self._longest_chinese = max(map(len, self.chinese), default=0)

    @classmethod
    @cache
    def shipped(cls) -> Glossary:
        return cls(lexicon("glossary")["terms"])

    def gloss(self, text: str) -> str:
        """The English words of `text`'s terms, with its numbers, symbols and Latin names kept."""
        out: list[str] = []
        for piece in re.split(rf"({_CJK.pattern}+)", text):
            if _CJK.match(piece):
                out.extend(self._chinese(piece))
            elif piece.strip():
                out.extend(self._words(piece))
        return " ".join(dict.fromkeys(out))

    def _words(self, text: str) -> list[str]:
        raw = _WORD.findall(text)
        plain = _tokens(text)
        out: list[str] = []
        i = 0
        while i < len(plain):
            term = self._match(plain, i)
            if term is not None:
                out.append(term.english)
                i += len(term.words)
                continue
            if i < len(raw) and _KEEP.search(raw[i]):
                out.append(raw[i])
            i += 1
        return out

    def _match(self, plain: list[str], i: int) -> Term | None:
        """The term read at `plain[i]`: the longest, and of those the most exactly spelled."""
        best, best_key = None, (0, 0)
        for term in self.by_first.get(plain[i][:4], []):
            if len(term.words) > len(plain) - i or len(term.words) < best_key[0]:
                continue
            grades = [_same_word(w, plain[i + j]) for j, w in enumerate(term.words)]
            if all(grades) and (key := (len(term.words), sum(grades))) > best_key:
                best, best_key = term, key
        return best

    def _chinese(self, text: str) -> list[str]:
        plain = _plain(text)
        out: list[str] = []
        i = 0
        while i < len(plain):
            for n in range(min(self._longest_chinese, len(plain) - i), 0, -1):
                if (english := self.chinese.get(plain[i : i + n])) is not None:
                    out.append(english)
                    i += n
                    break
            else:
                i += 1
        return out


def gloss(text: str) -> str:
    """`text` glossed with the shipped glossary ("" when nothing in it is known)."""
    return Glossary.shipped().gloss(text)
