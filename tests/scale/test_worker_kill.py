"""A worker process SIGKILLed mid-job: RabbitMQ delivers its unacknowledged message again, the
other worker takes the job once the dead one's heartbeat is stale, and the job finishes from its
checkpoint with every step counted once. Real RabbitMQ, real PostgreSQL, real processes
(`make test-scale`; two process starts and a staleness wait are too slow for `make test`)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from service.jobs import JobQueue
from service.jobs.broker import Sender
from service.jobs.settings import QueueSettings
from service.store.jobs import JobRepository
from service.store.tables import JobState
from tests.queue.broker import broker_url, fresh_queue
from tests.queue.kinds import STEPS, registry
from tests.queue.test_queue import FINISHED, wait_for
from tests.queue.worker_process import JOBS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@contextmanager
def worker_process(
    database_url: str, queue_name: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.queue.worker_process", database_url, queue_name],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=out,
        )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready", log.read_text()[-2000:]
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


@pytest.mark.postgres
def test_a_killed_workers_job_is_redelivered_and_finished_once(
    postgres_url: str, tmp_path: Path
) -> None:
    from service.store.database import make_engine, upgrade

    engine: Engine = make_engine(postgres_url)
    upgrade(engine)
    url = broker_url()
    with fresh_queue(url) as name:
        sender = Sender(QueueSettings(broker_url=SecretStr(url), queue_name=name), JOBS)
        queue = JobQueue(JobRepository(engine), registry(), dispatch=sender)
        log = tmp_path / "workers.log"
        with worker_process(postgres_url, name, log) as first:
            job = queue.submit(STEPS, connection="kill", params={"n": 40, "sleep": 0.1})
            running = wait_for(lambda: queue.get(job.id), lambda j: j.progress.get("steps", 0) >= 5)
            assert running.state == JobState.RUNNING.value
            with worker_process(postgres_url, name, log) as second:
                first.send_signal(signal.SIGKILL)  # no shutdown hook: the message stays unacked
                first.wait()
                killed_at = queue.get(job.id)
                assert killed_at is not None
                assert killed_at.state == JobState.RUNNING.value  # nobody handed it back
                done = wait_for(lambda: queue.get(job.id), lambda j: j.state in FINISHED, 120)
                assert second.poll() is None
        sender.close()
    assert done.state == JobState.SUCCEEDED.value, done.error
    # Two runs (the killed one and the redelivered one), every step counted exactly once: the
    # counters and the checkpoint were saved together, and the second run began at the
    # checkpoint the first left.
    assert done.attempts == 2
    assert done.progress == {"steps": 40}
    assert done.checkpoint == {"done": 40}
    assert done.worker is None
