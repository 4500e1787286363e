"""What the routes are handed: the app's one `Assistant`, which `create_app` keeps in
`app.state.assistant`, so a router module holds no assistant of its own and serves any app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..assistant import Assistant


async def get_assistant(request: Request) -> Assistant:
    """Async, so that it is read in the event loop rather than on a worker thread."""
    return request.app.state.assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
