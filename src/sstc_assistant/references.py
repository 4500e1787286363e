"""UN document symbols: spelling them, naming their files, and finding the ones a text cites.

Resolutions recall their predecessors ("Recalling its resolutions 57/270 B of 23 June 2003, 60/212
of ..."), and footnotes name reports by symbol ("A/74/336."); `cited_symbols` turns both into
symbols that `sstc fetch` can ask the document system for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# the bodies whose documents ODS serves under these leading symbol parts
_BODIES = "A|E|S|ST|DP|TD|UNW|SSC|FCCC|UNEP|HRC|CRC|CEDAW|ICCD|TCDC"
_SEGMENT = r"[A-Za-z0-9.\-()]+"
SYMBOL = re.compile(rf"^(?:{_BODIES}|[A-Z][A-Z0-9]*)(?:/{_SEGMENT})+$")
_IN_TEXT = re.compile(rf"(?<![\w/])(?:{_BODIES})(?:/[A-Za-z0-9.\-]+)*/[A-Za-z0-9.\-]*\d[A-Za-z0-9.\-]*")
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
    for m in _IN_TEXT.finditer(flat):
        found.setdefault(m[0].rstrip(".-"), m.start())
    return [s for s in sorted(found, key=found.__getitem__) if s not in skip]
