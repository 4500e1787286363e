"""Typed records that cross module boundaries: documents → chunks → hits → answers."""

from __future__ import annotations

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
    score: float
    scores: dict[str, float] = Field(default_factory=dict)
    also_in: list[Location] = Field(default_factory=list)

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
