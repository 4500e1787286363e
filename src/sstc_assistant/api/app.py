"""The REST API assembled: the routers of each concern over one `Assistant`, the error handlers,
the upload guard and the rate limit."""

from __future__ import annotations

import time

from fastapi import FastAPI

from ..assistant import Assistant
from . import asking, documents, openai_compat, operations
from .error_handlers import add_error_handlers
from .security import KeyGuard, RateLimiter, UploadGuard, rate_limit


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
    app.state.limiter = RateLimiter(assistant.settings.rate_limit_per_minute)
    app.state.key_guard = guard or KeyGuard.for_settings(assistant.settings)
    app.state.started = int(time.time())  # when /v1/models says the model was created

    # added before the rate limiter, so it sits inside it: an HTTPException raised while the body
    # streams must reach the exception handlers, not a middleware's task group
    app.add_middleware(
        UploadGuard,
        path="/api/documents",
        max_bytes=int(assistant.settings.max_file_mb * 1e6),
        problem=app.state.key_guard.check,
    )
    app.middleware("http")(rate_limit)
    add_error_handlers(app)
    for router in (operations.router, asking.router, documents.router, openai_compat.router):
        app.include_router(router)
    return app
