"""REST API (FastAPI): a thin shell over `Assistant`. Errors are JSON with a message."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Header, HTTPException, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from .assistant import Assistant
from .eligibility import Briefing, Profile, briefing
from .index import StoreError
from .retrieval import Filters
from .types import Answer, IndexedDocument, SearchHit

MAX_QUESTION_CHARS = 2000
log = logging.getLogger("sstc")


LIMITED_PATHS = frozenset(
    {"/api/ask", "/api/ask/stream", "/api/search", "/api/briefing", "/v1/chat/completions"}
)


class RateLimiter:
    """A token bucket per client address: `per_minute` requests, refilled continuously."""

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
            tokens, last = self.buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[client] = (tokens - 1, now)
                return 0.0
            self.buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate


class HistoryTurn(BaseModel):
    model_config = {"extra": "forbid"}
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20000)


class AskRequest(BaseModel):
    model_config = {"extra": "forbid"}
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    history: list[HistoryTurn | str] = Field(default_factory=list, max_length=50)
    filters: Filters | None = None
    k: int | None = Field(None, ge=1, le=50)

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        v = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", v).strip()
        if not v:
            raise ValueError("the question is empty")
        return v

    def user_turns(self) -> list[str]:
        return [
            t if isinstance(t, str) else t.content
            for t in self.history
            if isinstance(t, str) or t.role == "user"
        ]


class SearchRequest(BaseModel):
    model_config = {"extra": "forbid"}
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(5, ge=1, le=50)
    mode: Literal["bm25", "dense", "hybrid"] | None = None
    filters: Filters | None = None


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


class ChatCompletionRequest(BaseModel):
    """The OpenAI chat request; fields the assistant has no use for are accepted and ignored."""

    model_config = {"extra": "allow"}
    model: str = "sstc-assistant"
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False


def create_app(assistant: Assistant) -> FastAPI:
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

    @app.middleware("http")
    async def _rate_limit(request: Request, call_next):
        """Per-client budget on the endpoints that cost model time (429 with Retry-After)."""
        if request.method == "POST" and request.url.path in LIMITED_PATHS:
            client = request.client.host if request.client else "unknown"
            wait = limiter.take(client)
            if wait > 0:
                return JSONResponse(
                    {"message": f"too many requests: try again in {wait:.0f} s (SSTC_RATE_LIMIT_PER_MINUTE)"},
                    status_code=429,
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"message": f"invalid request: {problems}"}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(ValueError)
    async def _value(_: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(
            {"message": str(exc).splitlines()[0] if str(exc) else "invalid request"}, status_code=400
        )

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        """The index is busy or unreachable (another writer, a lost Chroma server): retry later."""
        return JSONResponse(
            {"message": str(exc).splitlines()[0]}, status_code=503, headers={"Retry-After": "5"}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # uvicorn logs nothing once a handler has answered: without this the log the message
        # points to would be empty
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"message": f"internal error ({type(exc).__name__}); see the server log"}, status_code=500
        )

    def require_key(authorization: Annotated[str | None, Header()] = None) -> None:
        key = assistant.settings.api_key
        if not key:
            raise HTTPException(
                403,
                "changing the corpus is disabled: start the server with SSTC_API_KEY set "
                "and send 'Authorization: Bearer <key>'",
            )
        if authorization != f"Bearer {key.get_secret_value()}":
            raise HTTPException(401, "missing or wrong API key (send 'Authorization: Bearer <key>')")

    @app.get("/api/health", response_model=Health)
    def health(response: Response, deep: bool = False) -> Health:
        """Cheap enough for a load balancer to poll (counts and a sample); `?deep=true` compares
        every passage. 503 when the index is damaged, so a balancer stops sending traffic here."""
        report = assistant.health(deep=deep)
        if report.status == "damaged":
            response.status_code = 503
        return Health(
            **report.model_dump(),
            index=assistant.settings.index,
            embedder=assistant.settings.embedder,
            generator=assistant.settings.generator,
        )

    @app.post("/api/ask", response_model=Answer)
    async def ask(req: AskRequest) -> Answer:
        return await run_in_threadpool(
            assistant.ask, req.question, history=req.user_turns(), k=req.k, filters=req.filters
        )

    @app.post("/api/ask/stream")
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

    @app.post("/api/search", response_model=list[SearchHit])
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

    @app.get("/api/documents/{doc_id}", response_model=IndexedDocument)
    def document(doc_id: str) -> IndexedDocument:
        return _document(doc_id)

    @app.get("/api/documents/{doc_id}/pages/{n}")
    def page(doc_id: str, n: int) -> dict[str, Any]:
        doc = _document(doc_id)
        text = assistant.index.page_text(doc_id, n)
        if text is None:
            raise HTTPException(404, f"document '{doc_id}' has pages 1-{doc.pages}, not {n}")
        return {"doc_id": doc_id, "page": n, "pages": doc.pages, "text": text}

    @app.get("/api/documents/{doc_id}/open", response_model=None)
    def open_page(doc_id: str, page: int = 1, q: str = "") -> HTMLResponse | RedirectResponse:
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

    @app.get("/api/documents/{doc_id}/file")
    def file(doc_id: str) -> FileResponse:
        doc = _document(doc_id)
        path = Path(doc.path)
        if not path.is_file():
            raise HTTPException(404, f"the file of '{doc_id}' is no longer at {path.name}")
        media = "application/pdf" if path.suffix.lower() == ".pdf" else "text/plain; charset=utf-8"
        return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")

    @app.post("/api/documents", status_code=201, dependencies=[Depends(require_key)])
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        return await run_in_threadpool(assistant.add_upload, file.filename or "", file.file)

    @app.delete("/api/documents/{doc_id}", response_model=Message, dependencies=[Depends(require_key)])
    async def delete(doc_id: str) -> Message:
        _document(doc_id)
        await run_in_threadpool(assistant.remove_document, doc_id)
        return Message(message=f"removed '{doc_id}'")

    @app.post("/api/briefing", response_model=Briefing)
    async def partner_briefing(profile: Profile) -> Briefing:
        """A cited briefing for a city or institution considering the Cities Project."""
        return await run_in_threadpool(briefing, assistant, profile)

    @app.post("/v1/chat/completions")
    async def chat_completions(req: ChatCompletionRequest):
        """OpenAI-compatible: existing chat clients get answers whose text carries the citations."""
        users = [m.text() for m in req.messages if m.role == "user"]
        if not users or not users[-1].strip():
            raise HTTPException(422, "the last user message is empty")
        question = users[-1].strip()[:MAX_QUESTION_CHARS]
        answer = await run_in_threadpool(assistant.ask, question, history=users[:-1])
        content = answer.plain_text()
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
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
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
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    @app.post("/api/feedback", response_model=Message, status_code=201)
    def feedback(req: FeedbackRequest) -> Message:
        path = assistant.settings.resolve(assistant.settings.feedback_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **req.model_dump()}
        with feedback_lock, path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return Message(message="thank you: feedback saved")

    return app
