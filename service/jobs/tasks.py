"""Tasks of a fanned-out job: the parent adds them, any worker runs them, the parent collects.

`TaskPool.run(job_id, kind, payloads)` writes one `job_tasks` row per payload, sends a message
naming each (`cem.run_task`, when a task queue is configured) and waits for all of them; while it
waits it runs queued ones itself, so a job never waits on workers that are all busy (one worker
with one thread still finishes) and without a broker the same code runs everything in-process.
A task whose worker died is claimed again once its lease ran out (tasks are idempotent).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from service.logs import one_line_error
from service.store.job_tasks import FAILED, JobTaskRepository
from service.store.tables import utcnow

log = logging.getLogger(__name__)

RUN_TASK = "cem.run_task"
"""The actor every task message names: its one argument is the task id."""

TaskFunction = Callable[[dict[str, Any]], dict[str, Any]]


class TaskFailedError(RuntimeError):
    """A task of the job failed; the job fails with its (redacted, one-line) error."""


def _ignore() -> None:
    return None


class TaskPool:
    """A process's side of a job's tasks: run them (as parent or worker) and wait for them."""

    def __init__(
        self,
        repository: JobTaskRepository,
        kinds: Mapping[str, TaskFunction],
        *,
        worker: str,
        lease: timedelta,
        dispatch: Callable[[str], object] | None = None,
        secrets: Sequence[str] = (),
        poll_seconds: float = 0.05,
        helps: bool = True,
    ) -> None:
        self.repository = repository
        self.kinds = dict(kinds)
        self.worker = worker
        self.dispatch = dispatch
        self._lease = lease
        self._secrets = tuple(secrets)
        self._poll = poll_seconds
        # False: the waiting parent runs no task itself (a benchmark measuring the workers).
        self._helps = helps
        self.ran = 0  # tasks this process ran (the worker logs it when it stops)

    def run(
        self,
        job_id: str,
        kind: str,
        payloads: Sequence[Mapping[str, Any]],
        check: Callable[[], None] = _ignore,
    ) -> list[dict[str, Any]]:
        """Run one task per payload anywhere; their results in order (`TaskFailedError` when
        one failed). `check` is called between waits (the job's cancel check)."""
        if not payloads:
            return []
        ids = self.repository.add(job_id, kind, payloads)
        try:
            self._send(ids)
            swept = time.monotonic()
            while pending := self.repository.unfinished(ids):
                # Help: the last is the likeliest still queued (workers take messages in order).
                # Once a lease, try them all: one may be held by a worker that died.
                candidates = [pending[-1]]
                if time.monotonic() - swept > self._lease.total_seconds():
                    candidates, swept = pending, time.monotonic()
                if not self._helps or not any(self.run_one(t) for t in candidates):
                    check()
                    time.sleep(self._poll)
            outcomes = self.repository.outcomes(ids)
            failed = [t for t in outcomes if t.state == FAILED]
            if failed:
                raise TaskFailedError(f"{len(failed)} {kind} task(s) failed: {failed[0].error}")
            return [t.result for t in outcomes]
        finally:
            self.repository.drop(ids)  # a text chunk's payload is message text: never kept

    def run_one(self, task_id: str) -> bool:
        """Claim and run the task; False when someone else has it (or it is gone)."""
        task = self.repository.claim(task_id, self.worker, utcnow(), self._lease)
        if task is None:
            return False
        result: dict[str, Any] | None = None
        error: str | None = None
        try:
            result = self.kinds[task.kind](dict(task.payload))
        except Exception as failure:  # recorded on the task; the parent job fails with it
            error = one_line_error(failure, self._secrets)
            log.warning("task %s (%s) of job %s failed: %s", task.id, task.kind, task.job_id, error)
        self.repository.finish(task_id, self.worker, result, error)
        self.ran += 1
        return True

    def _send(self, ids: Sequence[str]) -> None:
        if self.dispatch is None:
            return
        for task_id in ids:
            try:
                self.dispatch(task_id)
            except Exception as error:  # the parent runs what no message reached
                log.warning("task messages not sent: %s", one_line_error(error, self._secrets))
                return
