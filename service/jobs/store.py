"""`JobStore`: what the queue, the runner and the scheduler need of where jobs are kept.

`service.store.jobs.JobRepository` is the one real implementation (every change of state one
conditional UPDATE, so racing runners cannot both win); tests whose point is the runner's
logic rather than the database run on the in-memory one in `tests/fakes/jobs.py`, which
`tests/service/test_job_store_contract.py` holds to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from service.store.jobs import DEFAULT_SORT, Beat
from service.store.paging import Page, Sort
from service.store.tables import Job, JobState


@runtime_checkable
class JobStore(Protocol):
    """Jobs by id, with the state changes of their lifecycle (see `JobRepository`)."""

    def submit(
        self,
        kind: str,
        *,
        connection: str | None = None,
        params: Mapping[str, Any] | None = None,
        exclusive: bool = True,
        run_after: datetime | None = None,
        now: datetime | None = None,
    ) -> Job:
        """Queue a job; `JobConflictError` when an exclusive one holds the lock."""
        ...

    def get(self, job_id: str) -> Job | None: ...

    def active(self, kind: str, connection: str | None) -> Job | None: ...

    def latest(self, kind: str, connection: str | None) -> Job | None: ...

    def page(
        self,
        *,
        kind: str | None = None,
        state: str | None = None,
        connection: str | None = None,
        sort: Sort = DEFAULT_SORT,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Job]: ...

    def claim(
        self, worker: str, now: datetime, limit: int, kinds: Collection[str] | None = None
    ) -> list[Job]: ...

    def claim_one(
        self, job_id: str, worker: str, now: datetime, kinds: Collection[str] | None = None
    ) -> Job | None: ...

    def undispatched(
        self, now: datetime, resend_after: timedelta, limit: int = 100
    ) -> list[str]: ...

    def dispatched(self, job_id: str, now: datetime) -> None: ...

    def beat(
        self,
        job_id: str,
        worker: str,
        now: datetime,
        *,
        progress: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
    ) -> Beat: ...

    def finish(
        self,
        job_id: str,
        worker: str,
        state: JobState,
        now: datetime,
        *,
        progress: Mapping[str, Any],
        checkpoint: Mapping[str, Any],
        error: str | None = None,
        run_after: datetime | None = None,
        refund_attempt: bool = False,
    ) -> bool: ...

    def recover_stale(
        self,
        now: datetime,
        stale_after: timedelta,
        max_attempts: int,
        keep: Collection[str] = (),
    ) -> int: ...

    def resume_paused(self, now: datetime) -> int: ...

    def resume(self, job_id: str) -> Job | None: ...

    def cancel(self, job_id: str, now: datetime) -> Job | None: ...
