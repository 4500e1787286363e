"""Chunking that knows UN documents: numbered paragraphs, sub-items, preamble, footnotes, pages.

A chunk is one numbered paragraph (or sub-item) where the document numbers them, so a citation
can name `para. 12`; short blocks merge with their neighbour, long ones split at sentence ends
with overlap, and no chunk exceeds the embedder's token limit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .cleaning import FOOTNOTE_RULE
from .types import Chunk, ParsedDocument, Part

TokenCounter = Callable[[Sequence[str]], list[int]]
PAGE_SEPARATOR = "\f"

_NUM = re.compile(r"^(\d{1,3})\.\s+\S")
_SUB = re.compile(r"^\(([a-z]{1,3}|[ivxl]{1,5})\)\s+\S")
_HEADING = re.compile(r"^([IVX]{1,5}|[A-H])\.\s+\S")
_SENTENCE_END = re.compile(r"(?<=[.;:!?])[\"”’)]*\s+(?=\S)")
_FULL_STOP = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[A-Z(“\"])")
_ENDS_SENTENCE = re.compile(r"[.;:!?][\"”’)]*\d*$")


@dataclass
class _Segment:
    text: str
    page: int
    start: int  # offset in the document text


@dataclass
class _Unit:
    segments: list[_Segment]
    paragraph: str | None
    part: Part | None
    heading: bool = False
    tokens: int = 0

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    @property
    def key(self) -> tuple[str | None, bool]:
        top = self.paragraph.split("(")[0] if self.paragraph else None
        return top, self.part == "footnote"


@dataclass
class _Piece:
    """Text with a map from its offsets back to document offsets and pages."""

    text: str
    spans: list[tuple[int, int, int, int]] = field(default_factory=list)  # (t0, t1, doc0, page)
    paragraph: str | None = None
    part: Part | None = None


def document_text(doc: ParsedDocument) -> str:
    """The text chunk offsets point into: page texts joined by form feeds."""
    return PAGE_SEPARATOR.join(p.text for p in doc.pages)


def chunk_document(
    doc: ParsedDocument,
    count_tokens: TokenCounter,
    max_tokens: int,
    min_tokens: int = 40,
    overlap_tokens: int = 30,
) -> list[Chunk]:
    units = _units(doc)
    if not units:
        return []
    for unit, n in zip(units, count_tokens([u.text for u in units]), strict=True):
        unit.tokens = n
    pieces = _pack(units, max_tokens, min_tokens)
    pieces = _enforce_limit(pieces, count_tokens, max_tokens, overlap_tokens)
    token_counts = count_tokens([p.text for p in pieces])
    chunks = []
    for ordinal, (piece, n) in enumerate(zip(pieces, token_counts, strict=True)):
        if n > max_tokens:  # _enforce_limit guarantees this never happens; keep the invariant loud
            raise AssertionError(f"chunk of {n} tokens exceeds {max_tokens}")
        pages = [s[3] for s in piece.spans]
        start = piece.spans[0][2]
        last = piece.spans[-1]
        end = last[2] + (last[1] - last[0])
        chunks.append(
            Chunk(
                chunk_id=chunk_id(doc.doc_id, start, piece.text),
                doc_id=doc.doc_id,
                ordinal=ordinal,
                text=piece.text,
                page_start=min(pages),
                page_end=max(pages),
                char_start=start,
                char_end=end,
                paragraph=piece.paragraph,
                part=piece.part,
                n_tokens=n,
            )
        )
    return chunks


def chunk_id(doc_id: str, start: int, text: str) -> str:
    """Stable across re-ingestion: same document, same place, same text → same id."""
    return hashlib.sha256(f"{doc_id}\0{start}\0{text}".encode()).hexdigest()[:24]


# --- blocks → paragraph units ---------------------------------------------------------------


def _units(doc: ParsedDocument) -> list[_Unit]:
    legislative = doc.meta.kind in ("resolution", "outcome-document")
    units: list[_Unit] = []
    current: str | None = None
    preamble = False
    offset = 0
    for page in doc.pages:
        in_footnotes = False
        first_on_page = True
        pos = 0
        for raw in page.text.split("\n\n"):
            at = page.text.find(raw, pos)
            pos = at + len(raw)
            text = raw.strip()
            if not text:
                continue
            start = offset + at + (len(raw) - len(raw.lstrip()))
            seg = _Segment(text, page.number, start)
            if text == FOOTNOTE_RULE:
                in_footnotes = True
                continue
            if in_footnotes:
                units.append(_Unit([seg], None, "footnote"))
                continue
            prev = _last_body_unit(units)
            if (
                first_on_page
                and prev is not None
                and page.number > prev.segments[-1].page
                and not prev.heading
                and (text[0].islower() or not _ENDS_SENTENCE.search(prev.segments[-1].text))
                and not _NUM.match(text)
                and not _SUB.match(text)
            ):
                prev.segments.append(seg)  # a paragraph running over the page break
                first_on_page = False
                continue
            first_on_page = False
            if text.startswith("The General Assembly") and len(text) < 60:
                preamble = legislative
            if m := _NUM.match(text):
                current, preamble = m[1], False
                units.append(_Unit([seg], current, "operative" if legislative else None))
            elif (m := _SUB.match(text)) and current:
                part = "operative" if legislative else None
                units.append(_Unit([seg], f"{current}({m[1]})", part))
            elif _HEADING.match(text) and len(text) < 160:
                current = None
                units.append(_Unit([seg], None, None, heading=True))
            else:
                part: Part | None = (
                    "preamble" if preamble else ("operative" if legislative and current else None)
                )
                units.append(_Unit([seg], None if preamble else current, part))
        offset += len(page.text) + len(PAGE_SEPARATOR)
    return units


def _last_body_unit(units: list[_Unit]) -> _Unit | None:
    for unit in reversed(units):
        if unit.part != "footnote":
            return unit
    return None


# --- units → pieces ---------------------------------------------------------------------------


def _pack(units: list[_Unit], max_tokens: int, min_tokens: int) -> list[_Piece]:
    """Merge a short unit with the next one of the same paragraph; headings join what follows.
    A merged group over the limit is split at sentence ends later, so short text never stands alone."""
    groups: list[list[_Unit]] = []
    for unit in units:
        if groups:
            group = groups[-1]
            tokens = sum(u.tokens for u in group)
            only_headings = all(u.heading for u in group)
            same_key = group[-1].key == unit.key or only_headings
            # headings always join what follows (an over-long result is split at sentences later)
            if only_headings or (same_key and tokens < min_tokens):
                group.append(unit)
                continue
        groups.append([unit])
    pieces = []
    for group in groups:
        piece = _Piece("", paragraph=_label(group), part=_part(group))
        for unit in group:
            for seg in unit.segments:
                if piece.text:
                    piece.text += "\n\n" if seg is unit.segments[0] else " "
                t0 = len(piece.text)
                piece.text += seg.text
                piece.spans.append((t0, len(piece.text), seg.start, seg.page))
        pieces.append(piece)
    return pieces


def _label(group: list[_Unit]) -> str | None:
    labels = [u.paragraph for u in group if u.paragraph and not u.heading]
    if not labels:
        return None
    if len(set(labels)) == 1:
        return labels[0]
    return labels[0].split("(")[0]


def _part(group: list[_Unit]) -> Part | None:
    parts = [u.part for u in group if not u.heading and u.part]
    return parts[0] if parts else None


def _enforce_limit(
    pieces: list[_Piece], count_tokens: TokenCounter, max_tokens: int, overlap: int
) -> list[_Piece]:
    counts = count_tokens([p.text for p in pieces])
    out: list[_Piece] = []
    for piece, n in zip(pieces, counts, strict=True):
        out.extend([piece] if n <= max_tokens else _split(piece, count_tokens, max_tokens, overlap))
    return out


def _split(piece: _Piece, count_tokens: TokenCounter, max_tokens: int, overlap: int) -> list[_Piece]:
    """Sentence windows with overlap; a sentence longer than the limit is cut between words."""
    budget = max(8, max_tokens - 4)  # room for the special tokens each piece gets
    spans = sentence_spans(piece.text)
    sizes = count_tokens([piece.text[a:b] for a, b in spans])
    units: list[tuple[int, int, int]] = []
    for (a, b), n in zip(spans, sizes, strict=True):
        units.extend([(a, b, n)] if n <= budget else _word_windows(piece.text, a, b, count_tokens, budget))
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and total + units[j][2] <= budget:
            total += units[j][2]
            j += 1
        j = max(j, i + 1)
        windows.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        back, carried = j, 0
        while back - 1 > i and carried + units[back - 1][2] <= overlap:
            back -= 1
            carried += units[back][2]
        i = back
    result = []
    for a, b in windows:
        sub = _sub_piece(piece, a, b)
        if count_tokens([sub.text])[0] > max_tokens:
            mid = a + (b - a) // 2
            mid = piece.text.rfind(" ", a, mid) if piece.text.rfind(" ", a, mid) > a else mid
            result.extend(_split(_sub_piece(piece, a, mid), count_tokens, max_tokens, 0))
            result.extend(_split(_sub_piece(piece, mid, b), count_tokens, max_tokens, 0))
        else:
            result.append(sub)
    return result


_ABBREVIATION = re.compile(
    r"(\b(?:No|Nos|para|paras|e\.g|i\.e|Mr|Ms|Mrs|Dr|vol|chap|art|St|Corr|Add|Rev|Sales|p|pp|etc|al|Inc|Ltd"
    r"|approx|ca|cf|fig|Fig|vs|op|cit|H\.E|U\.S|incl|est|min|max|Amb)"
    r"|\b[A-Z])\.$"
)


def sentence_spans(text: str, *, clauses: bool = True) -> list[tuple[int, int]]:
    """Sentence spans (with `clauses`, also `;`/`:`-ended clauses), not cut after `No.`, `para.`,
    initials and the like."""
    spans, start = [], 0
    for m in (_SENTENCE_END if clauses else _FULL_STOP).finditer(text):
        end = m.start() + len(m.group(0).rstrip())
        if _ABBREVIATION.search(text[max(start, end - 8) : end]):
            continue
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _word_windows(
    text: str, a: int, b: int, count_tokens: TokenCounter, budget: int
) -> list[tuple[int, int, int]]:
    words = [(m.start() + a, m.end() + a) for m in re.finditer(r"\S+", text[a:b])]
    sizes = count_tokens([text[s:e] for s, e in words])
    out, i = [], 0
    while i < len(words):
        j, total = i, 0
        while j < len(words) and total + max(1, sizes[j] - 2) <= budget - 2:
            total += max(1, sizes[j] - 2)
            j += 1
        j = max(j, i + 1)
        out.append((words[i][0], words[j - 1][1], total + 2))
        i = j
    return out


def _sub_piece(piece: _Piece, a: int, b: int) -> _Piece:
    """The part [a, b) of a piece, with its span map cut to match."""
    while a < b and piece.text[a].isspace():
        a += 1
    while b > a and piece.text[b - 1].isspace():
        b -= 1
    sub = _Piece(piece.text[a:b], paragraph=piece.paragraph, part=piece.part)
    for t0, t1, d0, page in piece.spans:
        lo, hi = max(a, t0), min(b, t1)
        if lo < hi:
            sub.spans.append((lo - a, hi - a, d0 + (lo - t0), page))
    return sub
