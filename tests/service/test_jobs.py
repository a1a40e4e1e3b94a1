"""The job runner: states, progress, cancel, locks, resume, schedules.

The runner's logic runs on the in-memory store (`jobs`; tests/fakes/jobs.py, held to the real
one by test_job_store_contract.py); what is about the database (its lock index, racing claims,
heartbeats and recovery) runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from adapters.registry import connection_settings
from service.jobs import (
    SYNC,
    JobConflictError,
    JobContext,
    JobPaused,
    JobQueue,
    JobRegistry,
    JobRunner,
    JobSettings,
    UnknownJobKindError,
    sync_schedules,
)
from service.jobs.store import JobStore
from service.store.database import session_scope
from service.store.jobs import JobRepository
from service.store.tables import Job, JobState
from tests.fakes.jobs import InMemoryJobStore

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SECRET = "tok_s3cr3t_value_123"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make(
    jobs: JobStore,
    kinds: dict[str, Callable[[JobContext, dict[str, Any]], None]],
    clock: Clock | None = None,
    **settings: Any,
) -> tuple[JobQueue, JobRunner]:
    registry = JobRegistry()
    for name, function in kinds.items():
        registry.register(name, function, exclusive=name != "free")
    queue = JobQueue(jobs, registry)
    config = JobSettings(progress_flush_seconds=0, **settings)
    runner = JobRunner(queue, config, clock=clock or Clock(), secrets=[SECRET])
    return queue, runner


@pytest.fixture
def jobs() -> JobStore:
    return InMemoryJobStore()


def state(queue: JobQueue, job_id: str) -> Job:
    job = queue.get(job_id)
    assert job is not None
    return job


def counting(ctx: JobContext, params: dict[str, Any]) -> None:
    for page in range(params.get("pages", 3)):
        ctx.check_cancelled()
        ctx.progress(pulled=10, scored=8, checkpoint={"page": page + 1})


def test_a_job_runs_to_success_with_its_progress_saved(jobs: JobStore) -> None:
    queue, runner = make(jobs, {"sync": counting})
    job = queue.submit("sync", connection="acme", params={"pages": 3})
    assert job.state == JobState.QUEUED
    assert runner.drain() == 1
    done = state(queue, job.id)
    assert done.state == JobState.SUCCEEDED
    assert done.progress == {"pulled": 30, "scored": 24}
    assert done.checkpoint == {"page": 3}
    assert done.attempts == 1
    assert done.started_at == T0
    assert done.finished_at == T0
    assert done.worker is None
    assert done.error is None


def test_a_failure_is_one_redacted_line(jobs: JobStore) -> None:
    def broken(ctx: JobContext, params: dict[str, Any]) -> None:
        ctx.progress(pulled=5)
        raise RuntimeError(f"CRM said no to token {SECRET}\nTraceback (most recent call last):")

    queue, runner = make(jobs, {"sync": broken})
    job = queue.submit("sync", connection="acme")
    runner.drain()
    failed = state(queue, job.id)
    assert failed.state == JobState.FAILED
    assert failed.error == "RuntimeError: CRM said no to token [REDACTED]"
    assert failed.progress == {"pulled": 5}


def test_unknown_kinds_are_refused_at_submit(jobs: JobStore) -> None:
    queue, _ = make(jobs, {})
    with pytest.raises(UnknownJobKindError, match="'sync'"):
        queue.submit(SYNC, connection="acme")
    assert queue.repository.page().items == []


def test_cancel_a_queued_job_before_it_runs(jobs: JobStore) -> None:
    ran: list[str] = []
    queue, runner = make(jobs, {"sync": lambda ctx, p: ran.append(ctx.job_id)})
    job = queue.submit("sync", connection="acme")
    cancelled = queue.cancel(job.id)
    assert cancelled is not None
    assert cancelled.state == JobState.CANCELLED
    assert runner.drain() == 0
    assert ran == []
    # The lock is released: a new sync of the connection may be queued.
    assert queue.submit("sync", connection="acme").state == JobState.QUEUED


def test_cancel_a_running_job_stops_it_at_the_next_check(jobs: JobStore) -> None:
    pages: list[int] = []

    def cancels_itself_midway(ctx: JobContext, params: dict[str, Any]) -> None:
        for page in range(10):
            ctx.check_cancelled()
            pages.append(page)
            if page == 2:
                queue.cancel(ctx.job_id)  # as the API would, from another thread
            ctx.progress(pulled=1, checkpoint={"page": page})

    queue, runner = make(jobs, {"sync": cancels_itself_midway})
    job = queue.submit("sync", connection="acme")
    runner.drain()
    cancelled = state(queue, job.id)
    assert cancelled.state == JobState.CANCELLED
    assert pages == [0, 1, 2]
    assert cancelled.progress == {"pulled": 3}
    assert cancelled.finished_at is not None


def test_cancelling_a_finished_job_changes_nothing(jobs: JobStore) -> None:
    queue, runner = make(jobs, {"sync": counting})
    job = queue.submit("sync", connection="acme", params={"pages": 1})
    runner.drain()
    after = queue.cancel(job.id)
    assert after is not None
    assert after.state == JobState.SUCCEEDED
    assert queue.cancel("0" * 32) is None


def test_one_active_job_per_kind_and_connection(jobs: JobStore) -> None:
    queue, _ = make(jobs, {"sync": counting, "free": counting})
    first = queue.submit("sync", connection="acme")
    with pytest.raises(JobConflictError) as conflict:
        queue.submit("sync", connection="acme")
    assert conflict.value.existing is not None
    assert conflict.value.existing.id == first.id
    assert queue.submit("sync", connection="globex").connection == "globex"
    # Kinds registered as non-exclusive may pile up.
    queue.submit("free", connection="acme")
    queue.submit("free", connection="acme")


def test_the_database_itself_refuses_a_second_active_job(engine: Engine) -> None:
    # Two replicas that both passed an in-memory check would still be stopped here.
    with session_scope(engine) as session:
        session.add(Job(kind="sync", connection="acme", state="running", lock_key="sync:acme"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Job(kind="sync", connection="acme", state="queued", lock_key="sync:acme"))
    with session_scope(engine) as session:  # finished jobs do not hold the lock
        session.add(Job(kind="sync", connection="acme", state="succeeded", lock_key="sync:acme"))


def test_two_runners_never_claim_the_same_job(engine: Engine) -> None:
    queue, first = make(JobRepository(engine), {"sync": counting})
    _, second = make(JobRepository(engine), {"sync": counting})
    queue.submit("sync", connection="acme")
    claimed_a = queue.repository.claim(first.worker_id, T0, 5)
    claimed_b = queue.repository.claim(second.worker_id, T0, 5)
    assert len(claimed_a) == 1
    assert claimed_b == []


def test_a_crashed_run_is_resumed_from_its_checkpoint(engine: Engine) -> None:
    clock = Clock()
    seen: dict[str, Any] = {}

    def resumable(ctx: JobContext, params: dict[str, Any]) -> None:
        seen.update(resumed=ctx.resumed, checkpoint=ctx.checkpoint, attempt=ctx.attempt)
        for page in range(ctx.checkpoint.get("page", 0), 4):
            ctx.progress(pulled=10, checkpoint={"page": page + 1})

    queue, runner = make(JobRepository(engine), {"sync": resumable}, clock, stale_after_seconds=60)
    job = queue.submit("sync", connection="acme")
    # A runner that died after two pages: it claimed the job, saved progress, then stopped.
    (claimed,) = queue.repository.claim("dead-runner", clock.now, 1)
    queue.repository.beat(claimed.id, "dead-runner", clock.now, progress={"pulled": 20},
                          checkpoint={"page": 2})  # fmt: skip
    clock.advance(seconds=30)
    assert runner.drain() == 0  # its heartbeat is still fresh: not ours to take
    assert state(queue, job.id).state == JobState.RUNNING
    clock.advance(seconds=60)
    assert runner.drain() == 1
    resumed = state(queue, job.id)
    assert seen == {"resumed": True, "checkpoint": {"page": 2}, "attempt": 2}
    assert resumed.state == JobState.SUCCEEDED
    assert resumed.progress == {"pulled": 40}  # 20 before the crash + 20 after, none twice
    # The dead runner waking up cannot overwrite the outcome.
    assert not queue.repository.finish(
        job.id, "dead-runner", JobState.FAILED, clock.now, progress={}, checkpoint={}
    )
    assert state(queue, job.id).state == JobState.SUCCEEDED


def test_a_job_that_keeps_dying_is_given_up(engine: Engine) -> None:
    clock = Clock()
    queue, runner = make(JobRepository(engine), {"sync": counting}, clock, max_attempts=2)
    job = queue.submit("sync", connection="acme")
    for attempt in range(2):
        (_claimed,) = queue.repository.claim(f"dead-{attempt}", clock.now, 1)
        clock.advance(minutes=5)
        runner.recover()
    failed = state(queue, job.id)
    assert failed.state == JobState.FAILED
    assert failed.error is not None
    assert "abandoned" in failed.error


def test_a_paused_job_resumes_at_its_time(jobs: JobStore) -> None:
    clock = Clock()
    calls: list[dict[str, Any]] = []

    def quota_bound(ctx: JobContext, params: dict[str, Any]) -> None:
        calls.append(ctx.checkpoint)
        if not ctx.resumed:
            ctx.progress(pulled=50, checkpoint={"cursor": "2026-11-22T10:00:00Z"})
            raise JobPaused("daily API quota spent", resume_at=clock.now + timedelta(hours=1))
        ctx.progress(pulled=25)

    queue, runner = make(jobs, {"sync": quota_bound}, clock)
    job = queue.submit("sync", connection="acme")
    runner.drain()
    paused = state(queue, job.id)
    assert paused.state == JobState.PAUSED
    assert paused.error == "paused: daily API quota spent"
    assert paused.run_after == T0 + timedelta(hours=1)
    with pytest.raises(JobConflictError):  # a paused sync still holds the connection
        queue.submit("sync", connection="acme")
    clock.advance(minutes=59)
    assert runner.drain() == 0
    clock.advance(minutes=2)
    assert runner.drain() == 1
    done = state(queue, job.id)
    assert done.state == JobState.SUCCEEDED
    assert done.progress == {"pulled": 75}
    assert calls == [{}, {"cursor": "2026-11-22T10:00:00Z"}]


def test_scheduled_syncs_follow_each_connections_interval(jobs: JobStore) -> None:
    clock = Clock()
    connections = {
        "acme": connection_settings(kind="salesforce", sync_interval_seconds=600),
        "manual": connection_settings(kind="hubspot"),  # 0 = never scheduled
    }
    registry = JobRegistry()
    registry.register(SYNC, counting)
    queue = JobQueue(jobs, registry)
    runner = JobRunner(queue, JobSettings(), schedules=sync_schedules(connections), clock=clock)
    assert runner.drain() == 1
    assert [(j.connection, j.state) for j in queue.repository.page().items] == [
        ("acme", "succeeded")
    ]
    clock.advance(seconds=599)
    assert runner.drain() == 0
    clock.advance(seconds=1)
    assert runner.drain() == 1
    assert len(queue.repository.page(connection="acme").items) == 2
    assert queue.repository.page(connection="manual").items == []


def test_schedules_without_a_registered_function_queue_nothing(jobs: JobStore) -> None:
    connections = {"acme": connection_settings(kind="salesforce", sync_interval_seconds=60)}
    queue = JobQueue(jobs, JobRegistry())
    runner = JobRunner(queue, JobSettings(), schedules=sync_schedules(connections))
    assert runner.drain() == 0
    assert queue.repository.page().items == []


def wait_for(predicate: Callable[[], bool], seconds: float = 20) -> None:
    """Poll until `predicate` holds (a deadline against hangs, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_threaded_runner_runs_jobs_and_hands_them_back_on_stop(engine: Engine) -> None:
    started = threading.Event()

    def endless(ctx: JobContext, params: dict[str, Any]) -> None:
        page = ctx.checkpoint.get("page", 0)
        while True:
            ctx.check_cancelled()
            page += 1
            ctx.progress(pulled=1, checkpoint={"page": page})
            started.set()
            time.sleep(0.01)

    registry = JobRegistry()
    registry.register("sync", endless)
    registry.register("quick", counting)
    queue = JobQueue(JobRepository(engine), registry)
    settings = JobSettings(poll_seconds=0.05, heartbeat_seconds=0.05)
    runner = JobRunner(queue, settings)
    runner.start()
    try:
        quick = queue.submit("quick", connection="acme")
        endless_job = queue.submit("sync", connection="acme")
        wait_for(lambda: state(queue, quick.id).state == JobState.SUCCEEDED)
        assert started.wait(20)
        wait_for(lambda: state(queue, endless_job.id).heartbeat_at is not None)
    finally:
        runner.stop()
    handed_back = state(queue, endless_job.id)
    assert handed_back.state == JobState.QUEUED  # resumable by the next start
    assert handed_back.attempts == 0  # a clean shutdown costs no attempt
    assert handed_back.checkpoint["page"] == handed_back.progress["pulled"] > 0


def test_a_runner_leaves_kinds_it_cannot_run_to_others(jobs: JobStore) -> None:
    queue, _ = make(jobs, {"sync": counting, "rescore": counting})
    _, sync_only = make(jobs, {"sync": counting})
    rescore = queue.submit("rescore")
    sync = queue.submit("sync", connection="acme")
    assert sync_only.drain() == 1
    assert state(queue, sync.id).state == JobState.SUCCEEDED
    assert state(queue, rescore.id).state == JobState.QUEUED


def test_a_runner_never_requeues_a_job_it_is_still_running(engine: Engine) -> None:
    """Was: a heartbeat stuck behind a long database write looked like a dead runner, and the
    job was re-queued and started a second time while the first run went on."""
    clock = Clock()
    started = threading.Event()
    release = threading.Event()

    def slow(ctx: JobContext, params: dict[str, Any]) -> None:
        started.set()
        release.wait(10)

    queue, runner = make(JobRepository(engine), {"sync": slow}, clock, stale_after_seconds=60)
    job = queue.submit("sync", connection="acme")
    assert runner.tick() == 1
    assert started.wait(10)
    clock.advance(minutes=5)  # no heartbeat for far longer than the stale limit
    assert runner.recover() == 0
    assert state(queue, job.id).state == JobState.RUNNING
    # Another runner, which does not run it, still takes it for dead (the runner may be gone).
    assert queue.repository.recover_stale(clock.now, timedelta(seconds=60), 3) == 1
    release.set()
    runner.stop()  # the job's thread ends before the test's database is dropped
