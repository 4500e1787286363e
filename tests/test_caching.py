"""The bounded cache the answer path's memos share."""

from __future__ import annotations

from sstc_assistant.caching import LRU


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LRU[str, int] = LRU(2)
    cache.put([("a", 1), ("b", 2)])
    assert cache.found(["a"]) == {"a": 1}  # "a" is now the most recent
    cache.put([("c", 3)])
    assert cache.found(["a", "b", "c"]) == {"a": 1, "c": 3}
    assert (cache.hits, cache.misses) == (3, 1) and len(cache) == 2


def test_a_value_is_computed_once_and_size_zero_keeps_nothing() -> None:
    calls: list[str] = []

    def compute() -> int:
        calls.append("x")
        return 7

    cache: LRU[str, int] = LRU(4)
    assert cache.get("k", compute) == 7 and cache.get("k", compute) == 7
    assert calls == ["x"]
    none: LRU[str, int] = LRU(0)
    assert none.get("k", compute) == 7 and none.get("k", compute) == 7
    assert len(none) == 0 and calls == ["x", "x", "x"]
