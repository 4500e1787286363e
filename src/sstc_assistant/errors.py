"""Errors a user can act on, and the one way their messages are shortened for a screen or a log."""

from __future__ import annotations


class StoreError(RuntimeError):
    """A problem with the index a user can fix; the message says how."""


class StoreLockedError(StoreError):
    """Another process holds the index's writer lock."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
