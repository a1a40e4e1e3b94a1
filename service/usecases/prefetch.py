"""Fetch the next page of a pull while the current one is scored and stored.

The pages still arrive one after another in cursor order (the reader's generator runs in one
thread, start to end); only the CRM round trip of page N+1 overlaps the work on page N. The
thread runs in a copy of the caller's context, so context-local listeners (rate-limit waits)
still hear its calls.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar, cast

T = TypeVar("T")

_END = object()


def prefetched(pages: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The items of `pages`, with up to `depth` fetched ahead in a thread; the reader's own
    exceptions come out where the item would have."""
    ahead: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
            put(_END)
        except BaseException as error:  # handed to the consumer, raised there
            put(error)

    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(produce,), name="cem-prefetch", daemon=True
    )
    thread.start()
    try:
        while True:
            item = ahead.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(T, item)
    finally:
        # The consumer stopped (done, cancelled, failed): let the producer finish its page.
        stop.set()
        thread.join()
