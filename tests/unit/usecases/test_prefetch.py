"""`prefetched`: the reader's pages in their order, its errors where they happened, its
context-local listeners kept, and no thread left behind when the consumer stops early."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextvars import ContextVar

import pytest

from service.usecases.prefetch import prefetched

heard: ContextVar[str] = ContextVar("heard", default="nobody")


def pages(n: int, fail_at: int | None = None, seen: list[str] | None = None) -> Iterator[int]:
    for page in range(n):
        if seen is not None:
            seen.append(heard.get())
        if page == fail_at:
            raise ValueError(f"page {page} refused")
        yield page


def test_pages_keep_their_order_and_context() -> None:
    seen: list[str] = []
    token = heard.set("the job")
    try:
        assert list(prefetched(pages(50, seen=seen), depth=3)) == list(range(50))
    finally:
        heard.reset(token)
    assert set(seen) == {"the job"}


def test_a_readers_error_comes_out_after_the_pages_before_it() -> None:
    got: list[int] = []
    with pytest.raises(ValueError, match="page 3 refused"):
        got.extend(prefetched(pages(10, fail_at=3)))  # appends page by page until the error
    assert got == [0, 1, 2]


def test_stopping_early_leaves_no_thread() -> None:
    before = threading.active_count()
    for page in prefetched(pages(1000)):
        if page == 2:
            break
    assert threading.active_count() == before
