"""Asking: answers (whole or as server-sent events), passage search and the partner briefing."""

from __future__ import annotations

import asyncio
import json
import re

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, format_sse_event

from ..eligibility import Briefing, Profile, briefing
from ..types import Answer, SearchHit
from .dependencies import AssistantDep
from .schemas import ASKING, SSE_HEADERS, AskRequest, SearchRequest, json_errors, media

router = APIRouter()


class EventStreamDoc(Response):
    """Declares the stream's media type in the OpenAPI document; the endpoint returns the
    EventSourceResponse itself (FastAPI's own SSE class as response_class would frame a returned
    response again as an event)."""

    media_type = "text/event-stream"


@router.post("/api/ask", response_model=Answer, responses=ASKING)
async def ask(req: AskRequest, assistant: AssistantDep) -> Answer:
    return await run_in_threadpool(
        assistant.ask, req.question, history=req.user_turns(), k=req.k, filters=req.filters
    )


@router.post(
    "/api/ask/stream",
    response_class=EventStreamDoc,
    responses={**json_errors(400, 422, 429), **media("text/event-stream")},
)
async def ask_stream(req: AskRequest, assistant: AssistantDep) -> EventSourceResponse:
    """Server-sent events: one `sentence` event per answer sentence, then `answer` (the object)."""

    async def events():
        answer = await run_in_threadpool(
            assistant.ask, req.question, history=req.user_turns(), k=req.k, filters=req.filters
        )
        for part in re.split(r"(?<=\])\s+", answer.answer):
            yield format_sse_event(event="sentence", data_str=json.dumps({"text": part}))
            await asyncio.sleep(0)
        yield format_sse_event(event="answer", data_str=answer.model_dump_json())

    # EventStreamDoc declares the stream in the OpenAPI document; json_errors declares the errors
    # as JSON (a `model` would be declared as text/event-stream)
    return EventSourceResponse(events(), headers=SSE_HEADERS)


@router.post("/api/search", response_model=list[SearchHit], responses=ASKING)
async def search(req: SearchRequest, assistant: AssistantDep) -> list[SearchHit]:
    return await run_in_threadpool(assistant.search, req.query, req.k, mode=req.mode, filters=req.filters)


@router.post("/api/briefing", response_model=Briefing, responses=ASKING)
async def partner_briefing(profile: Profile, assistant: AssistantDep) -> Briefing:
    """A cited briefing for a city or institution considering the Cities Project."""
    return await run_in_threadpool(briefing, assistant, profile)
