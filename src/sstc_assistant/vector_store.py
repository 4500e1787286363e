"""The dense side of an index: one embedding per distinct passage (a vector id) in a vector
database, Chroma embedded in the index folder or a Chroma server (SSTC_CHROMA_URL)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import httpx
import numpy as np

from .errors import StoreError, first_line
from .settings import Settings


class VectorStore(Protocol):
    """What the index needs of a vector database (Chroma embedded, Chroma server, ...)."""

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray, texts: Sequence[str]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, embeddings: np.ndarray, k: int) -> list[list[tuple[str, float]]]: ...

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def hnsw_differences(self, settings: Settings) -> dict[str, tuple[int, int]]: ...

    def set_ef_search(self, value: int) -> None: ...


def hnsw_wanted(settings: Settings) -> dict[str, int]:
    return {
        "ef_search": settings.hnsw_ef_search,
        "ef_construction": settings.hnsw_ef_construction,
        "max_neighbors": settings.hnsw_max_neighbors,
    }


class ChromaStore:
    """Chroma with our own embeddings (never its default function, which would download one)."""

    def __init__(self, settings: Settings, path: Path, collection: str) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        self.url = settings.chroma_url
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if not url.hostname:
                raise StoreError(f"SSTC_CHROMA_URL {settings.chroma_url!r} is not an http(s) URL")
            port = url.port or (443 if url.scheme == "https" else 8000)
            try:
                self.client = chromadb.HttpClient(
                    host=url.hostname, port=port, ssl=url.scheme == "https", settings=chroma_settings
                )
                self.client.heartbeat()
            except Exception as exc:
                raise StoreError(f"cannot reach the Chroma server at {settings.chroma_url} ({exc})") from exc
        else:
            path.mkdir(parents=True, exist_ok=True)
        try:
            if not settings.chroma_url:
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            self.collection = self.client.get_or_create_collection(
                name=collection,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", **hnsw_wanted(settings)}},
            )
        except Exception as exc:  # a corrupt chroma.sqlite3 raises chromadb's InternalError
            where = settings.chroma_url or path
            raise StoreError(
                f"the vector store at {where} is unreadable ({first_line(exc)}): "
                f"run `sstc ingest --rebuild --index {settings.index}`"
            ) from exc

    def hnsw_differences(self, settings: Settings) -> dict[str, tuple[int, int]]:
        """HNSW parameters the collection was made with that the settings now change: (made, set).
        Chroma fixes them when it creates a collection; only ef_search can change afterwards."""
        made = (self.collection.configuration_json or {}).get("hnsw") or {}  # raw: no deprecation warning
        return {
            name: (made[name], value)
            for name, value in hnsw_wanted(settings).items()
            if made.get(name) is not None and made[name] != value
        }

    def set_ef_search(self, value: int) -> None:
        self.collection.modify(configuration={"hnsw": {"ef_search": value}})

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray, texts: Sequence[str]) -> None:
        with self._served():
            step = 1000
            for i in range(0, len(ids), step):
                self.collection.upsert(
                    ids=list(ids[i : i + step]),
                    embeddings=embeddings[i : i + step].tolist(),
                    documents=list(texts[i : i + step]),
                )

    def delete(self, ids: Sequence[str]) -> None:
        with self._served():
            for i in range(0, len(ids), 1000):
                self.collection.delete(ids=list(ids[i : i + 1000]))

    def query(self, embeddings: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        if len(embeddings) == 0:
            return []
        with self._served():
            # no count() first: Chroma returns what it has, and counting cost more than the query at 100k
            res = self.collection.query(
                query_embeddings=np.asarray(embeddings).tolist(), n_results=k, include=["distances"]
            )
            return [
                [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=True)]
                for ids, dists in zip(res["ids"], res["distances"], strict=True)
            ]

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        with self._served():
            out: dict[str, np.ndarray] = {}
            ids = list(ids)
            for i in range(0, len(ids), 1000):
                res = self.collection.get(ids=ids[i : i + 1000], include=["embeddings"])
                for vid, emb in zip(res["ids"], res["embeddings"], strict=True):
                    out[vid] = np.asarray(emb, dtype=np.float32)
            return out

    def ids(self) -> set[str]:
        with self._served():
            out: set[str] = set()
            offset, step = 0, 5000
            while True:
                batch = self.collection.get(include=[], limit=step, offset=offset)["ids"]
                out.update(batch)
                if len(batch) < step:
                    return out
                offset += step

    def count(self) -> int:
        with self._served():
            return self.collection.count()

    @contextlib.contextmanager
    def _served(self) -> Iterator[None]:
        """A lost Chroma server or collection is a StoreError (a one-line message, HTTP 503)."""
        from chromadb.errors import NotFoundError

        try:
            yield
        except httpx.TransportError as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {self.url} ({first_line(exc)}): "
                "start it (`chroma run`) or fix SSTC_CHROMA_URL"
            ) from exc
        except NotFoundError as exc:
            raise StoreError(
                f"the collection {self.collection.name} is gone from the vector store (rebuilt or "
                "dropped by another process?): restart this process"
            ) from exc

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self.client.delete_collection(self.collection.name)
