#!/usr/bin/env python3
"""Validate the SSTC Assistant evaluation question set (JSON Lines).

Usage:
    python eval/check_dataset.py eval/questions.jsonl [--docs DIR ...]

Checks, for every record:
  * schema: required fields and types, unique ids, valid ``kind`` and ``lang``,
    ``answerable`` consistent with non-empty ``answers``/``sources``/``evidence``
    (and with ``kind == "unanswerable"``), one evidence span (20-250 characters)
    per source, ``history`` a list of earlier user questions, multi-doc questions
    citing at least two documents;
  * grounding: each source document exists in one of the document directories
    (``--docs`` first, then ``<repo>/corpus``, ``<repo>/../shared/corpus``,
    ``<repo>/../shared/un-docs`` and the same folders under /work); PDF sources
    give 1-based pypdf page numbers, ``.txt`` sources give ``"pages": []``
    (whole document) or the pages ``sstc_assistant.documents.read_document``
    infers from printed footers (the index's pages; checked when the package
    imports, else the whole text is searched); the evidence span occurs on the cited page(s), compared
    after normalisation (Unicode NFKC, case, soft hyphens removed, all dashes
    and hyphens removed together with surrounding whitespace, so that
    hyphenated line breaks such as ``develop-\\nment`` or ``South-\\nSouth`` match,
    whitespace collapsed);
  * answer support: at least one gold answer has >= 60 % of its content
    (non-stopword) tokens present in the cited evidence or pages (the union of
    all sources of the question, so answers of multi-doc questions may join
    facts from several documents);
  * the optional fields of generated sets (eval/generated/FORMAT.md): ``split``
    (dev/test), ``method``, ``origin`` (``{"doc_id", "page"}`` of the passage a
    question was made from, null only for ``out-of-domain``; a
    ``left-out-document`` question's ``origin.evidence`` must stand on that page),
    ``keypoints`` (each point has a phrase in the cited text), ``note``; ids
    ``q001`` or ``g-`` + 10 hex digits.

Prints a summary (counts per kind, language, answerability) and exits with
status 1 if any check fails. Needs only the standard library and pypdf (and,
for the inferred pages of .txt sources, the sstc_assistant package when installed).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
import unicodedata

UNANSWERABLE_KINDS = {"unanswerable", "left-out-document", "out-of-domain"}
KINDS = {"policy", "eligibility", "factoid", "multi-doc", "paraphrase"} | UNANSWERABLE_KINDS
SPLITS = {"dev", "test"}
ID_PATTERN = re.compile(r"q\d{3,}|g-[0-9a-f]{10}")
LANGS = {"en", "fr", "es", "ar", "zh", "ru"}
REQUIRED = {
    "id": str,
    "question": str,
    "answers": list,
    "sources": list,
    "answerable": bool,
    "kind": str,
    "lang": str,
    "evidence": list,
    "history": list,
}
EVIDENCE_MIN, EVIDENCE_MAX = 20, 250
COVERAGE_MIN = 0.6

_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers him his how i if in into is it its itself just me more most my
no nor not of off on once only or other our ours out over own same she should so some such than
that the their theirs them then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours per via upon
within inter alia etc
"""
STOPWORDS = set(re.split(r"\s+", _STOPWORD_TEXT.strip()))

_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\-]")
_QUOTES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
}


def normalise(text: str) -> str:
    """Canonical form used for span matching and answer tokens."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u00ad", "")
    for k, v in _QUOTES.items():
        text = text.replace(k, v)
    text = text.lower()
    text = _DASHES.sub("-", text)
    # drop hyphens with the whitespace around them: joins hyphenated line
    # breaks ("develop-\nment", "South-\nSouth") and hyphenated compounds alike
    text = re.sub(r"\s*-\s*", "", text)
    return re.sub(r"\s+", " ", text).strip()


def tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", normalise(text))


def content_tokens(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOPWORDS]


class DocStore:
    """Finds documents by doc_id and returns page texts (cached)."""

    def __init__(self, dirs: list[str]):
        self.dirs = [d for d in dirs if os.path.isdir(d)]
        self._pdf: dict[str, object] = {}
        self._pages: dict[tuple[str, int], str] = {}
        self._txt: dict[str, str] = {}
        self._txt_pages: dict[str, list[str] | None] = {}

    def locate(self, doc_id: str) -> str | None:
        for d in self.dirs:
            for ext in (".pdf", ".txt"):
                p = os.path.join(d, doc_id + ext)
                if os.path.isfile(p):
                    return p
        return None

    def n_pages(self, path: str) -> int:
        return len(self._reader(path).pages)

    def _reader(self, path: str):
        if path not in self._pdf:
            try:  # imported lazily: only PDF sources need it
                from pypdf import PdfReader
            except ImportError:
                raise SystemExit(
                    "check_dataset.py: pypdf is required to read PDF sources (pip install pypdf)"
                ) from None

            self._pdf[path] = PdfReader(path)
        return self._pdf[path]

    def page_text(self, path: str, page: int) -> str:
        key = (path, page)
        if key not in self._pages:
            self._pages[key] = self._reader(path).pages[page - 1].extract_text() or ""
        return self._pages[key]

    def txt_pages(self, path: str) -> list[str] | None:
        """Pages of a text file as the assistant's reader infers them; None without the package."""
        if path not in self._txt_pages:
            try:
                from sstc_assistant.documents import read_document
            except ImportError:
                self._txt_pages[path] = None
            else:
                self._txt_pages[path] = [p.text for p in read_document(path).pages]
        return self._txt_pages[path]

    def txt_text(self, path: str) -> str:
        if path not in self._txt:
            with open(path, encoding="utf-8") as fh:
                self._txt[path] = fh.read()
        return self._txt[path]


def default_dirs() -> list[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    shared = os.path.join(os.path.dirname(repo), "shared")
    out = [
        os.path.join(repo, "corpus"),
        os.path.join(shared, "corpus"),
        os.path.join(shared, "un-docs"),
        "/work/main/corpus",
        "/work/shared/corpus",
        "/work/shared/un-docs",
    ]
    seen, res = set(), []
    for d in out:
        a = os.path.abspath(d)
        if a not in seen:
            seen.add(a)
            res.append(a)
    return res


def check_schema(rec: dict, errors: list[str]) -> None:
    for key, typ in REQUIRED.items():
        if key not in rec:
            errors.append(f"missing field {key!r}")
        elif not isinstance(rec[key], typ):
            errors.append(f"field {key!r} should be {typ.__name__}")
    if errors:
        return
    if not ID_PATTERN.fullmatch(rec["id"]):
        errors.append(f"id {rec['id']!r} should look like q001 or g-0123456789")
    if not rec["question"].strip():
        errors.append("empty question")
    if rec["kind"] not in KINDS:
        errors.append(f"invalid kind {rec['kind']!r}")
    if rec["lang"] not in LANGS:
        errors.append(f"invalid lang {rec['lang']!r}")
    if not all(isinstance(h, str) and h.strip() for h in rec["history"]):
        errors.append("history must be a list of non-empty strings")
    if not all(isinstance(a, str) and a.strip() for a in rec["answers"]):
        errors.append("answers must be non-empty strings")
    if not all(isinstance(e, str) for e in rec["evidence"]):
        errors.append("evidence must be strings")
    for s in rec["sources"]:
        if (
            not isinstance(s, dict)
            or not isinstance(s.get("doc_id"), str)
            or not isinstance(s.get("pages"), list)
            or not all(isinstance(p, int) and not isinstance(p, bool) for p in s["pages"])
        ):
            errors.append(f"bad source entry {s!r}")
    check_optional_fields(rec, errors)
    if rec["answerable"]:
        if rec["kind"] in UNANSWERABLE_KINDS:
            errors.append(f"answerable question has kind {rec['kind']!r}")
        if not rec["answers"]:
            errors.append("answerable question without answers")
        if not rec["sources"]:
            errors.append("answerable question without sources")
        if len(rec["evidence"]) != len(rec["sources"]):
            errors.append("evidence must have one span per source")
        for e in rec["evidence"]:
            if isinstance(e, str) and not EVIDENCE_MIN <= len(e.strip()) <= EVIDENCE_MAX:
                errors.append(
                    f"evidence length {len(e.strip())} outside {EVIDENCE_MIN}-{EVIDENCE_MAX}: {e[:60]!r}"
                )
        if rec["kind"] == "multi-doc":
            docs = {s.get("doc_id") for s in rec["sources"] if isinstance(s, dict)}
            if len(docs) < 2:
                errors.append("multi-doc question must cite at least two documents")
    else:
        if rec["kind"] not in UNANSWERABLE_KINDS:
            errors.append(f"unanswerable question must have a kind of {sorted(UNANSWERABLE_KINDS)}")
        if rec["answers"] or rec["sources"] or rec["evidence"]:
            errors.append("unanswerable question must have empty answers/sources/evidence")


def check_optional_fields(rec: dict, errors: list[str]) -> None:
    """Types of the fields generated sets add (all optional for hand-made sets)."""
    if "split" in rec and rec["split"] not in SPLITS:
        errors.append(f"split {rec['split']!r} should be one of {sorted(SPLITS)}")
    if "method" in rec and not (isinstance(rec["method"], str) and rec["method"].strip()):
        errors.append("method must be a non-empty string")
    if "note" in rec and not isinstance(rec["note"], str):
        errors.append("note must be a string")
    if "origin" in rec:
        origin = rec["origin"]
        if origin is None:
            if rec.get("kind") != "out-of-domain":
                errors.append("origin may be null only for out-of-domain questions")
        elif (
            not isinstance(origin, dict)
            or not isinstance(origin.get("doc_id"), str)
            or not isinstance(origin.get("page"), int)
            or isinstance(origin.get("page"), bool)
            or origin["page"] < 1
        ):
            errors.append(f"origin should be {{'doc_id': str, 'page': int >= 1}} or null: {origin!r}")
        elif rec.get("kind") == "out-of-domain":
            errors.append("an out-of-domain question has no origin document")
        elif rec.get("kind") == "left-out-document" and not isinstance(origin.get("evidence"), str):
            errors.append("a left-out-document question needs origin.evidence (where the answer is)")
    if "keypoints" in rec:
        kp = rec["keypoints"]
        if not (
            isinstance(kp, list)
            and kp
            and all(
                isinstance(point, list) and point and all(isinstance(a, str) and a.strip() for a in point)
                for point in kp
            )
        ):
            errors.append("keypoints must be a non-empty list of non-empty lists of phrases")
        elif not rec.get("answerable"):
            errors.append("keypoints only make sense for answerable questions")


def _source_text(store: DocStore, path: str, doc_id: str, pages: list[int], errors: list[str]) -> str | None:
    """The text a source's evidence must stand in: its pages, or the whole text document."""
    if path.endswith(".pdf"):
        if not pages:
            errors.append(f"{doc_id}: PDF source needs page numbers")
            return None
        n = store.n_pages(path)
        bad = [p for p in pages if not 1 <= p <= n]
        if bad:
            errors.append(f"{doc_id}: pages {bad} outside 1..{n}")
            return None
        return "\n".join(store.page_text(path, p) for p in sorted(set(pages)))
    if not pages:
        return store.txt_text(path)
    inferred = store.txt_pages(path)
    if inferred is None:  # without the package the pages cannot be checked: search the whole text
        return store.txt_text(path)
    bad = [p for p in pages if not 1 <= p <= len(inferred)]
    if bad:
        errors.append(f"{doc_id}: pages {bad} outside the inferred pages 1..{len(inferred)}")
        return None
    return "\n".join(inferred[p - 1] for p in sorted(set(pages)))


def check_origin(rec: dict, store: DocStore, errors: list[str]) -> None:
    """The passage a generated question was made from exists (and holds a left-out answer)."""
    origin = rec.get("origin")
    if not isinstance(origin, dict):
        return
    path = store.locate(origin["doc_id"])
    if path is None:
        errors.append(f"origin document {origin['doc_id']!r} not found")
        return
    text = _source_text(store, path, origin["doc_id"], [origin["page"]], errors)
    ev = origin.get("evidence")
    if text is not None and isinstance(ev, str) and normalise(ev) not in normalise(text):
        errors.append(f"{origin['doc_id']}: origin evidence not found on page {origin['page']}: {ev[:80]!r}")


def check_grounding(rec: dict, store: DocStore, errors: list[str]) -> None:
    support_texts = []
    for src, ev in zip(rec["sources"], rec["evidence"], strict=False):
        doc_id, pages = src["doc_id"], src["pages"]
        path = store.locate(doc_id)
        if path is None:
            errors.append(f"document {doc_id!r} not found")
            continue
        haystack = _source_text(store, path, doc_id, pages, errors)
        if haystack is None:
            continue
        if normalise(ev) not in normalise(haystack):
            where = f"page(s) {pages}" if pages else "document"
            errors.append(f"{doc_id}: evidence not found on {where}: {ev[:80]!r}")
        support_texts.append(ev)
        support_texts.append(haystack)
    if not support_texts:
        return
    cited = normalise("\n".join(support_texts))
    for i, point in enumerate(rec.get("keypoints") or []):
        if not any(normalise(phrase) in cited for phrase in point):
            errors.append(f"keypoint {i + 1} has no phrase in the cited text: {point!r}")
    joined = "\n".join(support_texts)
    # the normalised tokens join words across dashes ("CS – a" -> "csa"); the plain ones keep them
    support = set(tokens(joined)) | set(re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", joined).lower()))
    best, best_answer = 0.0, rec["answers"][0] if rec["answers"] else ""
    for ans in rec["answers"]:
        ct = content_tokens(ans)
        if not ct:
            continue
        cov = sum(t in support for t in ct) / len(ct)
        if cov > best:
            best, best_answer = cov, ans
    if best < COVERAGE_MIN:
        errors.append(
            f"no gold answer is supported by the cited text (best coverage {best:.0%} for {best_answer!r})"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset", help="questions.jsonl")
    ap.add_argument(
        "--docs",
        action="append",
        default=[],
        help="extra directory holding documents (repeatable; searched first)",
    )
    ap.add_argument("--quiet", action="store_true", help="only print failures and totals")
    args = ap.parse_args(argv)

    store = DocStore([os.path.abspath(d) for d in args.docs] + default_dirs())
    failures: dict[str, list[str]] = collections.OrderedDict()
    records = []
    with open(args.dataset, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                failures[f"line {lineno}"] = [f"invalid JSON: {exc}"]
                continue
            if not isinstance(rec, dict):
                failures[f"line {lineno}"] = ["record is not an object"]
                continue
            records.append((lineno, rec))

    ids = collections.Counter(r.get("id") for _, r in records)
    questions = collections.Counter(
        (tuple(r.get("history") or []), (r.get("question") or "").strip().lower()) for _, r in records
    )
    for lineno, rec in records:
        label = f"{rec.get('id', '?')} (line {lineno})"
        errors: list[str] = []
        if ids[rec.get("id")] > 1:
            errors.append("duplicate id")
        if questions[(tuple(rec.get("history") or []), (rec.get("question") or "").strip().lower())] > 1:
            errors.append("duplicate question")
        check_schema(rec, errors)
        if not errors:
            try:
                check_origin(rec, store, errors)
                if rec["answerable"]:
                    check_grounding(rec, store, errors)
            except Exception as exc:  # unreadable PDF and the like
                errors.append(f"error while reading sources: {exc!r}")
        if errors:
            failures[label] = errors

    kinds = collections.Counter(r.get("kind") for _, r in records)
    langs = collections.Counter(r.get("lang") for _, r in records)
    answerable = sum(1 for _, r in records if r.get("answerable") is True)
    followups = sum(1 for _, r in records if r.get("history"))
    print(f"{len(records)} questions in {args.dataset}")
    print(
        f"  answerable: {answerable}, unanswerable: {len(records) - answerable}, "
        f"follow-ups (with history): {followups}"
    )
    print("  per kind: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    print("  per lang: " + ", ".join(f"{k}={v}" for k, v in sorted(langs.items())))
    for field in ("split", "method"):
        counts = collections.Counter(r[field] for _, r in records if field in r)
        if counts:
            print(f"  per {field}: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    if not args.quiet:
        print("  document directories: " + ", ".join(store.dirs))
    if failures:
        print(f"\nFAILED: {len(failures)} record(s) with problems")
        for label, errs in failures.items():
            for e in errs:
                print(f"  {label}: {e}")
        return 1
    print("\nOK: all records passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
