"""The keyword side of retrieval: BM25 (bm25s) over an index's distinct passages, saved beside its
vectors with the catalog generation it was built at (`Index.refresh_lexical` rebuilds it when the
catalog moved on)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from .questions import stem


class LexicalIndex:
    """BM25 (bm25s) over the distinct passages, persisted beside the vectors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.retriever = None
        self.ids: list[str] = []
        self.generation = -1

    # bumped when tokenize changes: a copy saved with another tokenizer is rebuilt, not misread
    TOKENIZER = "en-stopwords+stem-2"

    @staticmethod
    def tokenize(texts: Sequence[str]):
        """Words without English stopwords, lightly stemmed: "encourage" finds "Encourages", the
        operative verb of a UN paragraph."""
        import bm25s

        return bm25s.tokenize(
            list(texts), stopwords="en", stemmer=lambda words: [stem(w) for w in words], show_progress=False
        )

    def build(self, ids: list[str], texts: list[str], generation: int) -> None:
        import bm25s

        self.ids, self.generation = ids, generation
        if not ids:
            self.retriever = None
            return
        retriever = bm25s.BM25()
        retriever.index(self.tokenize(texts), show_progress=False)
        self.retriever = retriever

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.retriever is not None:
            self.retriever.save(str(tmp / "bm25"))
        (tmp / "ids.json").write_text(
            json.dumps({"generation": self.generation, "ids": self.ids, "tokenizer": self.TOKENIZER}),
            encoding="utf-8",
        )
        (tmp / "meta.json").write_text(
            json.dumps({"generation": self.generation, "passages": len(self.ids)}), encoding="utf-8"
        )
        shutil.rmtree(self.path, ignore_errors=True)
        tmp.rename(self.path)

    def saved_state(self) -> tuple[int, int] | None:
        """(generation, passages) of the copy on disk, from a tiny file, so health checks stay cheap."""
        try:
            data = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
            return int(data["generation"]), int(data["passages"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def load(self) -> bool:
        import bm25s

        try:
            data = json.loads((self.path / "ids.json").read_text(encoding="utf-8"))
            if data.get("tokenizer") != self.TOKENIZER:
                raise ValueError("saved with another tokenizer")
            self.ids, self.generation = data["ids"], int(data["generation"])
            self.retriever = bm25s.BM25.load(str(self.path / "bm25")) if self.ids else None
            return True
        except Exception:  # any damage to the files: the caller rebuilds from the catalog
            self.ids, self.generation, self.retriever = [], -1, None
            return False

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if self.retriever is None or not self.ids:
            return []
        tokens = self.tokenize([query])
        if not tokens.vocab or not any(len(ids) for ids in tokens.ids):
            return []
        docs, scores = self.retriever.retrieve(
            tokens, k=min(k, len(self.ids)), show_progress=False, n_threads=1
        )
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
