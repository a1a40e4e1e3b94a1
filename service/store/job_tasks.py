"""The `job_tasks` table: add a job's tasks, claim one, record its outcome, read and drop them.

Claiming is one conditional UPDATE, so a task whose message reached two workers (a redelivery)
and the parent job helping out cannot both run it at once; a task claimed longer ago than a
lease (its worker died) may be claimed again. Tasks are idempotent, so a second run after such
a takeover costs time, never a duplicate write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, or_, update
from sqlmodel import Session, col, select

from service.store.database import session_scope
from service.store.tables import JobTask, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class JobTaskRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, job_id: str, kind: str, payloads: Sequence[Mapping[str, Any]]) -> list[str]:
        """Queue one task per payload; their ids, in order."""
        now = utcnow()
        tasks = [
            JobTask(job_id=job_id, kind=kind, payload=dict(p), created_at=now) for p in payloads
        ]
        ids = [t.id for t in tasks]
        with session_scope(self._engine) as session:
            session.add_all(tasks)
        return ids

    def claim(self, task_id: str, worker: str, now: datetime, lease: timedelta) -> JobTask | None:
        """Take the task if it is queued, or running under a claim older than `lease`."""
        claimable = or_(
            col(JobTask.state) == QUEUED,
            and_(col(JobTask.state) == RUNNING, col(JobTask.claimed_at) < now - lease),
        )
        with self._engine.begin() as connection:
            taken = connection.execute(
                update(JobTask)
                .where(col(JobTask.id) == task_id, claimable)
                .values(state=RUNNING, worker=worker, claimed_at=now)
            ).rowcount
        if taken != 1:
            return None
        with Session(self._engine, expire_on_commit=False) as session:
            return session.get(JobTask, task_id)

    def finish(
        self, task_id: str, worker: str, result: Mapping[str, Any] | None, error: str | None
    ) -> bool:
        """Record the outcome of a run `worker` holds; the payload (maybe message text) goes."""
        with self._engine.begin() as connection:
            done = connection.execute(
                update(JobTask)
                .where(
                    col(JobTask.id) == task_id,
                    col(JobTask.state) == RUNNING,
                    col(JobTask.worker) == worker,
                )
                .values(
                    state=FAILED if error is not None else DONE,
                    result=dict(result or {}),
                    error=error,
                    payload={},
                )
            ).rowcount
        return bool(done == 1)

    def unfinished(self, ids: Sequence[str]) -> list[str]:
        """Those of `ids` not done or failed, in order."""
        with Session(self._engine) as session:
            open_ = set(
                session.exec(
                    select(JobTask.id).where(
                        col(JobTask.id).in_(list(ids)), col(JobTask.state).in_([QUEUED, RUNNING])
                    )
                ).all()
            )
        return [i for i in ids if i in open_]

    def outcomes(self, ids: Sequence[str]) -> list[JobTask]:
        with Session(self._engine, expire_on_commit=False) as session:
            found = {
                t.id: t for t in session.exec(select(JobTask).where(col(JobTask.id).in_(list(ids))))
            }
        return [found[i] for i in ids if i in found]

    def drop(self, ids: Sequence[str]) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(JobTask).where(col(JobTask.id).in_(list(ids))))

    def drop_job(self, job_id: str) -> int:
        """Forget every task of `job_id` (a resumed attempt starts its steps afresh)."""
        with self._engine.begin() as connection:
            return int(
                connection.execute(delete(JobTask).where(col(JobTask.job_id) == job_id)).rowcount
            )
