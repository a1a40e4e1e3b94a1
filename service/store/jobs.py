"""Jobs in the database: submit, claim, beat, finish, cancel and recover.

Every change of state is one conditional `UPDATE … WHERE state = … [AND worker = …]`, so two
runners (threads or replicas) racing for the same job cannot both win, and a runner that lost a
job (re-queued as stale while it was frozen) cannot overwrite what the new owner wrote. The
"one active job per (kind, connection)" rule is the partial unique index on `lock_key`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.store.database import session_scope
from service.store.paging import Page, Sort, keyset_page
from service.store.tables import ACTIVE_JOB_STATES, Job, JobState, utcnow

_ACTIVE = list(ACTIVE_JOB_STATES)
# Only non-null columns sort: keyset paging compares the last row's value.
SORTABLE: dict[str, Any] = {
    "created_at": col(Job.created_at),
    "kind": col(Job.kind),
    "state": col(Job.state),
}
DEFAULT_SORT = Sort("created_at", descending=True)


class JobConflictError(Exception):
    """An active job of the same kind already holds the (kind, connection) lock."""

    def __init__(self, existing: Job | None) -> None:
        super().__init__("an active job already holds this (kind, connection)")
        self.existing = existing


def lock_key(kind: str, connection: str | None) -> str:
    """The key of the one-at-a-time lock; `*` stands for "no connection"."""
    return f"{kind}:{connection or '*'}"


@dataclass(frozen=True)
class Beat:
    """What a heartbeat or progress write learnt: still ours, and whether cancel was asked."""

    owned: bool
    cancel_requested: bool


class JobRepository:
    """All reads and writes of the `jobs` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
        """Queue a job; `JobConflictError` (carrying the active job) when an exclusive one holds
        the lock."""
        job = Job(
            created_at=now or utcnow(),
            kind=kind,
            connection=connection,
            params=dict(params or {}),
            lock_key=lock_key(kind, connection) if exclusive else None,
            run_after=run_after,
        )
        try:
            with session_scope(self._engine) as session:
                session.add(job)
        except IntegrityError:
            raise JobConflictError(self.active(kind, connection)) from None
        return job

    def get(self, job_id: str) -> Job | None:
        with Session(self._engine, expire_on_commit=False) as session:
            return session.get(Job, job_id)

    def active(self, kind: str, connection: str | None) -> Job | None:
        """The queued, running or paused job holding the (kind, connection) lock, if any."""
        with Session(self._engine) as session:
            return session.exec(
                select(Job).where(
                    Job.lock_key == lock_key(kind, connection), col(Job.state).in_(_ACTIVE)
                )
            ).first()

    def latest(self, kind: str, connection: str | None) -> Job | None:
        """The most recently created job of (kind, connection)."""
        with Session(self._engine) as session:
            return session.exec(
                select(Job)
                .where(Job.kind == kind, Job.connection == connection)
                .order_by(col(Job.created_at).desc())
                .limit(1)
            ).first()

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
        """A page of jobs, filtered and sorted (`BadCursorError` for a foreign cursor)."""
        query = select(Job)
        if kind is not None:
            query = query.where(Job.kind == kind)
        if state is not None:
            query = query.where(Job.state == state)
        if connection is not None:
            query = query.where(Job.connection == connection)
        with Session(self._engine, expire_on_commit=False) as session:
            return keyset_page(
                session,
                query,
                sort=sort,
                columns=SORTABLE,
                id_column=col(Job.id),
                cursor=cursor,
                limit=limit,
            )

    # -- the runner's side -----------------------------------------------------------------

    def claim(
        self, worker: str, now: datetime, limit: int, kinds: Collection[str] | None = None
    ) -> list[Job]:
        """Move up to `limit` due queued jobs (of `kinds`, when given: the ones this runner can
        run) to running for `worker`, oldest first."""
        with Session(self._engine) as session:
            query = select(Job.id).where(
                Job.state == JobState.QUEUED.value,
                or_(col(Job.run_after).is_(None), col(Job.run_after) <= now),
            )
            if kinds is not None:
                query = query.where(col(Job.kind).in_(list(kinds)))
            due = session.exec(query.order_by(col(Job.created_at)).limit(limit * 4)).all()
        claimed: list[Job] = []
        for job_id in due:
            if len(claimed) >= limit:
                break
            # One conditional UPDATE each: of runners racing for a job, one wins.
            job = self.claim_one(job_id, worker, now)
            if job is not None:
                claimed.append(job)
        return claimed

    def claim_one(
        self, job_id: str, worker: str, now: datetime, kinds: Collection[str] | None = None
    ) -> Job | None:
        """Move the job `job_id` to running for `worker` if it is queued and due (what a task
        queue's worker does with the message naming it); None when it is not (already taken,
        finished, cancelled, not yet due, or of a kind this worker cannot run)."""
        conditions = [
            col(Job.id) == job_id,
            col(Job.state) == JobState.QUEUED.value,
            or_(col(Job.run_after).is_(None), col(Job.run_after) <= now),
        ]
        if kinds is not None:
            conditions.append(col(Job.kind).in_(list(kinds)))
        with self._engine.begin() as connection:
            result = connection.execute(
                update(Job)
                .where(*conditions)
                .values(
                    state=JobState.RUNNING.value,
                    worker=worker,
                    heartbeat_at=now,
                    attempts=col(Job.attempts) + 1,
                    error=None,
                )
            )
        if result.rowcount != 1:
            return None
        job = self.get(job_id)
        if job is not None and job.started_at is None:
            self._set(job_id, started_at=now)
            job.started_at = now
        return job

    def undispatched(self, now: datetime, resend_after: timedelta, limit: int = 100) -> list[str]:
        """Queued, due jobs with no message sent for them, or none for `resend_after` (a send
        that failed, a job re-queued by recovery, resume or a quota's end), oldest first."""
        with Session(self._engine) as session:
            return list(
                session.exec(
                    select(Job.id)
                    .where(
                        Job.state == JobState.QUEUED.value,
                        or_(col(Job.run_after).is_(None), col(Job.run_after) <= now),
                        or_(
                            col(Job.dispatched_at).is_(None),
                            col(Job.dispatched_at) < now - resend_after,
                        ),
                    )
                    .order_by(col(Job.created_at))
                    .limit(limit)
                ).all()
            )

    def dispatched(self, job_id: str, now: datetime) -> None:
        """Record that a message naming the job went to the broker."""
        self._set(job_id, dispatched_at=now)

    def beat(
        self,
        job_id: str,
        worker: str,
        now: datetime,
        *,
        progress: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
    ) -> Beat:
        """Refresh the heartbeat (and progress/checkpoint) of a job `worker` still holds."""
        values: dict[str, Any] = {"heartbeat_at": now}
        if progress is not None:
            values["progress"] = dict(progress)
        if checkpoint is not None:
            values["checkpoint"] = dict(checkpoint)
        with self._engine.begin() as connection:
            result = connection.execute(
                update(Job).where(*self._held(job_id, worker)).values(**values)
            )
        if result.rowcount != 1:
            return Beat(owned=False, cancel_requested=False)
        job = self.get(job_id)
        return Beat(owned=True, cancel_requested=bool(job and job.cancel_requested))

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
        """End (or hand back) a run `worker` holds; False when the job was taken from it."""
        values: dict[str, Any] = {
            "state": state.value,
            "worker": None,
            "progress": dict(progress),
            "checkpoint": dict(checkpoint),
            "error": error,
            "run_after": run_after,
            "heartbeat_at": now,
        }
        if state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
            values["finished_at"] = now
        if state is JobState.QUEUED:  # handed back: it needs a new message on a task queue
            values["dispatched_at"] = None
        if refund_attempt:  # a clean shutdown is no failed attempt
            values["attempts"] = col(Job.attempts) - 1
        with self._engine.begin() as connection:
            result = connection.execute(
                update(Job).where(*self._held(job_id, worker)).values(**values)
            )
        return result.rowcount == 1

    def recover_stale(
        self,
        now: datetime,
        stale_after: timedelta,
        max_attempts: int,
        keep: Collection[str] = (),
    ) -> int:
        """Re-queue running jobs whose heartbeat stopped (their runner died); give up on those
        that already used `max_attempts`. Returns how many jobs were recovered or failed.

        `keep`: jobs the calling runner is running itself. A late heartbeat of its own (a
        database write stuck behind a long page write) is no death, and re-queuing such a job
        would run it twice at once."""
        cutoff = now - stale_after
        stale = and_(
            col(Job.state) == JobState.RUNNING.value,
            or_(col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < cutoff),
        )
        if keep:
            stale = and_(stale, col(Job.id).not_in(list(keep)))
        with self._engine.begin() as connection:
            failed = connection.execute(
                update(Job)
                .where(stale, col(Job.attempts) >= max_attempts)
                .values(
                    state=JobState.FAILED.value,
                    worker=None,
                    finished_at=now,
                    error=f"abandoned: its runner stopped beating {max_attempts} times",
                )
            ).rowcount
            requeued = connection.execute(
                update(Job)
                .where(stale, col(Job.attempts) < max_attempts)
                .values(state=JobState.QUEUED.value, worker=None, dispatched_at=None)
            ).rowcount
        return int(failed) + int(requeued)

    def resume_paused(self, now: datetime) -> int:
        """Queue paused jobs whose resume time has come."""
        with self._engine.begin() as connection:
            return int(
                connection.execute(
                    update(Job)
                    .where(
                        col(Job.state) == JobState.PAUSED.value,
                        col(Job.run_after).is_not(None),
                        col(Job.run_after) <= now,
                    )
                    .values(state=JobState.QUEUED.value, dispatched_at=None)
                ).rowcount
            )

    def resume(self, job_id: str) -> Job | None:
        """Queue a paused or cancelled job now; it goes on from its checkpoint (a sync from its
        saved cursors). Others are left as they are. `JobConflictError` (carrying the active
        job) when another job of the same (kind, connection) was started since the cancel."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(Job)
                    .where(
                        col(Job.id) == job_id,
                        col(Job.state).in_([JobState.PAUSED.value, JobState.CANCELLED.value]),
                    )
                    .values(
                        state=JobState.QUEUED.value,
                        run_after=None,
                        cancel_requested=False,
                        finished_at=None,
                        error=None,
                        dispatched_at=None,
                    )
                )
        except IntegrityError:
            job = self.get(job_id)
            raise JobConflictError(
                self.active(job.kind, job.connection) if job is not None else None
            ) from None
        return self.get(job_id)

    # -- cancelling ------------------------------------------------------------------------

    def cancel(self, job_id: str, now: datetime) -> Job | None:
        """Cancel at once when not running; ask a running job to stop at its next check.

        Returns the job as it is afterwards (None when unknown); a finished job is unchanged.
        """
        with self._engine.begin() as connection:
            done = connection.execute(
                update(Job)
                .where(
                    col(Job.id) == job_id,
                    col(Job.state).in_([JobState.QUEUED.value, JobState.PAUSED.value]),
                )
                .values(
                    state=JobState.CANCELLED.value,
                    cancel_requested=True,
                    finished_at=now,
                    error="cancelled before it ran to the end",
                )
            ).rowcount
            if not done:
                connection.execute(
                    update(Job)
                    .where(col(Job.id) == job_id, col(Job.state) == JobState.RUNNING.value)
                    .values(cancel_requested=True)
                )
        return self.get(job_id)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _held(job_id: str, worker: str) -> tuple[Any, ...]:
        return (
            col(Job.id) == job_id,
            col(Job.state) == JobState.RUNNING.value,
            col(Job.worker) == worker,
        )

    def _set(self, job_id: str, **values: Any) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(Job).where(col(Job.id) == job_id).values(**values))
