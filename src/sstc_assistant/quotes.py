"""Quotes are whole: a sentence that a chunk boundary cut (a long operative paragraph split at the
token limit) is read on in its document to its end and back to its start, with the pages it
stands on."""

from __future__ import annotations

import re

from .chunking import sentence_spans
from .citations import pages_of_quote
from .index import Index
from .types import SearchHit

_WHOLE_END = re.compile(r"[.;:!?][\"”’)\]]*$")


def whole_sentence(index: Index, hit: SearchHit, text: str) -> tuple[str, list[int]] | None:
    """The whole sentence (or clause) when `text` is the end or the start of a passage that a chunk
    boundary cut mid-sentence (a long operative paragraph split at the token limit): read on in the
    document's text to the sentence's end, and back to its start. (quote with page breaks as new
    lines, its pages), or None when `text` is whole or cannot be placed exactly."""
    piece = text.strip()
    passage = hit.text.strip()
    head_cut = passage.startswith(piece)
    tail_cut = passage.endswith(piece) and not _WHOLE_END.search(piece)
    if hit.char_start is None or hit.char_end is None or not piece or not (head_cut or tail_cut):
        return None  # a sentence inside its passage is whole: no need to read the document
    doc = index.document_text(hit.doc_id)
    at = doc.find(piece, hit.char_start, hit.char_end)  # the piece's place in the document
    if at < 0:
        return None
    start = _read_back(doc, at, piece, head_cut)
    stop = _read_on(doc, at + len(piece), tail_cut)
    if start is None and stop is None:
        return None
    start, stop = at if start is None else start, at + len(piece) if stop is None else stop
    first = doc.count("\f", 0, start) + 1
    last = doc.count("\f", 0, stop) + 1
    return doc[start:stop].strip().replace("\f", "\n"), list(range(first, last + 1))


def _read_on(doc: str, end: int, cut: bool) -> int | None:
    """Where the sentence whose start ends the passage at `end` (`cut` there) ends in the document."""
    if not cut:
        return None
    rest = doc[end : end + 3000].split("\n\n")[0]  # a sentence does not run past its paragraph
    following = rest.replace("\f", " ").lstrip()[:1]
    spans = sentence_spans(rest)
    if not spans or not (following.islower() or following in "(,;–-"):
        return None  # the passage ended where its sentence did (a heading, a list's last line)
    return end + spans[0][1]


def _read_back(doc: str, begin: int, piece: str, cut: bool) -> int | None:
    """Where the sentence whose rest `piece` (the passage's start, `cut` there) begins."""
    if not cut:
        return None
    before = doc[max(0, begin - 3000) : begin].split("\n\n")[-1]  # nor back past its paragraph
    tail = before.replace("\f", " ").rstrip()
    if not tail or _WHOLE_END.search(tail) or not (piece[:1].islower() or tail[-1:] in ",;–-("):
        return None  # the passage began where its sentence did
    spans = sentence_spans(before)
    return begin - len(before) + spans[-1][0] if spans else None


def quote_pages(index: Index, hit: SearchHit, quote: str) -> list[int]:
    if len(hit.pages) == 1:
        return hit.pages
    texts = {p: index.page_text(hit.doc_id, p) or "" for p in hit.pages}
    return pages_of_quote(texts, quote, hit.pages[0], hit.pages[-1])
