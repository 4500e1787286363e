"""Readers: turn a file on disk into cleaned, 1-based pages, or fail with a precise reason.

Page text comes out as paragraphs separated by blank lines (lines of one paragraph joined), so
the chunker can work on paragraphs without knowing how the file laid them out.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from .catalog import Catalog
from .types import Page, ParsedDocument

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES
IGNORED_NAMES = {"catalog.json", "sources.md", "readme.md", ".gitkeep", ".ds_store"}

FOOTNOTE_RULE = "__________"
_ERROR_PAGE_PHRASES = (
    "the document you are looking for does not exist",
    "404 not found",
    "page not found",
    "access denied",
)


class DocumentError(Exception):
    """A file that cannot be ingested; `reason` is one line a person can act on."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def is_candidate(path: Path) -> bool:
    """Files a corpus folder walk considers (catalogs and hidden files are not documents)."""
    return path.is_file() and not path.name.startswith(".") and path.name.lower() not in IGNORED_NAMES


def doc_id_for(path: Path) -> str:
    """The file name without its extension (DESIGN.md): `A_80_39.en.pdf` → `A_80_39.en`."""
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def read_document(
    path: Path, catalog: Catalog | None = None, *, max_bytes: int | None = None, max_pages: int = 3000
) -> ParsedDocument:
    """Parse one file; raises `DocumentError` with the reason when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise DocumentError(path, "no such file")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(path, "empty file (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise DocumentError(
            path,
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit (SSTC_MAX_FILE_MB)",
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            path,
            f"unsupported file type '{suffix or '(none)'}' "
            f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})",
        )
    data = path.read_bytes()
    inferred = False
    if suffix in PDF_SUFFIXES:
        raw_pages = _pdf_pages(path, data, max_pages)
    elif suffix in HTML_SUFFIXES:
        raw_pages = _split_form_feeds(_html_to_text(_decode_text(path, data)))
    else:
        raw_pages = _split_form_feeds(_decode_text(path, data))
        if len(raw_pages) == 1:
            inferred_pages = _infer_printed_pages(raw_pages[0])
            if inferred_pages is not None:
                raw_pages, inferred = inferred_pages, True

    pages = clean_pages(raw_pages)
    if not any(p.strip() for p in pages):
        if suffix in PDF_SUFFIXES:
            raise DocumentError(path, "no extractable text — scanned? OCR is not supported yet")
        raise DocumentError(path, "no text in file (only whitespace)")
    _reject_error_page(path, pages)

    doc_id = doc_id_for(path)
    meta = (catalog or Catalog()).metadata_for(doc_id, first_page=pages[0], path=path)
    return ParsedDocument(
        meta=meta,
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        pages=[Page(number=i + 1, text=t) for i, t in enumerate(pages)],
        pages_inferred=inferred,
    )


# --- format readers -------------------------------------------------------------------------


def _pdf_pages(path: Path, data: bytes, max_pages: int) -> list[str]:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    head = data[:1024].lstrip()
    if b"%PDF-" not in head:
        kind = "HTML" if head[:15].lower().startswith((b"<!doctype", b"<html")) else "unknown data"
        raise DocumentError(path, f"not a PDF: the content is {kind} (no %PDF- header)")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        import io

        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types for unsupported crypto
                raise DocumentError(path, f"encrypted PDF that cannot be opened ({exc})") from exc
            if not ok:
                raise DocumentError(path, "encrypted PDF: a password is needed to read it")
        n = len(reader.pages)
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise DocumentError(path, "encrypted PDF: a password is needed to read it") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise DocumentError(path, f"corrupt or truncated PDF ({_short(exc)})") from exc
    if n == 0:
        raise DocumentError(path, "PDF has no pages")
    if n > max_pages:
        raise DocumentError(path, f"PDF has {n} pages, over the {max_pages}-page limit")
    pages: list[str] = []
    failures = 0
    for page in reader.pages:
        try:
            pages.append(page.extract_text() or "")
        except Exception:  # one broken page must not lose the others
            failures += 1
            pages.append("")
    if failures == n:
        raise DocumentError(path, "corrupt PDF: no page could be read")
    return pages


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _decode_text(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(path, "invalid UTF-16 text") from exc
    sample = data[:8192]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise DocumentError(path, "binary data, not text (wrong file extension?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            path,
            f"undecodable bytes: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8",
        ) from exc


def _split_form_feeds(text: str) -> list[str]:
    return text.split("\f")


class _HTMLText(HTMLParser):
    BLOCKS = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "section",
            "article",
            "header",
            "footer",
            "table",
            "ul",
            "ol",
        ]
    )
    SKIP = frozenset({"script", "style", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data.replace("\n", " "))


def _html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


# --- printed page numbers in text extractions -----------------------------------------------

_PAGE_MARK = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")
_JOB_NUMBER = re.compile(r"^\s*\d{2}-\d{5}(\s*\(E\))?\s*$")


def _infer_printed_pages(text: str) -> list[str] | None:
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


def _reject_error_page(path: Path, pages: list[str]) -> None:
    if len(pages) > 2:
        return
    text = " ".join(pages).lower()
    if len(text) < 3000 and any(p in text for p in _ERROR_PAGE_PHRASES):
        raise DocumentError(path, "an error page saved as a document, not the document itself")


def iter_corpus_files(paths: Iterable[Path]) -> list[Path]:
    """Every candidate file under the given files/folders, sorted, without duplicates."""
    seen: dict[Path, None] = {}
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if is_candidate(f) and not any(part.startswith(".") for part in f.relative_to(p).parts):
                    seen.setdefault(f.resolve(), None)
        elif p.exists():
            seen.setdefault(p.resolve(), None)
    return list(seen)
