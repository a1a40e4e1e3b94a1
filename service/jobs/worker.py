"""`cem worker`: a process that runs the jobs (and sync tasks) a task queue's messages name.

One Dramatiq worker (its consumer and `worker_threads` threads) per process; scale by running
more processes, one a core. The process's `JobRunner` only beats: it keeps the heartbeat of the
jobs its threads run and learns of cancel requests, exactly as in the embedded mode.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from types import FrameType

import dramatiq

from service.jobs.broker import RUN_JOB, declare, make_broker
from service.jobs.queue import JobQueue
from service.jobs.runner import JobRunner
from service.jobs.settings import JobSettings, QueueSettings
from service.jobs.tasks import RUN_TASK, TaskPool
from service.store.tables import JobState

log = logging.getLogger(__name__)


def worker_name() -> str:
    """This process's id in the `jobs.worker` column: host, pid and a random part."""
    return f"{socket.gethostname()[:24]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class JobWorker:
    """The actors of one worker process, bound to its runner and its broker."""

    def __init__(
        self,
        queue: JobQueue,
        jobs: JobSettings,
        settings: QueueSettings,
        *,
        secrets: tuple[str, ...] = (),
        tasks: TaskPool | None = None,
    ) -> None:
        self.queue = queue
        self.settings = settings
        self.tasks = tasks
        self.runner = JobRunner(queue, jobs, secrets=secrets, worker_id=worker_name())
        self.broker = make_broker(settings)
        declare(self.broker, RUN_JOB, self.run_job, settings, jobs)
        if tasks is not None:
            # A task's message is a hint: whoever claims the task first runs it (the parent job
            # runs what no worker took), so a message naming a taken task has nothing to do.
            def run_task(task_id: str) -> None:
                tasks.run_one(task_id)

            tasks.dispatch = declare(self.broker, RUN_TASK, run_task, settings, jobs).send

    def run_job(self, job_id: str) -> None:
        """The `cem.run_job` actor: run the job, or decide what its message means now."""
        state = self.runner.run_one(job_id)
        if state is JobState.QUEUED:
            # Handed back (this worker is stopping): ask for the message again; another worker
            # claims the job and resumes it from its checkpoint.
            raise dramatiq.Retry("handed back on shutdown", delay=1000)
        if state is not None:
            return
        job = self.queue.get(job_id)
        if (
            job is not None
            and job.state == JobState.RUNNING
            and job.worker != self.runner.worker_id
        ):
            # Delivered again while another worker holds the job: that worker died (the broker
            # redelivers only when its connection closed) or is merely slow. Its heartbeat tells,
            # once stale: retry with back-off until then (`run_one` recovers it first).
            raise dramatiq.Retry(f"job {job_id} is held by another worker")
        # Finished, cancelled, not yet due, or running here: the message has nothing left to do.

    def serve(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; then hand running jobs back and shut down."""
        worker = dramatiq.Worker(self.broker, worker_threads=self.settings.worker_threads)
        self.runner.start(poll=False)
        worker.start()
        log.info(
            "worker %s consuming %s with %d thread(s)",
            self.runner.worker_id,
            self.settings.queue_name,
            self.settings.worker_threads,
        )
        try:
            stop.wait()
        finally:
            self.runner.stop()  # running jobs stop at their next check and are handed back
            worker.stop(timeout=30_000)
            self.broker.close()
            ran = self.tasks.ran if self.tasks is not None else 0
            log.info("worker %s stopped; it ran %d task(s)", self.runner.worker_id, ran)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (docker stop, Ctrl-C)."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop
