"""A controllable clock: real time by default, frozen or offset when a test says so.

Cursors (SystemModstamp, updatedAt), token expiry and rate-limit windows all read this clock,
so a test can move time forward instead of sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Wall-clock time that can be frozen at an instant or shifted by an offset.

    * default: `now()` is the real UTC time;
    * `set(at)`: freezes the clock at `at`; `advance(s)` then moves the frozen instant;
    * `advance(s)` on a running clock adds `s` to a standing offset (time keeps flowing);
    * `resume()`: back to flowing time, keeping the current reading as the starting point.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen_at: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The current sandbox time, timezone-aware UTC."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        """Seconds on the sandbox time line, for windows and expiry arithmetic."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back, when negative) and return the new reading."""
        delta = timedelta(seconds=seconds)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += delta
                return self._frozen_at
            self._offset += delta
            return datetime.now(UTC) + self._offset

    def set(self, at: datetime) -> None:
        """Freeze the clock at `at` (naive datetimes are taken as UTC)."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        with self._lock:
            self._frozen_at = at.astimezone(UTC)

    def resume(self) -> None:
        """Let time flow again from the current reading."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - datetime.now(UTC)
                self._frozen_at = None

    def reset(self) -> None:
        """Back to real time, no offset."""
        with self._lock:
            self._frozen_at = None
            self._offset = timedelta(0)

    @property
    def frozen(self) -> bool:
        """Whether the clock is currently frozen."""
        with self._lock:
            return self._frozen_at is not None
