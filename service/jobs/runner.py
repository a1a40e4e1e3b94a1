"""The job runner: a poll thread, a heartbeat thread and one thread per running job.

Each poll it re-queues jobs whose runner died (stale heartbeat), wakes paused jobs whose time
has come, submits scheduled jobs, and claims as many queued jobs as it has free workers. All of
that state is in the database, so any number of runners (threads, processes, replicas) can share
one queue. On stop, running jobs are asked to stop at their next `check_cancelled()` and are
handed back as queued with their checkpoint, so a restart resumes them.

With a task queue (service/jobs/broker.py) the same class plays two smaller parts: in the API
process it polls without running anything (`dispatch`: recover, wake, schedule, and send a
message for each queued job that has none); in a `cem worker` it only beats, and runs the one
job a message names in the queue library's thread (`run_one`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from service.jobs.context import JobCancelled, JobContext, JobInterrupted, JobPaused
from service.jobs.queue import JobQueue
from service.jobs.registry import UnknownJobKindError
from service.jobs.schedule import Schedule, Scheduler
from service.jobs.settings import JobSettings
from service.jobs.store import JobStore
from service.logs import MAX_ERROR_CHARS, one_line_error, redact
from service.metrics import JOB_DURATION
from service.store.jobs import Beat
from service.store.tables import Job, JobState, utcnow

log = logging.getLogger(__name__)


class JobRunner:
    """Runs the queue's jobs in this process."""

    def __init__(
        self,
        queue: JobQueue,
        settings: JobSettings,
        *,
        schedules: list[Schedule] | None = None,
        secrets: Iterable[str] = (),
        clock: Callable[[], datetime] = utcnow,
        worker_id: str | None = None,
        resend_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self._queue = queue
        self._resend_after = resend_after
        self._repo: JobStore = queue.repository
        self._settings = settings
        self._scheduler = Scheduler(queue, schedules or [])
        self._secrets = tuple(secrets)
        self._clock = clock
        self.worker_id = worker_id or f"runner-{uuid.uuid4().hex[:12]}"
        self._running: dict[str, tuple[JobContext, threading.Thread | None]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, *, poll: bool = True) -> None:
        """Recover what a previous process left behind, then start polling and beating
        (`poll=False`: beating only, for a worker whose jobs come from a task queue)."""
        self._stop.clear()
        recovered = self.recover()
        if recovered:
            log.info("re-queued %d job(s) left running by a stopped runner", recovered)
        loops = [(self._beat_loop, "heartbeat")]
        if poll:
            loops.append((self._poll_loop, "poll"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=f"cem-jobs-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop polling; ask running jobs to hand themselves back; wait up to the grace time."""
        self._stop.set()
        with self._lock:
            running = list(self._running.values())
        for ctx, _thread in running:
            ctx.interrupt()
        deadline = self._settings.shutdown_grace_seconds
        for _ctx, thread in running:
            if thread is not None:
                thread.join(deadline)
        for thread in self._threads:
            thread.join(self._settings.poll_seconds + self._settings.heartbeat_seconds)
        self._threads.clear()

    # -- one round of work (public so tests and `cem` can drive it without threads) ---------

    def recover(self) -> int:
        now = self._clock()
        stale = timedelta(seconds=self._settings.stale_after_seconds)
        with self._lock:
            mine = list(self._running)
        return self._repo.recover_stale(now, stale, self._settings.max_attempts, keep=mine)

    def tick(self, *, inline: bool = False) -> int:
        """Recover, wake, schedule and claim; run the claimed jobs in threads (or right here
        with `inline=True`). Returns how many jobs were started."""
        now = self._clock()
        self.recover()
        self._repo.resume_paused(now)
        self._scheduler.tick(now)
        if self._queue.dispatches:
            return self._send_messages(now)
        with self._lock:
            free = self._settings.workers - len(self._running)
        if free <= 0:
            return 0
        jobs = self._repo.claim(self.worker_id, now, free, kinds=list(self._queue.registry))
        for job in jobs:
            ctx = self._context(job)
            if inline:
                with self._lock:
                    self._running[job.id] = (ctx, None)
                self._execute(job, ctx)
                continue
            thread = threading.Thread(
                target=self._execute, args=(job, ctx), name=f"cem-job-{job.id[:8]}", daemon=True
            )
            with self._lock:
                self._running[job.id] = (ctx, thread)
            thread.start()
        return len(jobs)

    def run_one(self, job_id: str) -> JobState | None:
        """Claim the job `job_id` and run it in the calling thread (a task queue's worker
        thread); its outcome, or None when it was not there to claim (taken, finished,
        cancelled or not due)."""
        now = self._clock()
        self.recover()
        job = self._repo.claim_one(job_id, self.worker_id, now, kinds=list(self._queue.registry))
        if job is None:
            return None
        ctx = self._context(job)
        with self._lock:
            self._running[job.id] = (ctx, None)
        return self._execute(job, ctx)

    def drain(self) -> int:
        """Run due jobs inline until none is left; returns how many ran."""
        total = 0
        while started := self.tick(inline=True):
            total += started
        return total

    def beat(self) -> None:
        """Refresh the heartbeat of every job this runner holds (and learn of cancels)."""
        with self._lock:
            running = list(self._running.items())
        now = self._clock()
        for job_id, (ctx, _thread) in running:
            ctx.heard(self._repo.beat(job_id, self.worker_id, now))

    # -- internals -------------------------------------------------------------------------

    def _send_messages(self, now: datetime) -> int:
        sent = 0
        for job_id in self._repo.undispatched(now, self._resend_after):
            if not self._queue.send(job_id, now):
                break  # the broker is down: the jobs stay queued; the next poll tries again
            sent += 1
        return sent

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a database hiccup must not kill the runner; try next round
                log.exception("job poll failed; retrying in %.1f s", self._settings.poll_seconds)
            self._stop.wait(self._settings.poll_seconds)

    def _beat_loop(self) -> None:
        while not self._stop.wait(self._settings.heartbeat_seconds):
            try:
                self.beat()
            except Exception:
                log.exception("job heartbeat failed")

    def _context(self, job: Job) -> JobContext:
        def save(progress: dict[str, Any], checkpoint: dict[str, Any] | None) -> Beat:
            return self._repo.beat(
                job.id, self.worker_id, self._clock(), progress=progress, checkpoint=checkpoint
            )

        return JobContext(
            job_id=job.id,
            kind=job.kind,
            connection=job.connection,
            attempt=job.attempts,
            progress=job.progress,
            checkpoint=job.checkpoint,
            save=save,
            flush_seconds=self._settings.progress_flush_seconds,
        )

    def _execute(self, job: Job, ctx: JobContext) -> JobState:
        state, error, run_after, refund = JobState.SUCCEEDED, None, None, False
        started = time.monotonic()
        try:
            function = self._queue.registry.get(job.kind).function
            ctx.check_cancelled()
            function(ctx, dict(job.params))
            ctx.flush()
        except JobCancelled:
            state, error = JobState.CANCELLED, "cancelled on request"
        except JobPaused as paused:
            state, run_after = JobState.PAUSED, paused.resume_at
            error = f"paused: {redact(paused.reason, self._secrets)}"[:MAX_ERROR_CHARS]
        except JobInterrupted:
            state, refund = JobState.QUEUED, True
        except UnknownJobKindError as unknown:
            state, error = JobState.FAILED, str(unknown)
        except Exception as failure:
            state, error = JobState.FAILED, one_line_error(failure, self._secrets)
            log.warning("job %s (%s) failed: %s", job.id, job.kind, error)
        finally:
            with self._lock:
                self._running.pop(job.id, None)
        outcome = "requeued" if state is JobState.QUEUED else state.value
        JOB_DURATION.labels(job.kind, outcome).observe(time.monotonic() - started)
        recorded = self._repo.finish(
            job.id,
            self.worker_id,
            state,
            self._clock(),
            progress=ctx.counters,
            checkpoint=ctx.checkpoint,
            error=error,
            run_after=run_after,
            refund_attempt=refund,
        )
        if not recorded:
            log.warning("job %s was taken over by another runner; its outcome is theirs", job.id)
        else:
            log.info("job %s (%s) %s", job.id, job.kind, state.value)
        return state
