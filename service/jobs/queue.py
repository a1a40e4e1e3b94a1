"""Submitting and cancelling jobs: what the API and the CLI call (no runner needed here).

An API-only replica (`CEM_JOBS__ENABLED=false`) still queues jobs; whichever replica runs a
runner picks them up from the database. With a task queue (`dispatch`, service/jobs/broker.py)
a submitted job's row is written first, then a message naming it goes to the broker; the row
stays the record, the message only says "run this one now".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from service.jobs.registry import JobRegistry
from service.jobs.store import JobStore
from service.logs import one_line_error
from service.store.jobs import JobConflictError
from service.store.tables import Job, utcnow

__all__ = ["Dispatch", "JobConflictError", "JobQueue"]

log = logging.getLogger(__name__)

# Sends a message naming the job to the task queue's broker (raises when it cannot).
Dispatch = Callable[[str], None]


class JobQueue:
    """Queue jobs of registered kinds; read and cancel them."""

    def __init__(
        self,
        repository: JobStore,
        registry: JobRegistry,
        *,
        dispatch: Dispatch | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.repository = repository
        self.registry = registry
        self._dispatch = dispatch
        self._secrets = tuple(secrets)

    @property
    def dispatches(self) -> bool:
        """True when jobs run on a task queue's workers (messages are sent for them)."""
        return self._dispatch is not None

    def send(self, job_id: str, now: datetime | None = None) -> bool:
        """Send the message naming `job_id` and note it; False when the broker refused (the
        job stays queued and the runner's sweep sends it later)."""
        if self._dispatch is None:
            return False
        try:
            self._dispatch(job_id)
        except Exception as error:
            log.warning("job %s: no message sent: %s", job_id, one_line_error(error, self._secrets))
            return False
        self.repository.dispatched(job_id, now or utcnow())
        return True

    def submit(
        self,
        kind: str,
        *,
        connection: str | None = None,
        params: Mapping[str, Any] | None = None,
        run_after: datetime | None = None,
        now: datetime | None = None,
    ) -> Job:
        """Queue a job. `UnknownJobKindError` when no function is registered for `kind` (a job that
        nothing can run is refused rather than left queued forever); `JobConflictError` when an
        exclusive job of this (kind, connection) is already queued, running or paused."""
        spec = self.registry.get(kind)
        job = self.repository.submit(
            kind,
            connection=connection,
            params=params,
            exclusive=spec.exclusive,
            run_after=run_after,
            now=now,
        )
        if run_after is None:  # a later one is sent by the sweep once it is due
            self.send(job.id, now)
        return job

    def cancel(self, job_id: str) -> Job | None:
        return self.repository.cancel(job_id, utcnow())

    def get(self, job_id: str) -> Job | None:
        return self.repository.get(job_id)
