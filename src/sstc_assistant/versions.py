"""Official translations: one UN symbol in several languages is one document with language versions.

`A_RES_73_291.fr.pdf` beside `A_RES_73_291.en.pdf` are the French and English versions of
A/RES/73/291. A question is answered from the version in its own language when the index holds
one (retrieval, dense and keyword, then only sees that version of the document), so the quote is
the official text in the reader's language; documents with no such version are still found across
languages as before. Every citation lists the document's other versions at the same paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .questions import is_english
from .types import Answer, DocumentMeta, Version

if TYPE_CHECKING:
    from .index import Index

_SCRIPTS = (
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
)
# words of questions that one of the two languages has and the other not
_FRENCH = re.compile(
    r"\b(quel|quelle|quels|quelles|est-ce|les|des|du|une|le|qui|est|sur|au|aux|selon|combien|comment|"
    r"pourquoi|où|a-t-il|a-t-elle|ont|été|dans|ce|cette|ces|il|elle)\b",
    re.I,
)
_SPANISH = re.compile(
    r"(¿|\b(qué|cuál|cuáles|cuándo|dónde|cuánto|cuántos|cuántas|los|las|del|una|por|para|el|según|con|su|"
    r"sus|quién|quiénes|cómo|fue|fueron|es|ha|han|este|esta|estos)\b)",
    re.I,
)


def question_language(text: str) -> str | None:
    """The official language a question is asked in, when it can be told from its script or its
    words; None when unsure (then nothing is preferred)."""
    letters = sum(ch.isalpha() for ch in text)
    if not letters:
        return None
    for lang, script in _SCRIPTS:
        if len(script.findall(text)) > 0.3 * letters:
            return lang
    if is_english(text):
        return "en"
    french, spanish = len(_FRENCH.findall(text)), len(_SPANISH.findall(text))
    if french > spanish:
        return "fr"
    if spanish > french:
        return "es"
    return None


def set_aside(
    meta: Mapping[str, DocumentMeta], by_symbol: Mapping[str, Iterable[str]], lang: str
) -> set[str]:
    """The doc_ids retrieval skips for a question in `lang`: the other-language versions of the
    documents that have a version in `lang`."""
    hidden: set[str] = set()
    for doc_ids in by_symbol.values():
        langs = {meta[d].language for d in doc_ids if d in meta}
        if lang in langs and len(langs) > 1:
            hidden.update(d for d in doc_ids if d in meta and meta[d].language != lang)
    return hidden


def add_versions(answer: Answer, index: Index) -> None:
    """Each citation learns the languages its document is also in, and where the same numbered
    paragraph stands there: the English text is one click from the French quote."""
    if not answer.citations:
        return
    meta = index.all_meta()
    by_symbol: dict[str, list[str]] = {}
    for doc_id, m in meta.items():
        if m.symbol:
            by_symbol.setdefault(_key(m.symbol), []).append(doc_id)
    for c in answer.citations:
        own = meta.get(c.doc_id)
        if own is None:
            continue
        c.language = own.language
        if not own.symbol:
            continue
        for other in sorted(by_symbol.get(_key(own.symbol), []), key=lambda d: (meta[d].language != "en", d)):
            if other == c.doc_id or meta[other].language == own.language:
                continue
            pages = index.paragraph_pages(other, c.paragraph) if c.paragraph else []
            c.versions.append(
                Version(
                    language=meta[other].language,
                    doc_id=other,
                    pages=pages,
                    paragraph=c.paragraph if pages else None,
                )
            )


def _key(symbol: str) -> str:
    return symbol.replace(" ", "").rstrip("*").upper()
