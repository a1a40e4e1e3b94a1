"""A bounded, thread-safe cache of results keyed by a hash of (text, language, model version).

Keys are SHA-256 digests, so the cache never holds message text (the service does not keep
message text unless configured). An LRU bound keeps memory flat on long runs.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")


def text_key(text: str, language: str, version: str) -> str:
    """The cache key of one scoring request."""
    digest = hashlib.sha256()
    for part in (version, language, text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


class ResultCache(Generic[T]):
    """LRU cache; `capacity` 0 disables it."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> T | None:
        """The cached value, refreshed as most recent, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: T) -> None:
        """Store a value, evicting the least recently used beyond capacity."""
        if self.capacity <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
