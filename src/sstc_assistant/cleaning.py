"""Page clean-up: raw extracted page text to paragraphs separated by blank lines, without running
headers and footers, with wrapped lines re-joined and words de-hyphenated; and the printed `n/m`
page markers that split a plain text extraction back into its pages.

Pure text to text, apart from any file format, so every reader in `documents` shares it.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter

# the paragraph a footnote separator (a rule of underscores) becomes: the chunker takes what
# follows it on the page for footnotes
FOOTNOTE_RULE = "__________"

# --- printed page numbers in text extractions -----------------------------------------------

_PAGE_MARK = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")
_JOB_NUMBER = re.compile(r"^\s*\d{2}-\d{5}(\s*\(E\))?\s*$")


def infer_printed_pages(text: str) -> list[str] | None:
    """Split a text extraction at its printed `n/m` page markers (UN page headers and footers).

    Used only for plain text files without form feeds; returns None when the markers do not form
    one complete run 2..m, so no page number is ever claimed on a guess.
    """
    lines = text.split("\n")
    marks = [(i, int(m[1]), int(m[2])) for i, line in enumerate(lines) if (m := _PAGE_MARK.match(line))]
    totals = Counter(total for _, _, total in marks)
    if not totals:
        return None
    total, _ = totals.most_common(1)[0]
    found = {n: i for i, n, t in marks if t == total and 2 <= n <= total}
    if total < 2 or sorted(found) != list(range(2, total + 1)):
        return None
    near: Counter[str] = Counter()
    for i in found.values():
        near.update({_norm_line(line) for line in lines[max(0, i - 6) : i + 4] if line.strip()})
    running = {line for line, c in near.items() if c >= max(2, len(found) // 2)}

    def header_like(line: str) -> bool:
        s = line.strip()
        return not s or _norm_line(line) in running or bool(_JOB_NUMBER.match(s))

    cuts = []
    for n in range(2, total + 1):
        i = found[n]
        start = i
        while (
            start - 1 > (cuts[-1] if cuts else 0) and i - (start - 1) <= 7 and header_like(lines[start - 1])
        ):
            start -= 1
        cuts.append(start)
    bounds = [0, *cuts, len(lines)]
    return ["\n".join(lines[a:b]) for a, b in itertools.pairwise(bounds)]


# --- clean-up ---------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")
_NUMBERED = re.compile(r"^\s*(\d{1,3}\.|\([a-z]{1,3}\)|\([ivxl]{1,5}\)|[IVX]{1,5}\.|[A-H]\.)(\s|$)")
_BULLET = re.compile(r"^\s*[•●▪\-–]\s+")
_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")


def _norm_line(line: str) -> str:
    """Comparable form of a header/footer line: digits fold only in short lines (page numbers,
    job numbers), so two content lines differing by a figure are never taken for a header."""
    line = _WS.sub(" ", line).strip().lower()
    return _DIGITS.sub("#", line) if len(line) <= 40 else line


def normalize_chars(text: str) -> str:
    """NFKC plus the typographic characters UN PDFs use, so quotes match what people type."""
    text = unicodedata.normalize("NFKC", text)
    return (
        text.replace("\u2011", "-")
        .replace("\u00ad", "")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\u2028", "\n")
    )


def clean_pages(raw_pages: list[str]) -> list[str]:
    """Remove running headers/footers, re-join paragraphs and de-hyphenate, page by page."""
    pages_lines = [normalize_chars(p).split("\n") for p in raw_pages]
    repeated = _running_lines(pages_lines)
    vocabulary = _word_forms("\n".join(raw_pages))
    cleaned = []
    for lines in pages_lines:
        kept = _strip_running(lines, repeated)
        cleaned.append(_paragraphs(kept, vocabulary))
    return cleaned


def _running_lines(pages_lines: list[list[str]], zone: int = 5) -> set[str]:
    """Lines (digits folded) that recur at the top or bottom of many pages: headers and footers."""
    n = len(pages_lines)
    if n < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages_lines:
        content = [line for line in lines if line.strip()]
        counts.update({_norm_line(line) for line in content[:zone] + content[-zone:]})
    need = 2 if n <= 3 else max(2, int(0.3 * n))
    return {line for line, c in counts.items() if c >= need and len(line) <= 120}


def _strip_running(lines: list[str], repeated: set[str], zone: int = 5) -> list[str]:
    content_idx = [i for i, line in enumerate(lines) if line.strip()]
    edge = set(content_idx[:zone] + content_idx[-zone:])
    out = []
    for i, line in enumerate(lines):
        s = line.strip()
        if i in edge and (_norm_line(line) in repeated or _PAGE_MARK.match(s)):
            continue
        out.append(line)
    return out


_UNWRAPPED_LINE = 180
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")


def _word_forms(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _join_hyphenated(left: str, right: str, vocabulary: set[str]) -> str:
    """`coordi-` + `nation` → `coordination`, but `South-` + `South` stays `South-South`."""
    m_left = re.search(r"([A-Za-z]+)-$", left)
    m_right = re.match(r"([A-Za-z]+)", right)
    if not m_left or not m_right:
        return left + right
    a, b = m_left.group(1), m_right.group(1)
    joined, hyphenated = (a + b).lower(), f"{a}-{b}".lower()
    keep = b[0].isupper() or (hyphenated in vocabulary and joined not in vocabulary)
    return left + right if keep else left[:-1] + right


def _paragraphs(lines: list[str], vocabulary: set[str]) -> str:
    """Group lines into paragraphs: blank lines, numbering and indentation start a new one."""
    paras: list[str] = []
    current = ""
    previous = ""
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    # text that was never wrapped (one paragraph per line, headings on short lines)
    unwrapped = bool(lengths) and (
        lengths[len(lengths) // 2] > _UNWRAPPED_LINE or lengths[-1] > 2 * _UNWRAPPED_LINE
    )
    for raw in lines:
        line = _WS.sub(" ", raw.rstrip())
        stripped = line.strip()
        if not stripped:
            if current:
                paras.append(current)
                current = ""
            continue
        if re.fullmatch(r"_{5,}", stripped):
            if current:
                paras.append(current)
            paras.append(FOOTNOTE_RULE)
            current = ""
            continue
        starts_new = bool(
            _NUMBERED.match(stripped)
            or _BULLET.match(stripped)
            or (line.startswith(" ") and stripped[0].isupper())
            or unwrapped
            or len(previous) > _UNWRAPPED_LINE
        )
        previous = stripped
        if current and re.fullmatch(r"(\d{1,3}\.|\([a-z]{1,3}\)|\([ivxl]{1,5}\))", current):
            current = f"{current} {stripped}"  # a number alone on its line belongs to what follows
            continue
        if starts_new and current:
            paras.append(current)
            current = ""
        if not current:
            current = stripped
        elif current.endswith("-") and not current.endswith(" -"):
            current = _join_hyphenated(current, stripped, vocabulary)
        else:
            current = f"{current} {stripped}"
    if current:
        paras.append(current)
    return "\n\n".join(paras)
