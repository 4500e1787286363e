"""REST API (FastAPI): a thin shell over `Assistant`. Errors are JSON with a message."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import Depends, FastAPI, File, Header, HTTPException, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field, SecretStr, field_validator
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .assistant import MAX_QUESTION_CHARS, Assistant, clean_question
from .eligibility import Briefing, Profile, briefing
from .errors import StoreError, first_line
from .health import LLMServerHealth, add_llm_server
from .retrieval import Filters
from .settings import Settings
from .types import Answer, IndexedDocument, SearchHit

# documented, not enforced by the pattern: `clean_question` refuses blank text with a clearer message
NOT_BLANK = {"pattern": r"[^\s\x00-\x1f\x7f-\x9f]"}
log = logging.getLogger("sstc")

MAX_PAGES = 100_000  # page numbers beyond any document, and within what the index can look up
DocId = Annotated[str, PathParam(max_length=300)]

MODEL_ID = "sstc-assistant"  # the one model `/v1/models` lists; chat requests may name any
LIMITED_PATHS = frozenset(
    {"/api/ask", "/api/ask/stream", "/api/search", "/api/briefing", "/v1/chat/completions"}
)


class RateLimiter:
    """A token bucket per client address: `per_minute` requests, refilled continuously."""

    MAX_CLIENTS = 10_000  # addresses remembered at once; a flood of new ones cannot grow memory

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until it could."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self.lock:
            if client not in self.buckets and len(self.buckets) >= self.MAX_CLIENTS:
                self._forget(now)
            tokens, last = self.buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[client] = (tokens - 1, now)
                return 0.0
            self.buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _forget(self, now: float) -> None:
        """Drop the buckets that have refilled (a full bucket is the same as none); if every one is
        still in use, the fullest: a client being limited is the last to be forgotten."""

        def now_tokens(client: str) -> float:
            tokens, last = self.buckets[client]
            return tokens + (now - last) * self.rate

        for client in [c for c in self.buckets if now_tokens(c) >= self.capacity]:
            del self.buckets[client]
        if len(self.buckets) >= self.MAX_CLIENTS:
            del self.buckets[max(self.buckets, key=now_tokens)]


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
    k: int = Field(5, ge=1, le=50)
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


def _media(*types: str) -> dict[int | str, dict[str, Any]]:
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


class Refusal(NamedTuple):
    """Why a request may not change the corpus: an HTTP status, a one-line message, extra headers."""

    status: int
    message: str
    headers: Mapping[str, str] | None = None


def key_problem(key: SecretStr | None, authorization: str | None) -> Refusal | None:
    """Why a request may not change the corpus, or None. The message never repeats what the client
    sent, and the comparison (of hashes, so not even the length shows) takes the same time for
    every wrong key."""
    if key is None or not key.get_secret_value():
        return Refusal(
            403,
            "changing the corpus is disabled: start the server with SSTC_API_KEY set "
            "and send 'Authorization: Bearer <key>'",
        )
    expected = hashlib.sha256(f"Bearer {key.get_secret_value()}".encode()).digest()
    sent = hashlib.sha256((authorization or "").encode("utf-8", "replace")).digest()
    if not hmac.compare_digest(sent, expected):
        return Refusal(401, "missing or wrong API key (send 'Authorization: Bearer <key>')")
    return None


class KeyGuard:
    """The key check of every corpus change (REST and UI), with a budget of failed attempts per
    client address: past `per_minute` failures in the last `window` seconds the address is refused
    (429), even with the right key, until the oldest failure leaves the window. Keys cannot then be
    guessed at full speed, and a refused attempt tells nothing about the key."""

    MAX_CLIENTS = 10_000  # addresses remembered at once; a flood of new ones cannot grow memory

    def __init__(self, key: SecretStr | None, per_minute: int, *, window: float = 60.0) -> None:
        self.key = key
        self.limit = per_minute
        self.window = window
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> KeyGuard:
        return cls(settings.api_key, settings.auth_failures_per_minute)

    def check(self, client: str, authorization: str | None) -> Refusal | None:
        if self.limit <= 0:
            return key_problem(self.key, authorization)
        now = time.monotonic()
        with self.lock:  # one decision at a time: concurrent guesses cannot overrun the budget
            times = self.failures.get(client)
            while times and times[0] <= now - self.window:
                times.popleft()
            if times is not None and len(times) >= self.limit:
                wait = math.ceil(times[0] + self.window - now)
                return Refusal(
                    429,
                    f"too many failed API-key attempts from this address: try again in {wait} s "
                    "(SSTC_AUTH_FAILURES_PER_MINUTE)",
                    {"Retry-After": str(wait)},
                )
            refused = key_problem(self.key, authorization)
            if refused is not None and refused.status == 401:
                self._failed(client, now)
            elif times is not None and not times:
                del self.failures[client]
            return refused

    def _failed(self, client: str, now: float) -> None:
        if client not in self.failures and len(self.failures) >= self.MAX_CLIENTS:
            for old in [c for c, t in self.failures.items() if not t or t[-1] <= now - self.window]:
                del self.failures[old]
            if len(self.failures) >= self.MAX_CLIENTS:  # all recent: forget the longest-known one
                del self.failures[next(iter(self.failures))]
        times = self.failures.setdefault(client, deque())
        times.append(now)
        if len(times) == self.limit:
            log.warning(
                "%d failed API-key attempts from %s within %g s: its corpus changes are refused "
                "until they expire (SSTC_AUTH_FAILURES_PER_MINUTE)",
                self.limit,
                client,
                self.window,
            )


class UploadGuard:
    """Refuses an upload before its body is read: without the key (401/403), from an address that
    used up its failed-key budget (429), or over the size limit by its Content-Length (413); a body
    sent without a length is cut off at the limit as it streams."""

    OVERHEAD = 64 * 1024  # multipart headers and boundaries around the file

    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        max_bytes: int,
        problem: Callable[[str, str | None], Refusal | None],
    ) -> None:
        self.app = app
        self.path = path
        self.max_body = max_bytes + self.OVERHEAD
        self.problem = problem
        self.too_large = f"file is over the {max_bytes / 1e6:g} MB limit (SSTC_MAX_FILE_MB)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refused = self.problem(_client(scope), headers.get("authorization"))
        length = headers.get("content-length", "")
        if refused is None and length.isdigit() and int(length) > self.max_body:
            refused = Refusal(413, self.too_large)
        if refused is not None:
            response = JSONResponse(
                {"message": refused.message}, status_code=refused.status, headers=refused.headers
            )
            response.headers["Connection"] = "close"  # the unread body must not become the next request
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, self.too_large)
            return message

        await self.app(scope, limited, send)


def error_body(request: Request, message: str, status: int) -> dict[str, Any]:
    """`{message}` everywhere; under `/v1/` also OpenAI's `{error: {message, type}}`, which the
    openai SDK and chat front ends show to their users."""
    body: dict[str, Any] = {"message": message}
    if request.url.path.startswith("/v1/"):
        kind = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}
        body["error"] = {"message": message, "type": kind.get(status, "invalid_request_error"), "code": None}
    return body


def _client(scope: Scope) -> str:
    """The client address a budget is kept for (the proxy's, unless uvicorn trusts its headers)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def create_app(assistant: Assistant, guard: KeyGuard | None = None) -> FastAPI:
    """The REST API; `guard` is shared with the UI when both are served (see server.build_app)."""
    app = FastAPI(
        title="SSTC Assistant API",
        description="Answers from South-South cooperation mandate documents, with citations.",
        version="0.1.0",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.assistant = assistant
    feedback_lock = threading.Lock()
    limiter = RateLimiter(assistant.settings.rate_limit_per_minute)
    guard = guard or KeyGuard.for_settings(assistant.settings)
    problem = guard.check

    # added before the rate limiter, so it sits inside it: an HTTPException raised while the body
    # streams must reach the exception handlers, not a middleware's task group
    app.add_middleware(
        UploadGuard,
        path="/api/documents",
        max_bytes=int(assistant.settings.max_file_mb * 1e6),
        problem=problem,
    )

    @app.middleware("http")
    async def _rate_limit(request: Request, call_next):
        """Per-client budget on the endpoints that cost model time (429 with Retry-After)."""
        if request.method == "POST" and request.url.path in LIMITED_PATHS:
            client = request.client.host if request.client else "unknown"
            wait = limiter.take(client)
            if wait > 0:
                message = f"too many requests: try again in {wait:.0f} s (SSTC_RATE_LIMIT_PER_MINUTE)"
                return JSONResponse(
                    error_body(request, message, 429),
                    status_code=429,
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        return JSONResponse(error_body(request, f"invalid request: {problems}", 422), status_code=422)

    @app.exception_handler(StarletteHTTPException)  # also the router's own 404/405 and body errors
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        cause = exc.__cause__
        if exc.status_code == 400 and cause is not None and "parsing the body" in message:
            # FastAPI's "error parsing the body" hides why: bytes that are not UTF-8, nesting too deep, ...
            reason = {UnicodeDecodeError: "not UTF-8 text", RecursionError: "nested too deeply"}.get(
                type(cause), first_line(cause)[:160]
            )
            message = f"invalid request: the body could not be parsed ({reason})"
        return JSONResponse(
            error_body(request, message, exc.status_code), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(ValueError)
    async def _value(_: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(
            {"message": str(exc).splitlines()[0] if str(exc) else "invalid request"}, status_code=400
        )

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        """The index is busy or unreachable (another writer, a lost Chroma server): retry later."""
        return JSONResponse({"message": first_line(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # uvicorn logs nothing once a handler has answered: without this the log the message
        # points to would be empty
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"message": f"internal error ({type(exc).__name__}); see the server log"}, status_code=500
        )

    def require_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
        refused = problem(_client(request.scope), authorization)
        if refused:
            raise HTTPException(*refused)

    @app.get("/api/health", response_model=Health)
    def health(response: Response, deep: bool = False) -> Health:
        """Cheap enough for a load balancer to poll (counts and a sample); `?deep=true` compares
        every passage. 503 when the index is damaged, so a balancer stops sending traffic here; an
        unreachable LLM server (openai generator) is `degraded`: answers are quotations meanwhile."""
        report = add_llm_server(assistant.health(deep=deep), assistant.settings)
        if report.status == "damaged":
            response.status_code = 503
        return Health(
            **report.model_dump(),
            index=assistant.settings.index,
            embedder=assistant.settings.embedder,
            generator=assistant.settings.generator,
        )

    @app.post("/api/ask", response_model=Answer, responses=ASKING)
    async def ask(req: AskRequest) -> Answer:
        return await run_in_threadpool(
            assistant.ask, req.question, history=req.user_turns(), k=req.k, filters=req.filters
        )

    @app.post("/api/ask/stream", responses={**ASKING, **_media("text/event-stream")})
    async def ask_stream(req: AskRequest) -> StreamingResponse:
        """Server-sent events: one `sentence` event per answer sentence, then `answer` (the object)."""

        async def events():
            answer = await run_in_threadpool(
                assistant.ask, req.question, history=req.user_turns(), k=req.k, filters=req.filters
            )
            for part in re.split(r"(?<=\])\s+", answer.answer):
                yield f"event: sentence\ndata: {json.dumps({'text': part})}\n\n"
                await asyncio.sleep(0)
            yield f"event: answer\ndata: {answer.model_dump_json()}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/api/search", response_model=list[SearchHit], responses=ASKING)
    async def search(req: SearchRequest) -> list[SearchHit]:
        return await run_in_threadpool(assistant.search, req.query, req.k, mode=req.mode, filters=req.filters)

    @app.get("/api/documents", response_model=list[IndexedDocument])
    def documents() -> list[IndexedDocument]:
        return assistant.documents()

    def _document(doc_id: str) -> IndexedDocument:
        found = assistant.index.documents(doc_id)
        if not found:
            raise HTTPException(404, f"no document '{doc_id}' in index '{assistant.settings.index}'")
        return found[0]

    @app.get("/api/documents/{doc_id}", response_model=IndexedDocument, responses=ONE_DOCUMENT)
    def document(doc_id: DocId) -> IndexedDocument:
        return _document(doc_id)

    @app.get("/api/documents/{doc_id}/pages/{n}", responses=ONE_DOCUMENT)
    def page(doc_id: DocId, n: Annotated[int, PathParam(ge=1, le=MAX_PAGES)]) -> dict[str, Any]:
        doc = _document(doc_id)
        text = assistant.index.page_text(doc_id, n)
        if text is None:
            raise HTTPException(404, f"document '{doc_id}' has pages 1-{doc.pages}, not {n}")
        return {"doc_id": doc_id, "page": n, "pages": doc.pages, "text": text}

    @app.get(
        "/api/documents/{doc_id}/open",
        response_model=None,
        responses={
            **ONE_DOCUMENT,
            **_media("text/html"),
            307: {"description": "a PDF: to its file at the page"},
        },
    )
    def open_page(
        doc_id: DocId,
        page: Annotated[int, Query(ge=1, le=MAX_PAGES)] = 1,
        q: Annotated[str, Query(max_length=2000)] = "",
    ) -> HTMLResponse | RedirectResponse:
        """Where a citation link goes: the PDF at its page, or a page view of a text document with
        the quote highlighted."""
        doc = _document(doc_id)
        if Path(doc.path).suffix.lower() == ".pdf":
            return RedirectResponse(f"/api/documents/{doc_id}/file#page={page}", status_code=307)
        text = assistant.index.page_text(doc_id, page)
        if text is None:
            raise HTTPException(404, f"document '{doc_id}' has pages 1-{doc.pages}, not {page}")
        body = html.escape(text)
        quote = html.escape(q.strip())
        if quote and quote in body:
            body = body.replace(quote, f"<mark id='quote'>{quote}</mark>", 1)
        title = html.escape(doc.symbol or doc.title or doc_id)
        return HTMLResponse(
            f"<!doctype html><meta charset='utf-8'><title>{title}, p. {page}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;line-height:1.5}"
            "mark{background:#fff3a3}pre{white-space:pre-wrap;font-family:inherit}</style>"
            f"<h3>{title} — page {page} of {doc.pages}</h3><pre>{body}</pre>"
        )

    @app.get(
        "/api/documents/{doc_id}/file",
        response_class=FileResponse,
        responses={**ONE_DOCUMENT, **_media("application/pdf", "text/plain")},
    )
    def file(doc_id: DocId) -> FileResponse:
        doc = _document(doc_id)
        path = Path(doc.path)
        if not path.is_file():
            raise HTTPException(404, f"the file of '{doc_id}' is no longer at {path.name}")
        media = "application/pdf" if path.suffix.lower() == ".pdf" else "text/plain; charset=utf-8"
        return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")

    @app.post("/api/documents", status_code=201, dependencies=[Depends(require_key)], responses=CHANGING)
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        return await run_in_threadpool(assistant.add_upload, file.filename or "", file.file)

    @app.delete(
        "/api/documents/{doc_id}",
        response_model=Message,
        dependencies=[Depends(require_key)],
        responses=CHANGING,
    )
    async def delete(doc_id: DocId) -> Message:
        _document(doc_id)
        await run_in_threadpool(assistant.remove_document, doc_id)
        return Message(message=f"removed '{doc_id}'")

    @app.post("/api/briefing", response_model=Briefing, responses=ASKING)
    async def partner_briefing(profile: Profile) -> Briefing:
        """A cited briefing for a city or institution considering the Cities Project."""
        return await run_in_threadpool(briefing, assistant, profile)

    started = int(time.time())

    @app.get("/v1/models", response_model=ModelList)
    def models() -> ModelList:
        """OpenAI-compatible: the one model this server answers as."""
        return ModelList(data=[ModelCard(id=MODEL_ID, created=started)])

    @app.get("/v1/models/{model_id}", response_model=ModelCard, responses=errors(404, 422))
    def model(model_id: Annotated[str, PathParam(max_length=300)]) -> ModelCard:
        if model_id != MODEL_ID:
            raise HTTPException(404, f"no model '{model_id}': this server answers as '{MODEL_ID}'")
        return ModelCard(id=MODEL_ID, created=started)

    @app.post("/v1/chat/completions", responses={**ASKING, **_media("application/json", "text/event-stream")})
    async def chat_completions(req: ChatCompletionRequest):
        """OpenAI-compatible: existing chat clients get answers whose text carries the citations.
        Earlier user turns are the history, as in `/api/ask`; system and assistant turns are not
        questions and do not steer retrieval."""
        texts = [m.text() for m in req.messages]
        users = [m.text() for m in req.messages if m.role == "user"]
        try:  # control characters alone are no question either
            question = clean_question(users[-1].strip()[:MAX_QUESTION_CHARS] if users else "")
        except ValueError:
            raise HTTPException(422, "the last user message is empty") from None
        answer = await run_in_threadpool(assistant.ask, question, history=users[:-1])
        content = answer.plain_text()
        usage = Usage.of(texts, content).model_dump()
        created, ident = int(time.time()), f"chatcmpl-{time.time_ns():x}"
        if not req.stream:
            return {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": req.model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": usage,
            }

        async def chunks():
            base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": req.model}
            yield f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {'role': 'assistant'}}]})}\n\n"
            for piece in re.split(r"(?<=\n)", content):
                delta = {"index": 0, "delta": {"content": piece}}
                yield f"data: {json.dumps({**base, 'choices': [delta]})}\n\n"
                await asyncio.sleep(0)
            done = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield f"data: {json.dumps({**base, 'choices': [done]})}\n\n"
            if req.stream_options and req.stream_options.include_usage:  # as OpenAI: a last, empty chunk
                yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    @app.post("/api/feedback", response_model=Message, status_code=201, responses=errors(400, 422))
    def feedback(req: FeedbackRequest) -> Message:
        path = assistant.settings.resolve(assistant.settings.feedback_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **req.model_dump()}
        with feedback_lock, path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return Message(message="thank you: feedback saved")

    return app
