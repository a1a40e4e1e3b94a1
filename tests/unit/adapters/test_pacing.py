"""Pacing inside one process: the window HubSpot states, waiting for a slot, the fallback."""

from __future__ import annotations

import logging
import time
import uuid

import pytest

from adapters.hubspot.quota import hubspot_window
from adapters.pacing import BURST, SEARCH, Pacer, Window


def test_the_window_comes_from_hubspot_headers_in_any_case() -> None:
    stated = {
        "x-hubspot-ratelimit-max": "190",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Remaining": "12",
    }
    assert hubspot_window(stated) == Window(190, 10)
    # Search answers and limit-free portals state nothing; garbage is not a window.
    assert hubspot_window({}) is None
    assert hubspot_window({"X-HubSpot-RateLimit-Max": "lots"}) is None
    assert (
        hubspot_window(
            {"X-HubSpot-RateLimit-Max": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "1000"}
        )
        is None
    )


def test_a_bucket_without_a_window_is_neither_paced_nor_counted() -> None:
    slept: list[float] = []
    pacer = Pacer("HubSpot", f"c-{uuid.uuid4().hex}", sleep=slept.append)
    assert [pacer.acquire(BURST) for _ in range(50)] == [False] * 50
    assert slept == []


def test_a_full_window_makes_the_next_call_wait_for_a_slot() -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)  # the window is counted on the real clock

    pacer = Pacer("HubSpot", f"c-{uuid.uuid4().hex}", {SEARCH: Window(3, 1)}, sleep=sleep)
    assert all(pacer.acquire(SEARCH) for _ in range(3))
    assert slept == []  # three fit in the window
    assert pacer.acquire(SEARCH)
    assert slept, "the fourth call in one second must wait"
    assert all(0 < s <= 1.0 for s in slept)


def test_the_first_call_is_counted_once_its_answer_states_the_window() -> None:
    slept: list[float] = []
    pacer = Pacer("HubSpot", f"c-{uuid.uuid4().hex}", sleep=slept.append)
    assert not pacer.acquire(BURST)  # nothing known yet: the call goes out unpaced
    pacer.learn(BURST, Window(2, 60), count_call=True)
    assert pacer.window(BURST) == Window(2, 60)
    assert pacer.acquire(BURST)
    assert slept == []
    # Two calls in the window now (the first one counted late): a third must wait.
    pacer_waits = Pacer(
        "HubSpot",
        pacer.connection,
        {BURST: Window(2, 60)},
        sleep=slept.append,
        max_wait_seconds=0.05,
    )
    assert pacer_waits.acquire(BURST)
    assert slept, "the window already held two calls"


def test_a_portal_that_stops_stating_a_window_is_no_longer_paced() -> None:
    pacer = Pacer("HubSpot", f"c-{uuid.uuid4().hex}", {BURST: Window(1, 60)})
    pacer.learn(BURST, None)
    assert pacer.window(BURST) is None
    assert not pacer.acquire(BURST)


def test_an_unreachable_shared_store_falls_back_without_showing_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "redis://:pacing-s3cret@127.0.0.1:1/0"
    pacer = Pacer("HubSpot", f"c-{uuid.uuid4().hex}", {BURST: Window(5, 1)}, storage_url=url)
    assert "pacing-s3cret" not in repr(pacer)
    with caplog.at_level(logging.WARNING, logger="adapters.pacing"):
        assert pacer.acquire(BURST)
        assert pacer.acquire(BURST)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "this process only" in warnings[0]
    assert "pacing-s3cret" not in caplog.text
    assert repr(pacer).endswith("storage=memory)")
