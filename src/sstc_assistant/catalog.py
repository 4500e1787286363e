"""Document metadata: what the catalog says, else what the file name and first page reveal."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .references import BODIES
from .types import DocumentMeta

CATALOG_NAME = "catalog.json"
SIDECAR_SUFFIX = ".meta.json"

_LANG_SUFFIX = re.compile(r"\.(ar|zh|en|fr|ru|es)$", re.IGNORECASE)
_SYMBOL_NAME = re.compile(rf"^({BODIES})([_-][A-Za-z0-9.\-]+)+$")  # A_RES_72_237, DP-FPA_2025_1
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
_DATE = re.compile(
    r"\b(\d{1,2})\s+(January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\s+((?:19|20)\d{2})\b"
)
_RES_TITLE = re.compile(r"^\s*(\d{2,3}/\d{1,4})\.\s+(.{3,200}?)\s*$", re.MULTILINE)


class CatalogError(ValueError):
    pass


class Catalog:
    """Entries keyed by doc_id from `catalog.json` files and `<file>.meta.json` sidecars."""

    def __init__(self, entries: dict[str, dict] | None = None) -> None:
        self.entries: dict[str, dict] = dict(entries or {})

    @classmethod
    def load(cls, folders: list[Path]) -> Catalog:
        catalog = cls()
        for folder in folders:
            folder = Path(folder)
            file = folder / CATALOG_NAME if folder.is_dir() else folder.parent / CATALOG_NAME
            if file.is_file():
                catalog.add_file(file)
        return catalog

    def add_file(self, file: Path) -> None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CatalogError(f"{file}: not a readable JSON catalog ({exc})") from exc
        rows = data.get("documents", data) if isinstance(data, dict) else data
        if isinstance(rows, dict):
            rows = [{"doc_id": k, **v} for k, v in rows.items()]
        if not isinstance(rows, list):
            raise CatalogError(f"{file}: expected a list of documents")
        for row in rows:
            if isinstance(row, dict) and row.get("doc_id"):
                self.entries[str(row["doc_id"])] = row

    def _entry(self, doc_id: str, path: Path | None) -> dict:
        entry = dict(self.entries.get(doc_id, {}))
        if path is not None:
            sidecar = Path(str(path) + SIDECAR_SUFFIX)
            if sidecar.is_file():
                try:
                    entry.update(json.loads(sidecar.read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise CatalogError(f"{sidecar}: not readable JSON ({exc})") from exc
        return entry

    def signature(self, doc_id: str, path: Path | None = None) -> str:
        """Changes when the catalog entry of a document changes, so re-ingestion notices."""
        return json.dumps(self._entry(doc_id, path), sort_keys=True, ensure_ascii=False)

    def metadata_for(self, doc_id: str, first_page: str = "", path: Path | None = None) -> DocumentMeta:
        derived = derive_metadata(doc_id, first_page)
        entry = self._entry(doc_id, path)
        merged = derived.model_dump()
        merged.update({k: v for k, v in entry.items() if k in merged and v not in (None, "")})
        merged["doc_id"] = doc_id
        if not merged.get("source") and path is not None:
            merged["source"] = path.name
        return DocumentMeta.model_validate(merged)


def symbol_from_name(doc_id: str) -> str:
    """`A_RES_72_237.en` → `A/RES/72/237`; names that are not UN symbols give ''."""
    base = _LANG_SUFFIX.sub("", doc_id)
    if not _SYMBOL_NAME.match(base) or not re.search(r"\d", base):
        return ""
    return base.replace("_", "/").replace("DP-FPA", "DP/FPA")


def derive_metadata(doc_id: str, first_page: str) -> DocumentMeta:
    lang = _LANG_SUFFIX.search(doc_id)
    symbol = symbol_from_name(doc_id)
    text = first_page[:6000]
    title = _title_from(text, symbol)
    date = ""
    m = _DATE.search(text)
    if m:
        date = f"{int(m[3]):04d}-{_MONTHS[m[2].lower()]:02d}-{int(m[1]):02d}"
    return DocumentMeta(
        doc_id=doc_id,
        symbol=symbol,
        title=title,
        date=date,
        kind=_kind_from(symbol, title, text),
        language=(lang.group(1).lower() if lang else "en"),
        source="",
    )


def _title_from(text: str, symbol: str) -> str:
    m = _RES_TITLE.search(text)
    if m and "/RES/" in symbol:
        return f"{m[1]}. {m[2]}".strip()
    for line in (ln.strip() for ln in text.split("\n")):
        if len(line) < 12 or len(line) > 200:
            continue
        low = line.lower()
        if low.startswith(("report of", "note by", "letter dated", "identical letters", "resolution")):
            return line
    for line in (ln.strip() for ln in text.split("\n")):
        if 12 <= len(line) <= 160 and not re.search(
            r"distr|general assembly|security council|"
            r"economic and social|original|agenda item|"
            r"^\d|session|united nations$",
            line.lower(),
        ):
            return line
    return ""


def _kind_from(symbol: str, title: str, text: str) -> str:
    low = (title + " " + text[:1500]).lower()
    if "outcome document" in title.lower():
        return "outcome-document"
    if "/RES/" in symbol:
        return "resolution"
    if "report of the secretary-general" in low or "note by the secretary-general" in low:
        return "sg-report"
    return "other"
