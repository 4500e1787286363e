"""Every error is JSON with a one-line `message`: invalid requests name each field and problem, an
unreadable body says why, a busy index asks to retry, and nothing unexpected shows a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import StoreError, first_line

log = logging.getLogger("sstc")


def error_body(request: Request, message: str, status: int) -> dict[str, Any]:
    """`{message}` everywhere; under `/v1/` also OpenAI's `{error: {message, type}}`, which the
    openai SDK and chat front ends show to their users."""
    body: dict[str, Any] = {"message": message}
    if request.url.path.startswith("/v1/"):
        kind = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}
        body["error"] = {"message": message, "type": kind.get(status, "invalid_request_error"), "code": None}
    return body


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: "
        f"{str(e['msg']).removeprefix('Value error, ')}"
        for e in exc.errors()
    )
    return JSONResponse(error_body(request, f"invalid request: {problems}", 422), status_code=422)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Also the router's own 404/405 and body errors."""
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


async def _value(_: Request, exc: ValueError) -> JSONResponse:
    return JSONResponse(
        {"message": str(exc).splitlines()[0] if str(exc) else "invalid request"}, status_code=400
    )


async def _store(_: Request, exc: StoreError) -> JSONResponse:
    """The index is busy or unreachable (another writer, a lost Chroma server): retry later."""
    return JSONResponse({"message": first_line(exc)}, status_code=503, headers={"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # uvicorn logs nothing once a handler has answered: without this the log the message
    # points to would be empty
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"message": f"internal error ({type(exc).__name__}); see the server log"}, status_code=500
    )


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ValueError, _value)
    app.add_exception_handler(StoreError, _store)
    app.add_exception_handler(Exception, _unexpected)
