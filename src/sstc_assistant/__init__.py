"""SSTC Assistant: cited answers from UN South-South and triangular cooperation documents.

    from sstc_assistant import Assistant, Settings

    answer = Assistant(Settings()).ask("What does A/RES/73/291 ask of the UN system?")
    for c in answer.citations:
        print(c.n, c.human, c.quote)

Every name is imported from its module on first use, so `import sstc_assistant` stays cheap:
it imports neither the models (torch, sentence-transformers) nor the vector store (chromadb) nor
the web stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assistant import Assistant
    from .errors import StoreError
    from .health import IndexHealth
    from .retrieval import Filters
    from .settings import RetrievalMode, Settings
    from .types import (
        Answer,
        Citation,
        DocumentMeta,
        IndexedDocument,
        Location,
        SearchHit,
        Source,
        Version,
    )

# public name -> the module that defines it
_LAZY = {
    "Assistant": "assistant",
    "Settings": "settings",
    "RetrievalMode": "settings",
    "Answer": "types",
    "Citation": "types",
    "Source": "types",
    "Version": "types",
    "Location": "types",
    "SearchHit": "types",
    "IndexedDocument": "types",
    "DocumentMeta": "types",
    "Filters": "retrieval",
    "IndexHealth": "health",
    "StoreError": "errors",
}

__all__ = [  # spelled out for type checkers and IDEs; the tests check it against _LAZY
    "Answer",
    "Assistant",
    "Citation",
    "DocumentMeta",
    "Filters",
    "IndexHealth",
    "IndexedDocument",
    "Location",
    "RetrievalMode",
    "SearchHit",
    "Settings",
    "Source",
    "StoreError",
    "Version",
    "__version__",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sstc-assistant")
    except PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
