"""Partner briefing: what the documents say to a city or institution that considers joining the
Cities Project. A set of retrieval questions composed from its profile, each answered (and cited)
by the same Assistant; every quote is a whole sentence or sub-paragraph, and where the documents
are silent on the partner's region, kind of entity, themes or how to join, the briefing says so."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from .assistant import Assistant
from .chunking import sentence_spans
from .index import Index
from .lexicons import alternation, lexicon
from .retrieval import Filters
from .types import Answer, Citation

Region = Literal[
    "Africa",
    "Arab States",
    "Asia and the Pacific",
    "Europe and the CIS",
    "Latin America and the Caribbean",
    "other",
]
EntityType = Literal[
    "municipal government",
    "provincial government",
    "national agency",
    "UN entity",
    "civil society organization",
    "private sector",
    "academia",
]
_DATA = lexicon("briefing")
THEMES: list[str] = list(_DATA["themes"])
PROJECT = Filters(kinds=["project-report"])


class Profile(BaseModel):
    model_config = {"extra": "forbid"}
    name: str = Field("", max_length=200, description="the city or institution (optional)")
    region: Region
    entity_type: EntityType
    themes: list[str] = Field(default_factory=list, max_length=10)


class Section(BaseModel):
    title: str
    question: str
    answer: Answer = Field(
        description="whole quoted sentences, each cited; when the point is not said, the note and the "
        "sentences it relies on"
    )
    said: bool = Field(description="the documents address this point for this profile")
    note: str = Field(
        "",
        description="the briefing's own words: which of the partner's points the documents address and "
        "which they do not say or mention; [n] marks refer to the citations",
    )
    named: list[str] = Field(
        default_factory=list, description="the regions, kinds of entity or themes the quoted sentences name"
    )
    not_mentioned: list[str] = Field(
        default_factory=list,
        description="the partner's region, kind of entity or themes the Cities Project documents never mention",
    )


class Briefing(BaseModel):
    profile: Profile
    sections: list[Section]

    def markdown(self) -> str:
        """Quotes as the assistant's answer, the briefing's own statements in italics, and the
        quote itself beside a citation that backs a statement rather than a quoted answer."""
        parts = []
        for s in self.sections:
            blocks = [f"### {s.title}"]
            if s.said:
                blocks.append(s.answer.answer)
            if s.note or not s.said:
                blocks.append(f"_{s.note or 'The documents do not say.'}_")
            if s.answer.citations:  # a statement's backing sentence is shown: it is not in the text
                blocks.append("\n".join(citation_line(c, quoted=not s.said) for c in s.answer.citations))
            parts.append("\n\n".join(blocks))
        return "\n\n".join(parts) + "\n"


def citation_line(c: Citation, *, quoted: bool) -> str:
    """`- [1] place`, with the quote when the section's text does not already show it."""
    line = f"- [{c.n}] {c.human}"
    return f"{line}: “{' '.join(c.quote.split())}”" if quoted else line


# --- what a sentence names ------------------------------------------------------------------


class Items:
    """Regions, kinds of entity or themes, each with the patterns by which a sentence names it."""

    def __init__(self, table: dict[str, dict]) -> None:
        self.say = {name: entry["say"] for name, entry in table.items()}
        self.patterns = {
            name: alternation(entry["patterns"]) for name, entry in table.items() if entry["patterns"]
        }

    def extended(self, names: Sequence[str]) -> Items:
        """These items and the partner's own themes the data does not know, each named by its words."""
        out = Items({})
        out.say, out.patterns = dict(self.say), dict(self.patterns)
        for name in names:
            if name not in out.say:
                out.say[name] = name
                out.patterns[name] = re.compile(r"\b" + r"\s+".join(map(re.escape, name.split())), re.I)
        return out

    def canonical(self, name: str) -> str:
        """The item as the data names it ('Knowledge Sharing ' is 'knowledge sharing'), else as typed."""
        name = " ".join(name.split())
        return next((known for known in self.say if known.casefold() == name.casefold()), name)

    def named_in(self, text: str) -> list[str]:
        """The items `text` names, in the order it names them."""
        text = _MASKED.sub(lambda m: " " * len(m.group(0)), text)
        found = {name: m.start() for name, p in self.patterns.items() if (m := p.search(text))}
        return sorted(found, key=found.__getitem__)

    def mentions(self, name: str, text: str) -> bool:
        """Whether `text` names the item anywhere: what tells 'not mentioned' from 'not quoted'."""
        pattern = self.patterns.get(name)
        return pattern is not None and pattern.search(_MASKED.sub(" ", text)) is not None

    def said(self, names: Sequence[str]) -> str:
        return join([self.say[n] for n in names])


_MASKED = alternation([re.escape(name) for name in _DATA["masked"]])
REGIONS = Items(_DATA["regions"])
ENTITIES = Items(_DATA["entities"])
THEME_ITEMS = Items(_DATA["themes"])
_JOINING = alternation(_DATA["joining"])


def join(items: Sequence[str]) -> str:
    """`A, B and C`; with a serial comma when an item has an 'and' of its own (`Asia and the
    Pacific, and Europe and the CIS`), which would otherwise run into the next."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    comma = "," if len(items) > 2 and any(" and " in i for i in items) else ""
    return f"{', '.join(items[:-1])}{comma} and {items[-1]}"


# --- whole quotes ---------------------------------------------------------------------------

_SUB_ITEM = re.compile(r"^\((?:[a-z]{1,3}|[ivxl]{1,5})\)\s")
_WHOLE_END = re.compile(r"(?:[.!?;:。！？؛؟][\"”’)\]]*\d*|;\s+(?:and|or))$")


def is_whole(text: str) -> bool:
    """A whole sentence or sub-paragraph: it does not start in lower case mid-clause (a
    sub-paragraph's `(a) recognize …` does) and it ends as a sentence or list item ends."""
    text = text.strip()
    if not text or not _WHOLE_END.search(text):
        return False
    return not text[0].islower() or bool(_SUB_ITEM.match(text))


def whole_span(doc: str, a: int, b: int) -> tuple[int, int]:
    """[a, b) widened to the whole sentences of its paragraph block that it touches."""
    start = doc.rfind("\n\n", 0, a)
    start = 0 if start < 0 else start + 2
    stop = doc.find("\n\n", b)
    stop = len(doc) if stop < 0 else stop
    touched = [
        (s, e) for s, e in sentence_spans(doc[start:stop], clauses=False) if s < b - start and e > a - start
    ]
    return (start + touched[0][0], start + touched[-1][1]) if touched else (a, b)


def place(doc: str, quote: str, page: int | None) -> tuple[int, int] | None:
    """Where `quote` stands in the document text (whitespace may differ: page breaks, joined
    lines), preferring an occurrence on the cited page."""
    words = quote.split()
    if not words:
        return None
    spans = [m.span() for m in re.finditer(r"\s+".join(map(re.escape, words)), doc)]
    on_page = [s for s in spans if page is not None and doc.count("\f", 0, s[0]) + 1 == page]
    return (on_page or spans or [None])[0]


class Reader:
    """The document texts one briefing reads: to make a quote whole where a chunk boundary or
    a clause-level quote cut it, and to tell 'not mentioned' from 'not quoted'."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._texts: dict[str, str] = {}
        self._reports: str | None = None

    def text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            self._texts[doc_id] = self.index.document_text(doc_id)
        return self._texts[doc_id]

    def reports(self) -> str:
        """All the Cities Project documents (kind project-report) as one text."""
        if self._reports is None:
            ids = [d for d, meta in self.index.all_meta().items() if meta.kind == "project-report"]
            self._reports = "\n\n".join(self.text(d) for d in sorted(ids))
        return self._reports

    def whole(self, c: Citation) -> Citation | None:
        """The citation with its quote widened to the whole sentence or sub-paragraph that holds
        it, or None when no whole sentence can be found for it."""
        doc = self.text(c.doc_id)
        at = place(doc, c.quote, c.pages[0] if c.pages else None)
        if at is None:
            return c if is_whole(c.quote) else None
        start, stop = whole_span(doc, *at)
        quote = doc[start:stop].strip()
        if not is_whole(quote):
            return None
        if " ".join(quote.split()) == " ".join(c.quote.split()):
            return c
        start = doc.index(quote, start)
        pages = list(range(doc.count("\f", 0, start) + 1, doc.count("\f", 0, start + len(quote)) + 2))
        return c.model_copy(update={"quote": quote.replace("\f", "\n"), "pages": pages})

    def quotes(self, answer: Answer) -> list[Citation]:
        """An answer's citations as whole sentences, each once."""
        out: dict[tuple[str, str], Citation] = {}
        for c in answer.citations:
            w = self.whole(c)
            if w is not None:
                out.setdefault((w.doc_id, " ".join(w.quote.split())), w)
        return list(out.values())


def naming(quotes: Sequence[Citation], items: Items) -> list[tuple[Citation, list[str]]]:
    """The quotes that name some of `items`, each with the ones it names."""
    return [(c, names) for c in quotes if (names := items.named_in(c.quote))]


def markers(n: int) -> str:
    """`[1]`, `[1] [2]`: the marks a statement carries for the `n` sentences it relies on."""
    return " ".join(f"[{i}]" for i in range(1, n + 1))


def section(
    title: str,
    answer: Answer,
    quotes: list[Citation],
    note: str = "",
    *,
    backing: Sequence[Citation] = (),
    named: Sequence[str] = (),
    not_mentioned: Sequence[str] = (),
) -> Section:
    """A section re-composed as a chat answer is: each quoted sentence whole and verbatim with its
    `[n]`. It is said when `quotes` say the point; otherwise the note stands in for the answer
    (as an abstention does), citing the `backing` sentences its `[n]` marks refer to."""
    said = bool(quotes)
    cited = [c.model_copy(update={"n": i}) for i, c in enumerate(quotes if said else backing, 1)]
    if said:
        listing = answer.layout == "list" and len(cited) > 1
        parts = [f"{'- ' if listing else ''}{' '.join(c.quote.split())} [{c.n}]" for c in cited]
        text = ("\n" if listing else " ").join(parts)
    else:
        text = note or "The documents do not say."
    composed = answer.model_copy(update={"answer": text, "answerable": said, "citations": cited})
    return Section(
        title=title,
        question=answer.question,
        answer=composed,
        said=said,
        note=note,
        named=list(named),
        not_mentioned=list(not_mentioned),
    )


def region_section(assistant: Assistant, reader: Reader, region: str) -> Section:
    """Quote the sentence naming the partner's region; else name the regions the documents do
    name (cited) and say plainly that the partner's is not among them."""
    title = "Partners from your region"
    # asked without the partner's region: which regions a quote names is checked after, and a
    # sentence that lacks the words of a region it never names must not look like a poor answer
    question = "Which regions do the cities and institutions that joined the Cities Project come from?"
    answer = assistant.ask(question, filters=PROJECT)
    found = naming(reader.quotes(answer), REGIONS)
    named = list(dict.fromkeys(n for _, names in found for n in names))
    mine = [c for c, names in found if region in names]
    if mine:
        return section(title, answer, mine, named=named)
    absent = region != "other" and not REGIONS.mentions(region, reader.reports())
    if not absent and region != "other":  # the reports name it elsewhere: ask for it by name
        more = assistant.ask(f"{question[:-1]}, including {region}?", filters=PROJECT)
        mine = [c for c, names in naming(reader.quotes(more), REGIONS) if region in names]
        if mine:
            return section(title, more, mine, named=list(dict.fromkeys([*named, region])))
    say = REGIONS.say[region]
    if named:
        lead = f"The documents name partners from {REGIONS.said(named)} {markers(len(found))}"
    else:
        lead = "The documents do not say which regions partners come from"
    tail = f"they do not mention {say}" if absent else f"they do not say whether partners come from {say}"
    note = f"{lead}; {tail}." if named or absent else f"{lead}."
    return section(
        title,
        answer,
        [],
        note,
        backing=[c for c, _ in found],
        named=named,
        not_mentioned=[region] if absent else [],
    )


def entity_section(assistant: Assistant, reader: Reader, entity: str) -> Section:
    """Quote what the documents say of the role of the partner's kind of entity; else say which
    kinds the quoted sentences speak of, and whether the Cities Project documents mention the
    partner's kind at all."""
    title = f"Entities like yours ({entity})"
    say = ENTITIES.say[entity]
    answer = assistant.ask(f"What role do {say} play in South-South and triangular cooperation?")
    kinds = naming(reader.quotes(answer), ENTITIES)
    absent = not ENTITIES.mentions(entity, reader.reports())
    if not absent and not any(entity in names for _, names in kinds):  # the reports name it: ask them
        more = assistant.ask(f"Which {say} support the Cities Project?", filters=PROJECT)
        kinds += [(c, names) for c, names in naming(reader.quotes(more), ENTITIES) if entity in names]
    named = list(dict.fromkeys(n for _, names in kinds for n in names))
    mine = [c for c, names in kinds if entity in names]
    if mine:
        return section(title, answer, mine, named=named)
    lead = f"The documents do not describe the role of {say}"
    if named:
        spoken = f"The documents speak of the role of {ENTITIES.said(named)} {markers(len(kinds))}"
        lead = f"{spoken}; they do not describe the role of {say}"
    tail = (
        "; the Cities Project documents do not mention them."
        if absent
        else ", though the Cities Project documents mention them."
    )
    return section(
        title,
        answer,
        [],
        lead + tail,
        backing=[c for c, _ in kinds],
        named=named,
        not_mentioned=[entity] if absent else [],
    )


def themes_section(assistant: Assistant, reader: Reader, themes: Sequence[str]) -> Section:
    """Quote the services that match the partner's themes; say which themes the documents
    address, which they mention without describing a service, and which they never mention."""
    title = "Services that match your interests"
    themes = list(dict.fromkeys(THEME_ITEMS.canonical(t) for t in themes if re.search(r"\w", t)))
    items = THEME_ITEMS.extended(themes)
    asked = ", ".join(themes) if themes else "South-South cooperation among cities"
    answer = assistant.ask(f"Which services does the Cities Project provide for {asked}?", filters=PROJECT)
    quotes = reader.quotes(answer)
    if not themes:
        return section(
            title, answer, quotes, "" if quotes else "The documents do not describe services for cities."
        )
    reports = reader.reports()

    def addressed(quoted: Sequence[Citation]) -> list[str]:
        return [t for t in themes if any(t in items.named_in(c.quote) for c in quoted)]

    for theme in themes:  # a theme the reports mention but the first answer did not quote: ask for it
        if theme not in addressed(quotes) and items.mentions(theme, reports):
            more = assistant.ask(f"How does the Cities Project support {items.say[theme]}?", filters=PROJECT)
            known = {" ".join(c.quote.split()) for c in quotes}
            quotes += [c for c in reader.quotes(more) if " ".join(c.quote.split()) not in known]
    quotes = [c for c in quotes if set(items.named_in(c.quote)) & set(themes)]
    covered = addressed(quotes)
    absent = [t for t in themes if t not in covered and not items.mentions(t, reports)]
    unquoted = [t for t in themes if t not in covered and t not in absent]
    clauses = [f"address {items.said(covered)}"] if covered else []
    clauses += [f"do not mention {items.said(absent)}"] if absent else []
    clauses += [f"do not describe services for {items.said(unquoted)}"] if unquoted else []
    note = f"The documents {'; they '.join(clauses)}."
    return section(title, answer, quotes, note, named=covered, not_mentioned=absent)


def pilots_section(assistant: Assistant, reader: Reader) -> Section:
    """The priorities a proposal is weighed by, quoted whole."""
    answer = assistant.ask("Which pilot project proposals will be prioritized?", filters=PROJECT)
    note = "The documents do not say which pilot proposals are prioritised."
    quotes = reader.quotes(answer)
    return section("Pilot proposals that are prioritised", answer, quotes, "" if quotes else note)


JOIN_QUESTION = "How can a city or institution join the Cities Project, apply to partner with it or contact the project team?"


def next_steps_section(assistant: Assistant, reader: Reader, question: str = JOIN_QUESTION) -> Section:
    """Only a sentence that tells how to join, apply or make contact (words in data/briefing.json)
    is a next step: an answer about something near it (who joined, how partners were surveyed) is
    not, whatever question brought it."""
    answer = assistant.ask(question, filters=PROJECT)
    steps = [c for c in reader.quotes(answer) if describes_joining(c.quote)]
    note = "" if steps else "The documents do not describe how to apply or join."
    return section("Next steps the documents mention", answer, steps, note)


def describes_joining(sentence: str) -> bool:
    """The sentence tells how to join, apply or make contact: it has one of the words of joining."""
    return _JOINING.search(sentence) is not None


def briefing(assistant: Assistant, profile: Profile) -> Briefing:
    """Five questions for the profile, each answered by the assistant and re-read by the briefing:
    quotes made whole, and the partner's region, kind and themes checked against what they name."""
    reader = Reader(assistant.index)
    return Briefing(
        profile=profile,
        sections=[
            region_section(assistant, reader, profile.region),
            entity_section(assistant, reader, profile.entity_type),
            themes_section(assistant, reader, profile.themes),
            pilots_section(assistant, reader),
            next_steps_section(assistant, reader),
        ],
    )
