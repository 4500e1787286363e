"""Readers: turn a file on disk into cleaned, 1-based pages, or fail with a precise reason.

Page text comes out as paragraphs separated by blank lines (lines of one paragraph joined), so
the chunker can work on paragraphs without knowing how the file laid them out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from .catalog import Catalog
from .cleaning import clean_pages, infer_printed_pages
from .errors import first_line
from .types import Page, ParsedDocument

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES
IGNORED_NAMES = {"catalog.json", "sources.md", "readme.md", ".gitkeep", ".ds_store"}
IGNORED_SUFFIXES = {".toml"}  # manifests beside the documents (corpus/mandates.toml), not documents

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
    return (
        path.is_file()
        and not path.name.startswith(".")
        and path.name.lower() not in IGNORED_NAMES
        and path.suffix.lower() not in IGNORED_SUFFIXES
    )


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
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (SSTC_MAX_FILE_MB)",
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
        raw_pages = _split_form_feeds(_html_to_text(_decode_text(path, data, suffix)))
    else:
        raw_pages = _split_form_feeds(_decode_text(path, data, suffix))
        if len(raw_pages) == 1:
            inferred_pages = infer_printed_pages(raw_pages[0])
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

_MAGIC = (
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive (or a .docx/.xlsx file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office 97-2003 file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"{\\rtf", "an RTF document"),
    (b"\x7fELF", "a program (ELF executable)"),
)


def sniff(data: bytes) -> str | None:
    """What a file's first bytes say it is, for formats people mistake for documents or rename."""
    head = data[:1024].lstrip()
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _pdf_pages(path: Path, data: bytes, max_pages: int) -> list[str]:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

    head = data[:1024].lstrip()
    if b"%PDF-" not in head:
        kind = sniff(data) or (
            "HTML" if head[:15].lower().startswith((b"<!doctype", b"<html")) else "unknown data"
        )
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
        declared = _declared_pages(reader)
        if declared > max_pages:  # before the page tree is walked: a bomb declares itself here
            raise DocumentError(path, f"PDF declares {declared} pages, over the {max_pages}-page limit")
        n = len(reader.pages)
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise DocumentError(path, "encrypted PDF: a password is needed to read it") from exc
    except LimitReachedError as exc:
        raise DocumentError(path, f"PDF structure over a safety limit of the reader ({_short(exc)})") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
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
        except LimitReachedError as exc:  # a decompression bomb: stop before the next page repeats it
            raise DocumentError(
                path, f"PDF page {len(pages) + 1} inflates beyond the reader's safety limit (a zip bomb?)"
            ) from exc
        except Exception:  # one broken page must not lose the others
            failures += 1
            pages.append("")
    if failures == n:
        raise DocumentError(path, "corrupt PDF: no page could be read")
    return pages


def _declared_pages(reader) -> int:
    """The page count the document's page tree root claims (0 when it claims nothing usable)."""
    try:
        count = reader.root_object["/Pages"].get_object().get("/Count", 0)
    except (KeyError, AttributeError, TypeError):  # let the page-tree walk judge a broken root
        return 0
    return count if isinstance(count, int) else 0


def _short(exc: BaseException) -> str:
    return first_line(exc)[:160]


def _decode_text(path: Path, data: bytes, suffix: str) -> str:
    """UTF-8 (BOM or not), UTF-16 (BOM or not), else Windows-1252/Latin-1: a user's text is read
    rather than refused for its encoding; binary data and renamed files are refused by name."""
    kind = sniff(data)
    if kind == "a PDF":
        raise DocumentError(path, f"the content is a PDF, not {suffix} text: rename the file to .pdf")
    if kind:
        raise DocumentError(path, f"the content is {kind}, not text (wrong file extension?)")
    encoding = _utf16_encoding(data)
    if encoding:
        try:
            return data.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            raise DocumentError(path, "invalid UTF-16 text") from exc
    sample = data[:8192]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise DocumentError(path, "binary data, not text (wrong file extension?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        high = sum(1 for b in data if b >= 0x80)
        if high > 0.3 * len(data):  # mostly non-Latin letters: a guess would be mojibake
            raise DocumentError(
                path,
                f"undecodable bytes: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}) "
                "nor Western European text; save the file as UTF-8",
            ) from exc
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _utf16_encoding(data: bytes) -> str | None:
    """UTF-16 by its byte-order mark, or by the zero byte beside every ASCII character."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.4 and zeros_even < 0.05:
        return "utf-16-le"
    if zeros_even > 0.4 and zeros_odd < 0.05:
        return "utf-16-be"
    return None


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
