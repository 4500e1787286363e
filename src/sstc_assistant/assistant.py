"""The one object every front end talks to: CLI, REST API, UI and benchmark."""

from __future__ import annotations

import threading
from functools import cached_property

from .embeddings import Embedder, get_embedder
from .index import Index
from .retrieval import Filters, Retriever
from .settings import RetrievalMode, Settings
from .types import IndexedDocument, SearchHit


class Assistant:
    """Loads the embedder and opens the index once; safe to share between threads."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._lock = threading.Lock()

    @cached_property
    def index(self) -> Index:
        index = Index(self.settings)
        built = index.embedder_name
        if built and built != self.settings.embedder and self._embedder is None:
            # answer with the model the index was built with rather than refuse to start
            self.settings = self.settings.model_copy(update={"embedder": built})
        return index

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings.embedder, self.settings.embed_batch_size)
        return self._embedder

    @cached_property
    def retriever(self) -> Retriever:
        index = self.index
        index.check_embedder(self.embedder.name, claim=False)
        return Retriever(index, self.embedder, self.settings)

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: RetrievalMode | None = None,
        filters: Filters | None = None,
    ) -> list[SearchHit]:
        return self.retriever.search(query, k or self.settings.top_k, mode=mode, filters=filters)

    def documents(self) -> list[IndexedDocument]:
        return self.index.documents()
