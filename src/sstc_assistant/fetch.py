"""`sstc fetch`: UN documents by symbol from the Official Document System (ODS) or a mirror.

ODS answers `GET {SSTC_ODS_URL}/api/symbol/access?s=A/RES/79/236&l=en&t=pdf` with a redirect to
the PDF, and an unknown symbol with an HTML page (or a PDF of its error page) under status 200:
so what arrives is judged by its content, never by the status or the name alone. Downloads go to
a hidden `.NAME.part.pdf` beside the target (ignored by ingest) and are renamed when whole; a
later run resumes a partial file with an HTTP range request.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

import httpx
from pydantic import BaseModel, Field, ValidationError

from .documents import SUPPORTED_SUFFIXES, DocumentError, read_document
from .references import SymbolError, file_stem, normalize_symbol, symbols_in
from .settings import Settings

LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")  # the six official languages, as ODS names them
FetchStatus = Literal["fetched", "present", "refused", "failed"]
# at the head of another document's first page: "S/2023/664" where A/78/354 was asked for
Progress = Callable[[str, int, int | None], None]  # (label, bytes so far, total bytes or None)


class FetchResult(BaseModel):
    """What became of one symbol in one language."""

    symbol: str
    lang: str
    status: FetchStatus = Field(
        description="fetched: downloaded and checked; present: a file of it was there already; "
        "refused: the answer was not that document (never retried); failed: network or server "
        "trouble that outlasted the retries (a partial file stays for the next run to resume)"
    )
    path: str | None = None
    bytes: int = 0
    attempts: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("fetched", "present")

    def line(self) -> str:
        """One line for a person: `refused A/78/383 (en): ...`."""
        where = f" -> {Path(self.path).name}" if self.path and self.ok else ""
        size = f" ({self.bytes / 1e3:.0f} kB)" if self.status == "fetched" else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.status} {self.symbol} ({self.lang}){where}{size}{why}"


class Refused(Exception):
    """The answer is not the document asked for; retrying would not change that."""


class Transient(Exception):
    """Worth another try after a pause: a 5xx, a time-out, a connection cut mid-body."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class Mandate(BaseModel):
    """One entry of the mandates manifest (corpus/mandates.toml)."""

    model_config = {"extra": "forbid"}
    symbol: str
    kind: Literal["resolution", "outcome-document", "hlc-report", "sg-report"]
    year: int = Field(ge=1945, le=2100)
    mandates: str = Field(description="what it mandates, in short words of our own")
    cited_by: list[str] = Field(default_factory=list, description="where the documents refer to it")


def load_manifest(path: Path) -> list[str]:
    """The symbols of a manifest: TOML `[[mandate]]` entries (`symbol = ...`), or a text file of
    symbols, one a line (`#` starts a comment)."""
    if not path.is_file():
        raise ValueError(f"no manifest at {path}")
    if path.suffix.lower() == ".toml":
        return [m.symbol for m in load_mandates(path)]
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [normalize_symbol(line) for line in lines if line]


def load_mandates(path: Path) -> list[Mandate]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        mandates = [Mandate.model_validate(row) for row in data.get("mandate", [])]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: not a readable TOML manifest ({exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
    for m in mandates:
        m.symbol = normalize_symbol(m.symbol)
    return mandates


def existing_file(dest: Path, symbol: str, lang: str) -> Path | None:
    """A file of this document in any readable format (`A_RES_73_291.en.txt` counts: it has the
    same doc_id, and a PDF beside it would be refused by ingest as a duplicate)."""
    stem = file_stem(symbol, lang)
    for suffix in sorted(SUPPORTED_SUFFIXES):
        path = dest / f"{stem}{suffix}"
        if path.is_file() and path.stat().st_size > 0:
            return path
    return None


class Fetcher:
    """Downloads one document at a time, at most one request every `fetch_interval_seconds`."""

    def __init__(
        self,
        settings: Settings,
        *,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.base = settings.ods_url.rstrip("/")
        self.progress = progress
        self.sleep = sleep
        self._last = 0.0
        self.client = httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(settings.fetch_timeout_seconds),
            # identity: byte ranges of a resumed download count the file's bytes, not gzip's
            headers={
                "User-Agent": "sstc-assistant (sstc fetch; polite: one request a second)",
                "Accept-Encoding": "identity",
            },
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_all(self, symbols: Iterable[str], langs: Sequence[str], dest: Path) -> list[FetchResult]:
        return [self.fetch(symbol, lang, dest) for symbol in symbols for lang in langs]

    def fetch(self, symbol: str, lang: str, dest: Path) -> FetchResult:
        try:
            symbol = normalize_symbol(symbol)
        except SymbolError as exc:
            return FetchResult(symbol=symbol, lang=lang, status="refused", reason=str(exc))
        if lang not in LANGUAGES:
            return FetchResult(
                symbol=symbol,
                lang=lang,
                status="refused",
                reason=f"not an official language ({', '.join(LANGUAGES)})",
            )
        dest.mkdir(parents=True, exist_ok=True)
        there = existing_file(dest, symbol, lang)
        if there is not None:
            return FetchResult(
                symbol=symbol, lang=lang, status="present", path=str(there), bytes=there.stat().st_size
            )
        target = dest / f"{file_stem(symbol, lang)}.pdf"
        part = dest / f".{file_stem(symbol, lang)}.part.pdf"
        attempts, retries = 0, self.settings.fetch_retries
        while True:
            attempts += 1
            try:
                self._download(symbol, lang, part)
                note = self._check(part, symbol, lang)
            except Refused as exc:
                part.unlink(missing_ok=True)
                return FetchResult(
                    symbol=symbol, lang=lang, status="refused", attempts=attempts, reason=str(exc)
                )
            except Transient as exc:
                if attempts > retries:
                    return FetchResult(
                        symbol=symbol,
                        lang=lang,
                        status="failed",
                        attempts=attempts,
                        reason=f"{exc} (gave up after {attempts} attempts"
                        f"{'; the partial download is kept to resume' if part.exists() else ''})",
                    )
                backoff = self.settings.fetch_backoff_seconds * 2 ** (attempts - 1)
                self.sleep(min(60.0, max(backoff, exc.wait or 0.0)))
                continue
            size = part.stat().st_size
            part.replace(target)
            return FetchResult(
                symbol=symbol,
                lang=lang,
                status="fetched",
                path=str(target),
                bytes=size,
                attempts=attempts,
                reason=note,
            )

    # --- one request -----------------------------------------------------------------------------

    def _polite(self) -> None:
        wait = self._last + self.settings.fetch_interval_seconds - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last = time.monotonic()

    def _download(self, symbol: str, lang: str, part: Path) -> None:
        """Into `part`, continuing what an earlier attempt left there when the server allows."""
        offset = part.stat().st_size if part.is_file() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        limit = int(self.settings.max_file_mb * 1e6)
        label = f"{symbol} ({lang})"
        self._polite()
        url = f"{self.base}/api/symbol/access"
        try:
            with self.client.stream(
                "GET", url, params={"s": symbol, "l": lang, "t": "pdf"}, headers=headers
            ) as response:
                status = response.status_code
                if status == 416 and offset:  # the partial file is no prefix of this document: start over
                    part.unlink()
                    raise Transient("the partial download did not match the server's file", wait=0.0)
                if status == 404:
                    raise Refused("the document system has no such document (HTTP 404)")
                if status == 429 or status >= 500:
                    raise Transient(f"the server answered HTTP {status}", wait=_retry_after(response))
                if status >= 400:
                    raise Refused(f"the server refused the request (HTTP {status})")
                resumed = status == 206 and _range_start(response) == offset
                total = _total(response, offset if resumed else 0)
                if total is not None and total > limit:
                    raise Refused(f"{total / 1e6:.1f} MB, over the {self.settings.max_file_mb:g} MB limit")
                done = offset if resumed else 0
                with part.open("ab" if resumed else "wb") as fh:
                    for chunk in response.iter_raw():  # as it arrives: a cut-off keeps every byte
                        if done == 0 and chunk and not chunk.lstrip().startswith(b"%PDF-"):
                            raise Refused(_not_pdf(chunk, response.headers.get("content-type", "")))
                        fh.write(chunk)
                        done += len(chunk)
                        if done > limit:
                            raise Refused(
                                f"over the {self.settings.max_file_mb:g} MB limit (SSTC_MAX_FILE_MB)"
                            )
                        if self.progress:
                            self.progress(label, done, total)
        except httpx.TimeoutException as exc:
            raise Transient(
                f"no answer within {self.settings.fetch_timeout_seconds:g} s ({type(exc).__name__})"
            ) from exc
        except httpx.RemoteProtocolError as exc:
            raise Transient(f"the connection closed before the document was whole ({exc})") from exc
        except httpx.TransportError as exc:
            raise Transient(f"could not reach {self.base} ({exc or type(exc).__name__})") from exc

    def _check(self, part: Path, symbol: str, lang: str) -> str:
        """Refuse what is not a readable PDF of `symbol` in `lang`: empty, the system's error page,
        a document in another language (a mislabelled one); returns a note when the first page
        names another symbol but the file may still be this document (joint symbols)."""
        if not part.is_file() or part.stat().st_size == 0:
            raise Refused("the server sent an empty body (0 bytes)")
        with part.open("rb") as fh:
            fh.seek(max(0, part.stat().st_size - 2048))
            if b"%%EOF" not in fh.read():  # every whole PDF ends so: the rest is still to come
                raise Transient("the download stopped before the end of the PDF (no %%EOF)")
        try:
            parsed = read_document(part, max_pages=self.settings.max_pdf_pages)
        except DocumentError as exc:
            if "error page" in exc.reason:
                raise Refused("the document system answered with its error page: no such document") from exc
            if "truncated" in exc.reason:
                part.unlink()  # whole by its length, yet unreadable: a fresh copy may be fine
                raise Transient(exc.reason) from exc
            raise Refused(exc.reason) from exc
        text = " ".join(p.text for p in parsed.pages[:2])
        if symbol in re.sub(r"\s+", "", text):
            return ""
        named = [s for s, _, _ in symbols_in(re.sub(r"\s+", " ", parsed.pages[0].text[:200]))]
        other = next((s for s in named if not symbol.startswith(s)), "")
        written = guess_language(text)
        if written is not None and written != lang:
            also = f"; its first page names {other}" if other else ""
            raise Refused(f"the file is in {LANGUAGE_NAMES[written]}, not {LANGUAGE_NAMES[lang]}{also}")
        # a document may be issued under two symbols and print one: keep it, but say so
        return f"its first page names {other}, not {symbol}" if other else ""


LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "ru": "Russian",
    "ar": "Arabic",
    "zh": "Chinese",
}
_SCRIPTS = {
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
}
_COMMON_WORDS = {
    "en": {"the", "of", "and", "to", "in", "that", "for", "is", "on", "with", "by", "its"},
    "fr": {"le", "la", "les", "des", "et", "du", "que", "pour", "une", "dans", "sur", "au"},
    "es": {"el", "la", "los", "las", "y", "que", "del", "para", "por", "una", "con", "su"},
}


def guess_language(text: str) -> str | None:
    """Which official language a text is in, from its script or its commonest words; None when
    there is too little text to tell."""
    letters = sum(ch.isalpha() for ch in text)
    if letters < 200:
        return None
    for lang, script in _SCRIPTS.items():
        if len(script.findall(text)) > letters * 0.3:
            return lang
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    counts = {lang: sum(w in common for w in words) for lang, common in _COMMON_WORDS.items()}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] >= 10 and counts[best] > 1.5 * sorted(counts.values())[-2] else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _range_start(response: httpx.Response) -> int | None:
    m = re.match(r"bytes (\d+)-", response.headers.get("content-range", ""))
    return int(m[1]) if m else None


def _total(response: httpx.Response, offset: int) -> int | None:
    length = response.headers.get("content-length", "")
    return offset + int(length) if length.isdigit() else None


def _not_pdf(head: bytes, content_type: str) -> str:
    start = head.lstrip()[:200].lower()
    if start.startswith((b"<!doctype", b"<html", b"<?xml")) or b"<html" in start or "html" in content_type:
        return "not a PDF: the server sent an HTML page (the document system's 'not found' page?)"
    return f"not a PDF: the content starts {head[:12]!r} ({content_type or 'no content type'})"


def summary(results: Sequence[FetchResult]) -> str:
    counts = {s: sum(r.status == s for r in results) for s in ("fetched", "present", "refused", "failed")}
    return ", ".join(f"{n} {s}" for s, n in counts.items())
