"""Running the service: health for load balancers and operators, feedback from users."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..health import add_llm_server
from .dependencies import AssistantDep
from .schemas import FeedbackRequest, Health, Message, errors

router = APIRouter()


@router.get("/api/health", response_model=Health)
def health(response: Response, assistant: AssistantDep, deep: bool = False) -> Health:
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


@router.post("/api/feedback", response_model=Message, status_code=201, responses=errors(400, 422))
def feedback(req: FeedbackRequest, assistant: AssistantDep) -> Message:
    assistant.save_feedback(req.model_dump())
    return Message(message="thank you: feedback saved")
