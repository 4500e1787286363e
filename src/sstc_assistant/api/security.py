"""Who may do what, and how often: the API key of corpus changes (REST and UI share its budget of
failed attempts), the per-client rate limit of the endpoints that cost model time, and the upload
guard that refuses a body before reading it."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, NamedTuple

from fastapi import Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import Settings
from .error_handlers import error_body

log = logging.getLogger("sstc")

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


async def rate_limit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Per-client budget (`app.state.limiter`) on the endpoints that cost model time (429 with
    Retry-After)."""
    if request.method == "POST" and request.url.path in LIMITED_PATHS:
        client = request.client.host if request.client else "unknown"
        wait = request.app.state.limiter.take(client)
        if wait > 0:
            message = f"too many requests: try again in {wait:.0f} s (SSTC_RATE_LIMIT_PER_MINUTE)"
            return JSONResponse(
                error_body(request, message, 429),
                status_code=429,
                headers={"Retry-After": str(max(1, round(wait)))},
            )
    return await call_next(request)


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


def client_address(scope: Scope) -> str:
    """The client address a budget is kept for (the proxy's, unless uvicorn trusts its headers)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def require_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """The dependency of every corpus change: the app's `KeyGuard` (`app.state.key_guard`) decides."""
    refused = request.app.state.key_guard.check(client_address(request.scope), authorization)
    if refused:
        raise HTTPException(*refused)


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
        refused = self.problem(client_address(scope), headers.get("authorization"))
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
