"""Jobs on the real task queue (RabbitMQ) with the jobs table on SQLite and PostgreSQL: a job
sent by the queue runs on a worker, its progress is in the table, cancel stops it, and a worker
that stops hands its job back for another to finish. Workers run in this process (threads);
the SIGKILL case, which needs worker processes, is in tests/scale/test_worker_kill.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from service.jobs import JobQueue, JobRunner, JobSettings
from service.jobs.broker import Sender
from service.jobs.settings import QueueSettings
from service.jobs.tasks import TaskPool
from service.jobs.worker import JobWorker
from service.store.jobs import JobRepository
from service.store.tables import Job, JobState
from tests.queue.broker import broker_url, fresh_queue
from tests.queue.kinds import STEPS, registry

JOBS = JobSettings(heartbeat_seconds=0.2, stale_after_seconds=5, progress_flush_seconds=0)
# Worker threads and the broker cost seconds a test: those run on PostgreSQL only (the production
# pairing); the database-only cases run on both databases.
ON_POSTGRES = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
FINISHED = {JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.CANCELLED.value}


def wait_for(
    read: Callable[[], Job | None], done: Callable[[Job], bool], seconds: float = 60
) -> Job:
    """Poll until `done(job)`; the bound only keeps a broken run from hanging the suite."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = read()
        if job is not None and done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"still not there after {seconds} s: {read()}")


@pytest.fixture
def queue_settings() -> Iterator[QueueSettings]:
    url = broker_url()
    with fresh_queue(url) as name:
        yield QueueSettings(
            broker_url=SecretStr(url), queue_name=name, retry_min_backoff_seconds=0.2
        )


@contextmanager
def worker(
    engine: Engine, settings: QueueSettings, tasks: TaskPool | None = None
) -> Iterator[JobWorker]:
    """A `cem worker` serving in a thread of this process (with `tasks`: a job's tasks too)."""
    running = JobWorker(JobQueue(JobRepository(engine), registry()), JOBS, settings, tasks=tasks)
    stop = threading.Event()
    thread = threading.Thread(target=running.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        yield running
    finally:
        stop.set()
        thread.join(60)


@contextmanager
def sending(engine: Engine, settings: QueueSettings) -> Iterator[JobQueue]:
    sender = Sender(settings, JOBS)
    try:
        yield JobQueue(JobRepository(engine), registry(), dispatch=sender)
    finally:
        sender.close()


@ON_POSTGRES
def test_a_job_runs_on_a_worker_and_cancel_stops_one(
    engine: Engine, queue_settings: QueueSettings
) -> None:
    with sending(engine, queue_settings) as queue, worker(engine, queue_settings) as running:
        job = queue.submit(STEPS, connection="a", params={"n": 5})
        assert job.dispatched_at is None  # the row is written before its message goes out
        done = wait_for(lambda: queue.get(job.id), lambda j: j.state in FINISHED)
        assert done.state == JobState.SUCCEEDED.value
        assert done.progress == {"steps": 5}
        assert done.checkpoint == {"done": 5}
        assert done.attempts == 1
        assert done.worker is None
        assert done.dispatched_at is not None

        long = queue.submit(STEPS, connection="b", params={"n": 100_000, "sleep": 0.005})
        seen = wait_for(lambda: queue.get(long.id), lambda j: j.progress.get("steps", 0) > 3)
        assert seen.state == JobState.RUNNING.value
        assert seen.worker == running.runner.worker_id  # the table names the worker running it
        queue.cancel(long.id)
        cancelled = wait_for(lambda: queue.get(long.id), lambda j: j.state in FINISHED)
        assert cancelled.state == JobState.CANCELLED.value
        assert 3 < cancelled.progress["steps"] < 100_000


@ON_POSTGRES
def test_a_stopping_worker_hands_its_job_to_another(
    engine: Engine, queue_settings: QueueSettings
) -> None:
    with sending(engine, queue_settings) as queue:
        with worker(engine, queue_settings) as first:
            job = queue.submit(STEPS, connection="a", params={"n": 60, "sleep": 0.05})
            wait_for(lambda: queue.get(job.id), lambda j: j.progress.get("steps", 0) >= 5)
        handed = queue.get(job.id)
        assert handed is not None
        assert handed.state == JobState.QUEUED.value
        assert 5 <= handed.checkpoint["done"] < 60
        with worker(engine, queue_settings) as second:
            done = wait_for(lambda: queue.get(job.id), lambda j: j.state in FINISHED)
        assert second.runner.worker_id != first.runner.worker_id
        assert done.state == JobState.SUCCEEDED.value
        # Every step counted once across both workers: the checkpoint and the counters were
        # saved together, and a clean hand-back costs no attempt.
        assert done.progress == {"steps": 60}
        assert done.checkpoint == {"done": 60}
        assert done.attempts == 1


def test_the_sweep_sends_a_message_for_a_queued_job_that_has_none(engine: Engine) -> None:
    sent: list[str] = []

    def broker_down(_job_id: str) -> None:
        raise ConnectionError("amqp://cem:hunter22@broker:5672/ refused")

    down = JobQueue(JobRepository(engine), registry(), dispatch=broker_down, secrets=["hunter22"])
    job = down.submit(STEPS, connection="a", params={"n": 1})
    assert down.get(job.id).dispatched_at is None  # type: ignore[union-attr]

    up = JobQueue(JobRepository(engine), registry(), dispatch=sent.append)
    sweep = JobRunner(up, JOBS)
    assert sweep.tick() == 1
    assert sent == [job.id]
    # Sent: the job stays queued for a worker (the sweep runs nothing itself), and is not sent
    # again on the next round.
    after = up.get(job.id)
    assert after is not None
    assert after.state == JobState.QUEUED.value
    assert after.dispatched_at is not None
    assert sweep.tick() == 0
    assert sent == [job.id]


def test_broker_url_is_a_secret() -> None:
    settings = QueueSettings(broker_url=SecretStr("amqp://cem:hunter22@broker:5672/"))
    assert "hunter22" not in repr(settings)
    assert "hunter22" not in str(settings.model_dump())
    with pytest.raises(ValueError, match="amqp://"):
        QueueSettings(broker_url=SecretStr("http://cem:hunter22@broker/"))
