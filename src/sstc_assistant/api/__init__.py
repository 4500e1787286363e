"""REST API (FastAPI): a thin shell over `Assistant`. Errors are JSON with a message.

`create_app` assembles it from routers per concern (`asking`, `documents`, `openai_compat`,
`operations`); `security` holds the key guard the UI shares, the rate limiter and the upload guard."""

from .app import create_app
from .security import KeyGuard, RateLimiter

__all__ = ["KeyGuard", "RateLimiter", "create_app"]
