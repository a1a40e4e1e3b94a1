"""What a running job function sees besides its params: progress, checkpoint and cancellation.

A job function calls `ctx.progress(pulled=200, checkpoint={...})` after each batch and
`ctx.check_cancelled()` between batches. Counters are cumulative across attempts: a job resumed
after a crash starts from the counters and checkpoint saved with its last progress call, which
were written together, so a resumed run neither repeats nor loses a counted batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from service.store.jobs import Beat


class JobStopped(Exception):  # noqa: N818  (a control-flow signal, not an error)
    """Base of the signals a job function may raise, or let `check_cancelled` raise."""


class JobCancelled(JobStopped):
    """Someone cancelled the job; it ends as `cancelled`."""


class JobInterrupted(JobStopped):
    """This process is shutting down (or lost the job); it is handed back to be resumed."""


class JobPaused(JobStopped):
    """Stop cleanly and resume later from the checkpoint (e.g. the CRM's daily quota is spent)."""

    def __init__(self, reason: str, resume_at: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.resume_at = resume_at


# (progress, checkpoint or None) -> what the database said back.
Saver = Callable[[dict[str, Any], dict[str, Any] | None], Beat]


class JobContext:
    """The handle a job function gets; thread-safe, so a job may fan out to threads."""

    def __init__(
        self,
        *,
        job_id: str,
        kind: str,
        connection: str | None,
        attempt: int,
        progress: Mapping[str, Any],
        checkpoint: Mapping[str, Any],
        save: Saver,
        flush_seconds: float,
    ) -> None:
        self.job_id = job_id
        self.kind = kind
        self.connection = connection
        self.attempt = attempt
        self._counters: dict[str, Any] = dict(progress)
        self._checkpoint: dict[str, Any] = dict(checkpoint)
        self._save = save
        self._flush_seconds = flush_seconds
        self._last_flush = time.monotonic()
        self._dirty = False
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._interrupt = threading.Event()

    @property
    def resumed(self) -> bool:
        """True when an earlier attempt left a checkpoint to go on from."""
        return bool(self._checkpoint)

    @property
    def checkpoint(self) -> dict[str, Any]:
        """A copy of the last saved checkpoint (empty on a first run)."""
        with self._lock:
            return dict(self._checkpoint)

    @property
    def counters(self) -> dict[str, Any]:
        """A copy of the cumulative progress counters."""
        with self._lock:
            return dict(self._counters)

    def progress(self, checkpoint: Mapping[str, Any] | None = None, **counts: int) -> None:
        """Add `counts` to the counters; with `checkpoint`, save both at once (durably)."""
        with self._lock:
            for name, count in counts.items():
                self._counters[name] = int(self._counters.get(name, 0)) + count
            if checkpoint is not None:
                self._checkpoint = dict(checkpoint)
            self._dirty = True
            due = time.monotonic() - self._last_flush >= self._flush_seconds
            if checkpoint is None and not due:
                return
            self._flush_locked(with_checkpoint=checkpoint is not None)

    def check_cancelled(self) -> None:
        """Raise `JobCancelled` / `JobInterrupted` when the job should stop now."""
        if self._cancel.is_set():
            raise JobCancelled("cancelled on request")
        if self._interrupt.is_set():
            raise JobInterrupted("the runner is stopping; the job will resume")

    # -- for the runner --------------------------------------------------------------------

    def flush(self) -> None:
        """Write pending counters (the runner calls it before recording the outcome)."""
        with self._lock:
            if self._dirty:
                self._flush_locked(with_checkpoint=True)

    def heard(self, beat: Beat) -> None:
        """Apply what a heartbeat learnt from the database."""
        if beat.cancel_requested:
            self._cancel.set()
        if not beat.owned:
            self._interrupt.set()

    def interrupt(self) -> None:
        self._interrupt.set()

    def _flush_locked(self, *, with_checkpoint: bool) -> None:
        beat = self._save(dict(self._counters), dict(self._checkpoint) if with_checkpoint else None)
        self._last_flush = time.monotonic()
        self._dirty = False
        self.heard(beat)
