"""Waits a CRM imposes (its rate limit), told to whoever shows progress.

The retry layer (adapters/retry.py) sleeps when a CRM answers 429; that is normal operation,
not a warning, so instead of a log line it announces the wait here and whoever runs the work
shows it where the user is already looking: the CLI's progress line ("waiting 1 s for
HubSpot's rate limit"), a job's progress. The listener is context-local, so concurrent syncs
(threads, jobs) each hear only their own waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

WaitListener = Callable[[str, float], None]  # (CRM name as people write it, seconds)

_listener: ContextVar[WaitListener | None] = ContextVar("cem_wait_listener", default=None)


def describe_wait(crm: str, seconds: float) -> str:
    """`waiting 1 s for HubSpot's rate limit` (whole seconds, at least 1)."""
    return f"waiting {max(1, round(seconds))} s for {crm}'s rate limit"


def announce_wait(crm: str, seconds: float) -> bool:
    """Tell the current listener about a wait; False when nobody listens."""
    listener = _listener.get()
    if listener is None:
        return False
    listener(crm, seconds)
    return True


@contextmanager
def listening_for_waits(listener: WaitListener) -> Iterator[None]:
    """Send the waits of the CRM calls made inside the block to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
