"""OpenAI-compatible endpoints under /v1: existing chat clients and front ends (the openai SDK, Open
WebUI, LibreChat) get cited answers without knowing this API."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, format_sse_event

from ..assistant import MAX_QUESTION_CHARS, clean_question
from .dependencies import AssistantDep
from .schemas import (
    ASKING,
    MODEL_ID,
    SSE_HEADERS,
    ChatCompletionRequest,
    ModelCard,
    ModelList,
    Usage,
    errors,
    media,
)

router = APIRouter()


@router.get("/v1/models", response_model=ModelList)
def models(request: Request) -> ModelList:
    """OpenAI-compatible: the one model this server answers as."""
    return ModelList(data=[ModelCard(id=MODEL_ID, created=request.app.state.started)])


@router.get("/v1/models/{model_id}", response_model=ModelCard, responses=errors(404, 422))
def model(model_id: Annotated[str, PathParam(max_length=300)], request: Request) -> ModelCard:
    if model_id != MODEL_ID:
        raise HTTPException(404, f"no model '{model_id}': this server answers as '{MODEL_ID}'")
    return ModelCard(id=MODEL_ID, created=request.app.state.started)


@router.post("/v1/chat/completions", responses={**ASKING, **media("application/json", "text/event-stream")})
async def chat_completions(req: ChatCompletionRequest, assistant: AssistantDep):
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

    def event(payload: dict | str) -> bytes:  # `data: <json>`; `[DONE]` goes as it is, as OpenAI sends it
        return format_sse_event(data_str=payload if isinstance(payload, str) else json.dumps(payload))

    async def chunks():
        base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": req.model}
        yield event({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        for piece in re.split(r"(?<=\n)", content):
            yield event({**base, "choices": [{"index": 0, "delta": {"content": piece}}]})
            await asyncio.sleep(0)
        yield event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if req.stream_options and req.stream_options.include_usage:  # as OpenAI: a last, empty chunk
            yield event({**base, "choices": [], "usage": usage})
        yield event("[DONE]")

    # returned, not a generator endpoint: the same route answers JSON when `stream` is false. The
    # answer is ready before the first byte, so no keep-alive pings are needed
    return EventSourceResponse(chunks(), headers=SSE_HEADERS)
