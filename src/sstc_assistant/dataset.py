"""The question-set format of DESIGN.md (one JSON question per line) and the per-question result
of a benchmark run."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from .errors import first_line


class GoldSource(BaseModel):
    doc_id: str
    pages: list[int] = Field(default_factory=list)


class Origin(BaseModel):
    """The passage a generated question was made from (provenance; DESIGN.md)."""

    doc_id: str | None = None
    page: int | None = None
    chunk_id: str | None = None


class EvalQuestion(BaseModel):
    id: str
    question: str
    answers: list[str] = Field(default_factory=list)
    sources: list[GoldSource] = Field(default_factory=list)
    answerable: bool = True
    kind: str = "factoid"
    lang: str = "en"
    history: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    keypoints: list[list[str]] = Field(default_factory=list)
    split: str | None = None
    method: str | None = None
    origin: Origin | None = None
    note: str | None = None

    @property
    def domain(self) -> str:
        """`answerable`, `in-domain` (unanswerable, about the documents), `left-out-document` or
        `out-of-domain`: the groups the issue's targets are stated for."""
        if self.answerable:
            return "answerable"
        if self.kind in ("out-of-domain", "left-out-document"):
            return self.kind
        return "in-domain"


class QuestionResult(BaseModel):
    id: str
    kind: str
    lang: str
    domain: str = "answerable"
    right_answer: bool | None = None
    keypoint_recall: float | None = None
    keypoint_recall_passages: float | None = None
    question: str
    gold_answerable: bool
    answerable: bool
    answer: str
    confidence: float
    retrieved: list[dict]
    first_relevant_rank: int | None
    recall_at: dict[str, float]
    ndcg10: float
    token_f1: float | None
    answer_recall: float | None
    sentences: int
    supported_sentences: int
    citations: int
    relevant_citations: int
    citation_correct_doc: int
    latency_ms: float
    failures: list[str]


def load_dataset(path: Path) -> list[EvalQuestion]:
    questions = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                questions.append(EvalQuestion.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: not a valid question ({first_line(exc)})") from exc
    if not questions:
        raise ValueError(f"{path}: no questions")
    return questions
