"""A job's tasks (service/jobs/tasks.py): without a broker the parent runs them all; with the
real RabbitMQ, workers take them while the parent helps; results come back in order and the
rows (which may hold message text) are gone afterwards; a task whose worker died is taken over
once its lease runs out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from service.jobs import sync_tasks
from service.jobs.broker import declare, make_broker
from service.jobs.settings import QueueSettings
from service.jobs.sync_tasks import ACT, FanOutActions
from service.jobs.tasks import RUN_TASK, TaskFailedError, TaskPool
from service.ports import CrmQuotaExhaustedError
from service.scoring.customer import ScoringModels
from service.store.job_tasks import JobTaskRepository
from service.store.tables import JobTask, utcnow
from service.usecases.sync import SyncReport
from tests.queue.test_queue import JOBS, ON_POSTGRES, queue_settings, worker  # noqa: F401

LEASE = timedelta(seconds=30)


def pool(engine: Engine, label: str, **options: Any) -> TaskPool:
    def echo(payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("fail"):
            raise ValueError("refused token=hunter22")
        time.sleep(payload.get("sleep", 0))
        return {"n": payload["n"], "by": label}

    return TaskPool(JobTaskRepository(engine), {"echo": echo}, worker=label, lease=LEASE, **options)


def rows(engine: Engine) -> list[JobTask]:
    with Session(engine) as session:
        return list(session.exec(select(JobTask)).all())


def test_without_a_broker_the_parent_runs_every_task(engine: Engine) -> None:
    parent = pool(engine, "parent", secrets=["hunter22"])
    results = parent.run("job1", "echo", [{"n": n} for n in range(5)])
    assert results == [{"n": n, "by": "parent"} for n in range(5)]
    assert rows(engine) == []  # nothing kept
    with pytest.raises(TaskFailedError, match="ValueError") as failed:
        parent.run("job1", "echo", [{"n": 1}, {"n": 2, "fail": True}])
    assert "hunter22" not in str(failed.value)
    assert rows(engine) == []


def test_a_task_held_by_a_dead_worker_is_taken_over_after_its_lease(engine: Engine) -> None:
    repository = JobTaskRepository(engine)
    [task_id] = repository.add("job2", "echo", [{"n": 7}])
    now = utcnow()
    assert repository.claim(task_id, "dead", now, LEASE) is not None
    assert repository.claim(task_id, "other", now + LEASE / 2, LEASE) is None  # maybe alive
    taken = repository.claim(task_id, "other", now + LEASE * 2, LEASE)
    assert taken is not None
    assert taken.worker == "other"
    assert not repository.finish(task_id, "dead", {"n": 7}, None)  # the dead one lost it
    assert repository.finish(task_id, "other", {"n": 7}, None)


@pytest.fixture
def worker_pool(engine: Engine, queue_settings: QueueSettings) -> Iterator[TaskPool]:  # noqa: F811
    tasks = pool(engine, "worker")
    with worker(engine, queue_settings, tasks):
        yield tasks


@ON_POSTGRES
def test_workers_take_tasks_from_the_queue_while_the_parent_helps(
    engine: Engine,
    queue_settings: QueueSettings,  # noqa: F811
    worker_pool: TaskPool,
) -> None:
    broker = make_broker(queue_settings)
    sender = declare(broker, RUN_TASK, lambda _task_id: None, queue_settings, JOBS)
    parent = pool(engine, "parent", dispatch=sender.send)
    try:
        results = parent.run("job3", "echo", [{"n": n, "sleep": 0.2} for n in range(12)])
    finally:
        broker.close()
    assert [r["n"] for r in results] == list(range(12))
    ran_by = {r["by"] for r in results}
    assert "worker" in ran_by  # the queue delivered tasks to the worker process's threads
    assert rows(engine) == []


def test_a_batch_that_found_the_quota_spent_pauses_the_sync_not_fails_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_tasks, "CUSTOMER_BATCH", 1)  # three customers, three tasks
    resets = "2026-12-08T00:00:00+00:00"

    def act(payload: dict[str, Any]) -> dict[str, Any]:
        spent = payload["customers"] == ["c3"]
        return {
            "scored": 1, "pushed": 0 if spent else 1, "tasks_created": 0, "write_calls": 1,
            "push_failed": [],
            "quota": {"message": "daily quota spent", "resets_at": resets} if spent else None,
        }  # fmt: skip

    parent = TaskPool(JobTaskRepository(engine), {ACT: act}, worker="parent", lease=LEASE)
    report = SyncReport()
    counted: dict[str, int] = {}

    def progress(name: str, count: int) -> None:
        counted[name] = counted.get(name, 0) + count

    actions = FanOutActions(parent, "job4", lambda: None)
    with pytest.raises(CrmQuotaExhaustedError, match="daily quota spent") as spent:
        actions(
            "org",
            ["c1", "c2", "c3"],
            None,
            None,
            datetime.now(UTC),
            ScoringModels(),
            report,
            progress,
        )  # type: ignore[arg-type]
    assert spent.value.resets_at == datetime.fromisoformat(resets)
    # What the other batches did is counted before the job pauses.
    assert report.scored == 3
    assert report.pushed == 2
    assert counted == {"scored": 3, "pushed": 2}
