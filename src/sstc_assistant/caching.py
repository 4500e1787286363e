"""A bounded, thread-safe least-recently-used cache: the one the answer path's memos share."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `size` entries, the least recently used dropped first; `size` 0 keeps nothing.

    A value is computed outside the lock, so a slow computation (embedding, reading a document)
    never blocks readers of other keys; two threads missing the same key both compute it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def found(self, keys: Iterable[K]) -> dict[K, V]:
        """The cached values of `keys` (each counted as a hit or a miss)."""
        out: dict[K, V] = {}
        with self._lock:
            for key in keys:
                if key in self._items:
                    self._items.move_to_end(key)
                    out[key] = self._items[key]
                    self.hits += 1
                else:
                    self.misses += 1
        return out

    def put(self, items: Iterable[tuple[K, V]]) -> None:
        if self.size == 0:
            return
        with self._lock:
            for key, value in items:
                self._items[key] = value
                self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value of `key`, or `compute()` remembered."""
        have = self.found([key])
        if key in have:
            return have[key]
        value = compute()
        self.put([(key, value)])
        return value
