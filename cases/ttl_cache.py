"""A per-worker memo for figures that are expensive and may be a little stale (queue header
counts, oversight dashboards): entries live ``ttl`` seconds, and the whole memo is dropped when it
grows past its bound, so a flood of distinct filters cannot exhaust a worker's memory."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(dict[Hashable, tuple[float, V]], Generic[V]):
    """key → (expires at, value), on the monotonic clock."""

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def get_or_compute(self, key: Hashable, ttl_s: float, compute: Callable[[], V]) -> V:
        now = time.monotonic()
        hit = self.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        if len(self) > self.max_entries:
            self.clear()
        self[key] = (now + ttl_s, value)
        return value
