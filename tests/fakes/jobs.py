"""`InMemoryJobStore`: the `JobStore` protocol on a dict, with `JobRepository`'s rules (one
active job per lock key, state changes only from the states the real UPDATEs allow, a
runner's writes only while it holds the job)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from service.store.jobs import DEFAULT_SORT, SORTABLE, Beat, JobConflictError, lock_key
from service.store.paging import Page, Sort, decode_cursor, encode_cursor
from service.store.tables import ACTIVE_JOB_STATES, Job, JobState

_ENDED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class InMemoryJobStore:
    """Jobs in a dict. Reads return copies, as the database's rows are detached copies."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.RLock()

    # -- submitting and reading ------------------------------------------------------------

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
        job = Job(
            kind=kind,
            connection=connection,
            params=dict(params or {}),
            lock_key=lock_key(kind, connection) if exclusive else None,
            run_after=run_after,
        )
        if now is not None:
            job.created_at = now
        with self._lock:
            if job.lock_key is not None and self._holder(job.lock_key) is not None:
                raise JobConflictError(self.active(kind, connection))
            self._jobs[job.id] = job
            return _copy(job)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return _copy(job) if job else None

    def active(self, kind: str, connection: str | None) -> Job | None:
        with self._lock:
            job = self._holder(lock_key(kind, connection))
            return _copy(job) if job else None

    def latest(self, kind: str, connection: str | None) -> Job | None:
        with self._lock:
            mine = [j for j in self._jobs.values() if (j.kind, j.connection) == (kind, connection)]
            return _copy(max(mine, key=lambda j: j.created_at)) if mine else None

    def page(
        self,
        *,
        kind: str | None = None,
        state: str | None = None,
        connection: str | None = None,
        sort: Sort = DEFAULT_SORT,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Job]:
        if sort.field not in SORTABLE:
            raise KeyError(sort.field)  # as the real one: the API offers only SORTABLE fields
        with self._lock:
            rows = [
                j
                for j in self._jobs.values()
                if (kind is None or j.kind == kind)
                and (state is None or j.state == state)
                and (connection is None or j.connection == connection)
            ]

        def key(job: Job) -> tuple[Any, str]:
            return getattr(job, sort.field), job.id

        rows.sort(key=key, reverse=sort.descending)
        if cursor is not None:
            after = decode_cursor(cursor, sort)
            rows = [j for j in rows if (key(j) < after if sort.descending else key(j) > after)]
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more and rows else None
        next_cursor = encode_cursor(sort, getattr(last, sort.field), last.id) if last else None
        return Page([_copy(j) for j in rows], next_cursor)

    # -- the runner's side -----------------------------------------------------------------

    def claim(
        self, worker: str, now: datetime, limit: int, kinds: Collection[str] | None = None
    ) -> list[Job]:
        with self._lock:
            due = sorted(
                (j for j in self._jobs.values() if self._claimable(j, now, kinds)),
                key=lambda j: j.created_at,
            )
            claimed = [self.claim_one(j.id, worker, now) for j in due[:limit]]
        return [j for j in claimed if j is not None]

    def claim_one(
        self, job_id: str, worker: str, now: datetime, kinds: Collection[str] | None = None
    ) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not self._claimable(job, now, kinds):
                return None
            job.state = JobState.RUNNING.value
            job.worker = worker
            job.heartbeat_at = now
            job.attempts += 1
            job.error = None
            job.started_at = job.started_at or now
            return _copy(job)

    def undispatched(self, now: datetime, resend_after: timedelta, limit: int = 100) -> list[str]:
        with self._lock:
            due = sorted(
                (
                    j
                    for j in self._jobs.values()
                    if self._claimable(j, now, None)
                    and (j.dispatched_at is None or j.dispatched_at < now - resend_after)
                ),
                key=lambda j: j.created_at,
            )
            return [j.id for j in due[:limit]]

    def dispatched(self, job_id: str, now: datetime) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].dispatched_at = now

    def beat(
        self,
        job_id: str,
        worker: str,
        now: datetime,
        *,
        progress: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
    ) -> Beat:
        with self._lock:
            job = self._held(job_id, worker)
            if job is None:
                return Beat(owned=False, cancel_requested=False)
            job.heartbeat_at = now
            if progress is not None:
                job.progress = dict(progress)
            if checkpoint is not None:
                job.checkpoint = dict(checkpoint)
            return Beat(owned=True, cancel_requested=job.cancel_requested)

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
    ) -> bool:
        with self._lock:
            job = self._held(job_id, worker)
            if job is None:
                return False
            job.state = state.value
            job.worker = None
            job.progress = dict(progress)
            job.checkpoint = dict(checkpoint)
            job.error = error
            job.run_after = run_after
            job.heartbeat_at = now
            if state in _ENDED:
                job.finished_at = now
            if state is JobState.QUEUED:
                job.dispatched_at = None
            if refund_attempt:
                job.attempts -= 1
            return True

    def recover_stale(
        self,
        now: datetime,
        stale_after: timedelta,
        max_attempts: int,
        keep: Collection[str] = (),
    ) -> int:
        cutoff = now - stale_after
        recovered = 0
        with self._lock:
            for job in self._jobs.values():
                if job.state != JobState.RUNNING.value or job.id in keep:
                    continue
                if job.heartbeat_at is not None and job.heartbeat_at >= cutoff:
                    continue
                recovered += 1
                job.worker = None
                if job.attempts >= max_attempts:
                    job.state = JobState.FAILED.value
                    job.finished_at = now
                    job.error = f"abandoned: its runner stopped beating {max_attempts} times"
                else:
                    job.state = JobState.QUEUED.value
                    job.dispatched_at = None
        return recovered

    def resume_paused(self, now: datetime) -> int:
        resumed = 0
        with self._lock:
            for job in self._jobs.values():
                if job.state == JobState.PAUSED.value and job.run_after and job.run_after <= now:
                    job.state = JobState.QUEUED.value
                    job.dispatched_at = None
                    resumed += 1
        return resumed

    def resume(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.state in (JobState.PAUSED.value, JobState.CANCELLED.value):
                holder = self._holder(job.lock_key) if job.lock_key else None
                if holder is not None and holder.id != job.id:
                    raise JobConflictError(_copy(holder))
                job.state = JobState.QUEUED.value
                job.run_after = None
                job.cancel_requested = False
                job.finished_at = None
                job.error = None
                job.dispatched_at = None
            return _copy(job)

    # -- cancelling ------------------------------------------------------------------------

    def cancel(self, job_id: str, now: datetime) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.state in (JobState.QUEUED.value, JobState.PAUSED.value):
                job.state = JobState.CANCELLED.value
                job.cancel_requested = True
                job.finished_at = now
                job.error = "cancelled before it ran to the end"
            elif job.state == JobState.RUNNING.value:
                job.cancel_requested = True
            return _copy(job)

    # -- helpers ---------------------------------------------------------------------------

    def _holder(self, key: str) -> Job | None:
        # The partial unique index on lock_key over the active states, as a lookup.
        return next(
            (j for j in self._jobs.values() if j.lock_key == key and j.state in ACTIVE_JOB_STATES),
            None,
        )

    def _held(self, job_id: str, worker: str) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or job.state != JobState.RUNNING.value or job.worker != worker:
            return None
        return job

    @staticmethod
    def _claimable(job: Job, now: datetime, kinds: Collection[str] | None) -> bool:
        return (
            job.state == JobState.QUEUED.value
            and (job.run_after is None or job.run_after <= now)
            and (kinds is None or job.kind in kinds)
        )


def _copy(job: Job) -> Job:
    return job.model_copy(deep=True)
