"""A `cem worker`-like process running the test job kinds: `python -m tests.queue.worker_process
<database url> <queue name>` (the broker URL from CEM_TEST_BROKER_URL). Runs until SIGTERM."""

from __future__ import annotations

import os
import sys

from pydantic import SecretStr

from service.jobs import JobQueue
from service.jobs.settings import JobSettings, QueueSettings
from service.jobs.worker import JobWorker, stop_on_signals
from service.store.database import make_engine
from service.store.jobs import JobRepository
from tests.queue.kinds import registry

# A dead worker's job is taken back 2 s after its last heartbeat (the test waits that long).
JOBS = JobSettings(heartbeat_seconds=0.2, stale_after_seconds=2, progress_flush_seconds=0)


def main(database_url: str, queue_name: str) -> None:
    settings = QueueSettings(
        broker_url=SecretStr(os.environ["CEM_TEST_BROKER_URL"]),
        queue_name=queue_name,
        retry_min_backoff_seconds=0.2,
    )
    queue = JobQueue(JobRepository(make_engine(database_url)), registry())
    worker = JobWorker(queue, JOBS, settings)
    print("ready", flush=True)
    worker.serve(stop_on_signals())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
