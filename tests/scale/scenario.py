"""One sync through the task queue: PostgreSQL, RabbitMQ, `cem serve` (API, schedules, sweep)
and N `cem worker` processes against a `cem sandbox serve` process; optionally with workers
SIGKILLed mid-run. Built on tests/faults/scenario.py's `Run` (same sandbox, data, scoring instant
and CRM snapshot), so its result compares with a single-process run of the same data."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from service.store.database import make_engine
from service.store.jobs import JobRepository
from tests.faults.scenario import Run, RunResult
from tests.queue.broker import fresh_queue
from tests.scale.processes import WorkerProcess

FINAL = {"succeeded", "failed", "cancelled", "paused"}


@dataclass
class Kill:
    """Kill a worker once the job's counter `at` reached `threshold`: the one holding the job
    (`holder`), or one that does not (running the sync's tasks)."""

    at: str
    threshold: int
    holder: bool
    happened: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "threshold": self.threshold, "holder": self.holder,
                "happened": self.happened}  # fmt: skip


@dataclass
class QueueResult:
    result: RunResult
    workers: int
    job_seconds: float  # the job's own start to finish, as its row says
    kills: list[Kill] = field(default_factory=list)


def _seconds(job: dict[str, Any]) -> float:
    started = datetime.fromisoformat(str(job["started_at"]).replace("Z", "+00:00"))
    finished = datetime.fromisoformat(str(job["finished_at"]).replace("Z", "+00:00"))
    return round((finished - started).total_seconds(), 2)


def single_run(crm: str, customers: int, workdir: Path) -> QueueResult:
    """The reference: no broker, `cem serve` runs the job and its tasks in-process."""
    run = Run(crm, customers, workdir, mode="single")
    try:
        run.service.start()
        job = run.until_done(run.submit())
        return QueueResult(run.finish(job), 0, _seconds(job))
    finally:
        run.close()


def queue_run(
    crm: str,
    customers: int,
    workdir: Path,
    broker_url: str,
    workers: int,
    kills: list[Kill] | None = None,
    unset: tuple[str, ...] = (),
) -> QueueResult:
    """`unset`: variables of the fault suite's service environment to leave out (e.g.
    CEM_SENTIMENT__BACKENDS, to run the default e5 model instead of the lexicon)."""
    kills = list(kills or [])
    run = Run(crm, customers, workdir, mode=f"{workers} workers" + (", kills" if kills else ""))
    pool: list[WorkerProcess] = []
    try:
        with fresh_queue(broker_url) as name:
            run.service.env |= {
                "CEM_QUEUE__BROKER_URL": broker_url,
                "CEM_QUEUE__QUEUE_NAME": name,
                "CEM_QUEUE__RETRY_MIN_BACKOFF_SECONDS": "0.5",
            }
            for name in unset:
                run.service.env.pop(name, None)
            pool = [WorkerProcess(run.service.env, workdir, n) for n in range(workers)]
            for worker in pool:
                worker.start()
            for worker in pool:
                worker.wait_ready()
            run.service.start()
            job_id = run.submit()
            if kills:
                _carry_out(run, job_id, pool, kills)
            job = run.until_done(job_id)
            return QueueResult(run.finish(job), workers, _seconds(job), kills)
    finally:
        for worker in pool:
            worker.stop()
        run.close()


def _carry_out(run: Run, job_id: str, pool: list[WorkerProcess], kills: list[Kill]) -> None:
    """Kill workers at the planned points; each killed one is replaced by a fresh process."""
    engine = make_engine(run.database_url)
    jobs = JobRepository(engine)
    try:
        deadline = time.monotonic() + 3600
        for kill in kills:
            while time.monotonic() < deadline:
                job = run.job(job_id)
                if job is not None and job["state"] in FINAL:
                    return  # finished before the point came: the kill did not happen
                row = jobs.get(job_id)
                holder = row.worker if row is not None else None  # None while still queued
                if (
                    job is not None
                    and holder
                    and int(job["progress"].get(kill.at, 0)) >= kill.threshold
                ):
                    victim = _pick(pool, holder, kill.holder)
                    if victim is not None:
                        victim.kill()
                        kill.happened = True
                        replacement = WorkerProcess(victim.env, victim.workdir, len(pool))
                        pool.append(replacement)
                        replacement.start()
                        break
                time.sleep(0.1)
    finally:
        engine.dispose()


def _pick(pool: list[WorkerProcess], holder: str, want_holder: bool) -> WorkerProcess | None:
    # Worker ids are host-pid-random (service/jobs/worker.py).
    holder_pid = int(holder.split("-")[-2])
    alive = [w for w in pool if w.alive()]
    if want_holder:
        return next((w for w in alive if w.pid == holder_pid), None)
    return next((w for w in alive if w.pid != holder_pid), None)
