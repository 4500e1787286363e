"""UN document symbols: spelling them, naming their files, and finding the ones a text cites.

Resolutions recall their predecessors ("Recalling its resolutions 57/270 B of 23 June 2003, 60/212
of ..."), and footnotes name reports by symbol ("A/74/336."); `cited_symbols` turns both into
symbols that `sstc fetch` can ask the document system for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .index import Index
    from .types import Answer

# the bodies whose documents ODS serves under these leading symbol parts
BODIES = "A|E|S|ST|DP|TD|UNW|SSC|FCCC|UNEP|HRC|CRC|CEDAW|ICCD|TCDC"
_SEGMENT = r"[A-Za-z0-9.\-()]+"
SYMBOL = re.compile(rf"^(?:{BODIES}|[A-Z][A-Z0-9]*)(?:/{_SEGMENT})+$")
# not after a Latin letter, digit or slash; after a Chinese character it may stand ("第A/RES/72/237号")
_IN_TEXT_PATTERN = rf"(?<![A-Za-z0-9_/])(?:{BODIES})(?:/[A-Za-z0-9.\-]+)*/[A-Za-z0-9.\-]*\d[A-Za-z0-9.\-]*"
_IN_TEXT = re.compile(_IN_TEXT_PATTERN)
_IN_TEXT_ANY_CASE = re.compile(_IN_TEXT_PATTERN, re.IGNORECASE)
# "resolution 73/291", "resolutions 57/270 B of 23 June 2003, 60/212 of ... and 71/244 of ..."
_RESOLUTIONS = re.compile(
    r"(?P<before>(?:\S+\s+){0,3})\b[Rr]esolutions?\s+"
    r"(?P<list>\d{2}/\d{1,3}(?:\s?[A-H]\b)?"
    r"(?:\s+of\s+\d{1,2}\s+[A-Z][a-z]+\s+\d{4})?"
    r"(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+)\d{2}/\d{1,3}(?:\s?[A-H]\b)?"
    r"(?:\s+of\s+\d{1,2}\s+[A-Z][a-z]+\s+\d{4})?)*)"
)
_ONE = re.compile(r"(\d{2})/(\d{1,3})(?:\s?([A-H])\b)?")
# resolutions of other bodies use the same "26/8" form: "Governing Council resolution 26/8"
_OTHER_BODY = re.compile(r"(Council|Board|Commission|Conference|Committee|Forum)\W*$")


class SymbolError(ValueError):
    pass


def normalize_symbol(text: str) -> str:
    """`A/RES/79/236` as ODS spells it, from that or the file-name form `A_RES_79_236`; spaces
    go (`57/270 B` is `57/270B`). Raises `SymbolError` for what cannot be a symbol."""
    raw = text.strip()
    symbol = re.sub(r"\s+", "", raw.replace("_", "/"))
    if "/" in symbol:
        head, rest = symbol.split("/", 1)
        symbol = f"{head.upper()}/{rest}"
    if not SYMBOL.match(symbol) or ".." in symbol or len(symbol) > 80:
        raise SymbolError(f"'{raw}' is not a UN document symbol (e.g. A/RES/79/236)")
    return symbol


def symbols_in(text: str, *, any_case: bool = False) -> list[tuple[str, int, int]]:
    """Every UN symbol written in `text` with its span, in order: `A/RES/72/237`, `E/ICEF/2025/11`
    (a full stop or hyphen after it is not part of it). The one reading of a symbol in running
    text, for questions, pages, footnotes and generated sentences alike.

    `any_case`: also `a/res/72/237`, as people type symbols into a question (returned upper-cased);
    documents spell them in capitals, and "a/2" in running text is not one. A symbol written as
    documents write it (`E/2025/15/Add.1`) is returned as written: passages are searched for it."""
    if any_case:
        return [
            (_as_documents_write(m[0].rstrip(".-")), m.start(), m.end())
            for m in _IN_TEXT_ANY_CASE.finditer(text)
        ]
    return [(m[0].rstrip(".-"), m.start(), m.end()) for m in _IN_TEXT.finditer(text)]


def _as_documents_write(symbol: str) -> str:
    return symbol if _IN_TEXT.fullmatch(symbol) else symbol.upper()


def file_stem(symbol: str, lang: str) -> str:
    """`A/RES/79/236`, `en` → `A_RES_79_236.en` (the doc_id of DESIGN.md)."""
    return f"{symbol.replace('/', '_')}.{lang}"


def cited_symbols(text: str, *, exclude: Iterable[str] = ()) -> list[str]:
    """The symbols a document's text refers to, in order of first mention: General Assembly
    resolutions ("resolution 64/222" is A/RES/64/222) and documents named by their symbol."""
    skip = {s.replace(" ", "") for s in exclude}
    found: dict[str, int] = {}
    flat = re.sub(r"\s+", " ", text)
    for m in _RESOLUTIONS.finditer(flat):
        if _OTHER_BODY.search(m["before"]) and "General Assembly" not in m["before"]:
            continue
        for one in _ONE.finditer(m["list"]):
            session, number, part = one.groups()
            if int(session) >= 31:  # from 1976 on; earlier ones are numbered "3251 (XXIX)"
                found.setdefault(f"A/RES/{session}/{number}{part or ''}", m.start("list") + one.start())
    for symbol, start, _ in symbols_in(flat):
        found.setdefault(symbol, start)
    return [s for s in sorted(found, key=found.__getitem__) if s not in skip]


@lru_cache(maxsize=4)
def _manifest_symbols(path: str, mtime: float) -> frozenset[str]:
    import tomllib

    try:
        rows = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("mandate", [])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return frozenset()
    return frozenset(str(row.get("symbol", "")).replace(" ", "") for row in rows if isinstance(row, dict))


def mandate_symbols(manifest: Path) -> frozenset[str]:
    """The symbols of the mandates manifest (empty when there is none), re-read when it changes."""
    try:
        return _manifest_symbols(str(manifest), manifest.stat().st_mtime)
    except OSError:
        return frozenset()


def unindexed_mandates(answer: Answer, index: Index) -> list[str]:
    """The mandates the cited passages refer to that the index does not hold: General Assembly
    resolutions and the manifest's documents. The answer names them, so a reader knows what to
    `sstc fetch` before relying on what the passage says about them."""
    if not answer.answerable or not answer.citations:
        return []
    passages = {s.chunk_id: s.text for s in answer.sources}
    cited: dict[str, None] = {}
    for c in answer.citations:
        own = [c.symbol] if c.symbol else []
        for symbol in cited_symbols(passages.get(c.chunk_id, c.quote), exclude=own):
            cited.setdefault(symbol, None)
    if not cited:
        return []
    manifest = mandate_symbols(index.settings.resolve(index.settings.mandates_manifest))
    wanted = [s for s in cited if s.startswith("A/RES/") or s in manifest]
    if not wanted:
        return []
    held = {d.symbol.replace(" ", "").rstrip("*") for d in index.documents()}
    return [s for s in wanted if s not in held]
