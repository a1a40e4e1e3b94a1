"""Values derived from a frozen configuration object (weights, playbooks), worked out once.

Scoring one customer re-derives the same constants from the same configuration on every call
(the weight vector, the signals the playbooks read); caching them per object saves that. The
cache is keyed on the object's identity, not its hash: hashing a nested pydantic model costs
more than most of these values, and a list field (PlaybookSet.playbooks) makes it unhashable.
A cached_property would survive `model_copy(update=...)` and go stale, which this cannot.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_OBJECTS = 64
"""Configuration objects remembered per function; the cache is cleared when it is full."""


def per_object(fn: Callable[[T], R]) -> Callable[[T], R]:
    """Cache `fn(obj)` by the identity of `obj`, which must not change (frozen models only).

    The cache holds `obj` itself, so its id cannot be reused by another object meanwhile.
    """
    cache: dict[int, tuple[T, R]] = {}
    lock = threading.Lock()

    @functools.wraps(fn)
    def cached(obj: T) -> R:
        hit = cache.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = fn(obj)
        with lock:
            if len(cache) >= MAX_OBJECTS:
                cache.clear()
            cache[id(obj)] = (obj, value)
        return value

    return cached
