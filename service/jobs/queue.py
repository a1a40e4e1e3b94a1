"""Submitting and cancelling jobs: what the API and the CLI call (no runner needed here).

An API-only replica (`CEM_JOBS__ENABLED=false`) still queues jobs; whichever replica runs a
runner picks them up from the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.jobs.registry import JobRegistry
from service.store.jobs import JobConflictError, JobRepository
from service.store.tables import Job, utcnow

__all__ = ["JobConflictError", "JobQueue"]


class JobQueue:
    """Queue jobs of registered kinds; read and cancel them."""

    def __init__(self, repository: JobRepository, registry: JobRegistry) -> None:
        self.repository = repository
        self.registry = registry

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
        return self.repository.submit(
            kind,
            connection=connection,
            params=params,
            exclusive=spec.exclusive,
            run_after=run_after,
            now=now,
        )

    def cancel(self, job_id: str) -> Job | None:
        return self.repository.cancel(job_id, utcnow())

    def get(self, job_id: str) -> Job | None:
        return self.repository.get(job_id)
