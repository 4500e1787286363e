"""Typed records that cross module boundaries: documents → chunks → hits → answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

DocKind = Literal["resolution", "sg-report", "outcome-document", "project-report", "other"]
Part = Literal["preamble", "operative", "footnote"]


class DocumentMeta(BaseModel):
    """Catalog metadata of one document (DESIGN.md)."""

    doc_id: str
    symbol: str = ""
    title: str = ""
    date: str = ""
    kind: DocKind = "other"
    language: str = "en"
    source: str = ""

    @property
    def label(self) -> str:
        """What a citation shows: the UN symbol when there is one, else the title."""
        return self.symbol or self.title or self.doc_id

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date[:4].isdigit() else None


class Page(BaseModel):
    number: int = Field(ge=1, description="1-based, as a reader of the PDF counts")
    text: str


class ParsedDocument(BaseModel):
    """A document as read from disk: cleaned page texts plus its metadata."""

    meta: DocumentMeta
    path: str
    sha256: str
    pages: list[Page]
    pages_inferred: bool = Field(
        False, description="page breaks were inferred from printed 'n/m' footers, not the file"
    )

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id


class Chunk(BaseModel):
    """A passage of one document at one place; `text` is verbatim cleaned document text."""

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    paragraph: str | None = None
    part: Part | None = None
    n_tokens: int = 0

    @property
    def pages(self) -> list[int]:
        return list(range(self.page_start, self.page_end + 1))


def human_place(label: str, paragraph: str | None, pages: Sequence[int]) -> str:
    """`A/RES/73/291, para. 12, p. 4`: the citation form of DESIGN.md, for every front end."""
    parts = [label] + ([f"para. {paragraph}"] if paragraph else [])
    if pages:
        parts.append(f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}-{pages[-1]}")
    return ", ".join(parts)


class Location(BaseModel):
    doc_id: str
    pages: list[int]
    paragraph: str | None = None


class SearchHit(BaseModel):
    """A retrieved passage: its primary location plus every other place it is stated."""

    chunk_id: str
    vector_id: str
    doc_id: str
    symbol: str = ""
    title: str = ""
    kind: str = "other"
    date: str = ""
    text: str
    pages: list[int]
    paragraph: str | None = None
    part: str | None = None
    char_start: int | None = Field(None, description="offset of the passage in its document's text")
    char_end: int | None = None
    score: float
    scores: dict[str, float] = Field(default_factory=dict)
    also_in: list[Location] = Field(default_factory=list)
    follows: str | None = Field(None, description="chunk id of the retrieved passage this one continues")

    @property
    def label(self) -> str:
        return self.symbol or self.title or self.doc_id


class IndexedDocument(BaseModel):
    """A row of `sstc docs`."""

    doc_id: str
    symbol: str
    title: str
    date: str
    kind: str
    language: str
    pages: int
    chunks: int
    path: str
    source: str = ""
    pages_inferred: bool = False


class Version(BaseModel):
    """The same document in another official language, at the cited paragraph where it has one."""

    language: str
    doc_id: str
    pages: list[int] = Field(
        default_factory=list, description="where the cited paragraph stands; empty: unknown"
    )
    paragraph: str | None = None


class Citation(BaseModel):
    """What an `[n]` marker in an answer resolves to (DESIGN.md)."""

    n: int
    doc_id: str
    symbol: str = ""
    title: str = ""
    pages: list[int]
    paragraph: str | None = None
    quote: str = Field(description="verbatim text of the document that supports the claim")
    chunk_id: str
    score: float = 0.0
    also_in: list[Location] = Field(default_factory=list)
    language: str = Field("", description="language of the cited document (ISO 639-1)")
    versions: list[Version] = Field(
        default_factory=list, description="the same UN document in other official languages"
    )

    @property
    def human(self) -> str:
        """`A/RES/73/291, para. 12, p. 4`: the form people paste into a memo."""
        return human_place(self.symbol or self.title or self.doc_id, self.paragraph, self.pages)


class Source(BaseModel):
    """A retrieved passage shown beside an answer (or instead of one, when abstaining)."""

    doc_id: str
    symbol: str = ""
    title: str = ""
    pages: list[int]
    paragraph: str | None = None
    text: str
    chunk_id: str
    score: float = 0.0
    also_in: list[Location] = Field(default_factory=list)
    follows: str | None = Field(
        None,
        description="chunk id of the retrieved passage this one continues: read with it for a list, not ranked",
    )


class Answer(BaseModel):
    """The answer object of DESIGN.md, returned by `sstc ask --json` and `POST /api/ask`."""

    question: str
    answer: str
    answerable: bool
    layout: Literal["prose", "list"] = Field(
        "prose", description="list: a lead line, then one cited bullet per point (grouped by document)"
    )
    citations: list[Citation] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    unsupported: list[str] = Field(
        default_factory=list, description="generated sentences the verifier could not tie to a passage"
    )
    confidence: float = Field(
        0.0, description="evidence score minus the abstention threshold: below 0 the assistant abstains"
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)
    generator: str = "extractive"
    standalone_question: str | None = Field(
        None, description="the question as retrieved, after follow-up resolution"
    )
    not_indexed: list[str] = Field(
        default_factory=list,
        description="mandates (UN symbols) the cited passages refer to that are not in the index",
    )

    def plain_text(self) -> str:
        """The answer with human citations, for pasting into a memo."""
        if not self.answerable:
            return self.answer
        lines = [self.answer, ""]
        lines += [f"[{c.n}] {c.human}: “{c.quote}”" for c in self.citations]
        if self.not_indexed:
            lines += ["", not_indexed_note(self.not_indexed)]
        return "\n".join(lines)


def not_indexed_note(symbols: list[str]) -> str:
    """One line: what the cited passages refer to that the assistant has not read."""
    shown = ", ".join(symbols[:8]) + (f" and {len(symbols) - 8} more" if len(symbols) > 8 else "")
    return f"The cited passages refer to {shown}, not in the index (sstc fetch {' '.join(symbols[:8])})."
