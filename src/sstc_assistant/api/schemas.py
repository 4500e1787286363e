"""The shapes of the HTTP API: request and response bodies that exist only on the wire (the answer,
hit and document types are the library's own, in `types`), and the error responses each operation
documents in OpenAPI."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from ..assistant import MAX_QUESTION_CHARS, clean_question
from ..health import LLMServerHealth
from ..retrieval import Filters

# documented, not enforced by the pattern: `clean_question` refuses blank text with a clearer message
NOT_BLANK = {"pattern": r"[^\s\x00-\x1f\x7f-\x9f]"}
MODEL_ID = "sstc-assistant"  # the one model `/v1/models` lists; chat requests may name any


class HistoryTurn(BaseModel):
    model_config = {"extra": "forbid"}
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20000)


class AskRequest(BaseModel):
    model_config = {"extra": "forbid"}
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, json_schema_extra=NOT_BLANK)
    history: list[HistoryTurn | str] = Field(default_factory=list, max_length=50)
    filters: Filters | None = None
    k: int | None = Field(None, ge=1, le=50)

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        return clean_question(v)

    def user_turns(self) -> list[str]:
        return [
            t if isinstance(t, str) else t.content
            for t in self.history
            if isinstance(t, str) or t.role == "user"
        ]


class SearchRequest(BaseModel):
    model_config = {"extra": "forbid"}
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, json_schema_extra=NOT_BLANK)
    k: int | None = Field(None, ge=1, le=50, description="passages to return (default: SSTC_TOP_K)")
    mode: Literal["bm25", "dense", "hybrid"] | None = None
    filters: Filters | None = None

    @field_validator("query")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        return clean_question(v)


class FeedbackRequest(BaseModel):
    model_config = {"extra": "forbid"}
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str = Field(max_length=50000)
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=5000)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


class Health(BaseModel):
    """`damaged` (HTTP 503): rebuild the index; `degraded`: answers are right, tidy up soon."""

    status: Literal["ok", "degraded", "damaged"]
    index: str
    documents: int
    chunks: int
    passages: int
    vectors: int | None
    generation: int
    writing: bool
    deep: bool
    embedder: str
    generator: str
    llm_server: LLMServerHealth | None = Field(
        None, description="the openai generator's server; null for a generator in this process"
    )
    problems: list[str] = Field(default_factory=list)


class Message(BaseModel):
    message: str


# --- OpenAI-compatible ----------------------------------------------------------------------------


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(part.get("text", "")) for part in self.content if isinstance(part, dict))
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = {"extra": "allow"}
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The OpenAI chat request; fields the assistant has no use for are accepted and ignored."""

    model_config = {"extra": "allow"}
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    stream_options: StreamOptions | None = None


class ModelCard(BaseModel):
    """An entry of `GET /v1/models`: chat front ends (Open WebUI, LibreChat) list these first."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "sstc-assistant"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Usage(BaseModel):
    """Counted as words and punctuation marks: no model tokenizer applies to quoted answers, and
    clients only need a stable measure of how much went in and came out."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, prompt: list[str], completion: str) -> Usage:
        sent = sum(count_tokens(text) for text in prompt)
        made = count_tokens(completion)
        return cls(prompt_tokens=sent, completion_tokens=made, total_tokens=sent + made)


_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


# --- documented responses -------------------------------------------------------------------------

_ERROR_MEANINGS = {
    400: "the request or the uploaded file cannot be used; the message says why",
    401: "missing or wrong API key",
    403: "changing the corpus is disabled (no SSTC_API_KEY)",
    404: "no such document or page",
    413: "the upload is over SSTC_MAX_FILE_MB",
    422: "invalid request: the message names each field and problem",
    429: "too many requests from this client (SSTC_RATE_LIMIT_PER_MINUTE); see Retry-After",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error responses an operation can give: all are `{message}`."""
    return {code: {"model": Message, "description": _ERROR_MEANINGS[code]} for code in codes}


def json_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`errors` spelled out as JSON, for an operation whose own responses are not JSON (a stream):
    FastAPI would declare a `model` in the operation's media type."""
    ref = {"schema": {"$ref": "#/components/schemas/Message"}}
    return {
        code: {"description": _ERROR_MEANINGS[code], "content": {"application/json": ref}} for code in codes
    }


# what FastAPI's own SSE endpoints send with a stream: no caching, no proxy buffering
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def media(*types: str) -> dict[int | str, dict[str, Any]]:
    """A 200 response whose content types are not (only) JSON."""
    schemas = {"text/event-stream": SSE_EVENT, "application/json": {"type": "object"}}
    return {200: {"content": {t: {"schema": schemas.get(t, {"type": "string"})} for t in types}}}


SSE_EVENT = {
    "type": "object",
    "description": "one server-sent event; `data` is JSON text",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
    "required": ["data"],
}
ASKING = errors(400, 422, 429)
ONE_DOCUMENT = errors(404, 422)
CHANGING = {
    **errors(400, 401, 403, 404, 413, 422),
    429: {
        "model": Message,
        "description": "too many failed API-key attempts from this client "
        "(SSTC_AUTH_FAILURES_PER_MINUTE); see Retry-After",
    },
}
