"""The `sync` job kind around the sync use case: progress, full resync, quota pause, cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from service.clock import FixedClock
from service.domain import Cursor
from service.jobs import JobQueue, JobRegistry, JobRunner, JobSettings
from service.jobs.sync_job import make_sync_job
from service.ports import CrmQuotaExhaustedError, CrmReader, CrmWriter
from service.sentiment.pipeline import SentimentAnalyzer
from service.store.cursors import CursorRepository
from service.store.jobs import JobRepository
from service.store.ledger import PushLedgerRepository
from service.store.records import RecordStore
from service.store.scores import ScoreHistoryRepository
from service.store.tables import JobState
from service.store.tasks import TaskLedgerRepository
from service.usecases.sync import SyncReport, SyncStores
from tests.contract.harness import HubSpotHarness, SalesforceHarness, SandboxAdmin
from tests.service import test_sync

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
crm = test_sync.crm  # the sandbox CRMs fixture (both of them), shared with the loop's tests
Run = Callable[..., SyncReport]


def stores(engine: Engine) -> SyncStores:
    return SyncStores(
        RecordStore(engine, keep_text=False),
        CursorRepository(engine),
        PushLedgerRepository(engine),
        TaskLedgerRepository(engine),
        ScoreHistoryRepository(engine),
    )


def setup(engine: Engine, run: Run) -> tuple[JobQueue, JobRunner]:
    def build(name: str) -> tuple[CrmReader, CrmWriter]:
        return object(), object()  # type: ignore[return-value]  # the fake run ignores them

    def no_analyzer() -> SentimentAnalyzer | None:
        return None

    registry = JobRegistry()
    registry.register(
        "sync",
        make_sync_job(build, lambda: stores(engine), no_analyzer, run=run, clock=FixedClock(T0)),
    )
    queue = JobQueue(JobRepository(engine), registry)
    return queue, JobRunner(queue, JobSettings(progress_flush_seconds=0), clock=lambda: T0)


def test_progress_of_the_use_case_becomes_the_jobs(engine: Engine) -> None:
    def run(
        connection: str, *_: Any, progress: Callable[[str, int], None], **__: Any
    ) -> SyncReport:
        assert connection == "acme"
        for name, count in (("pulled", 10), ("pulled", 5), ("scored", 7), ("pushed", 4)):
            progress(name, count)
        return SyncReport(tasks_created=2, refused=["r"], push_failed=["p1", "p2"])

    queue, runner = setup(engine, run)
    job = queue.submit("sync", connection="acme")
    runner.drain()
    done = queue.get(job.id)
    assert done is not None
    assert done.state == JobState.SUCCEEDED
    assert done.progress == {"pulled": 15, "scored": 7, "pushed": 4, "tasks_created": 2,
                             "failed": 3}  # fmt: skip


def test_full_resync_forgets_the_cursors_once(engine: Engine) -> None:
    cursors = CursorRepository(engine)
    seen: list[Cursor | None] = []

    def run(connection: str, *_: Any, **__: Any) -> SyncReport:
        seen.append(cursors.load(connection, "contacts"))
        cursors.save(connection, Cursor(stream="contacts", modified_at=T0, last_id="9"))
        return SyncReport()

    cursors.save("acme", Cursor(stream="contacts", modified_at=T0 - timedelta(days=3)))
    queue, runner = setup(engine, run)
    queue.submit("sync", connection="acme", params={"full": True})
    runner.drain()
    queue.submit("sync", connection="acme", params={"full": False})
    runner.drain()
    assert seen[0] is None  # the full sync started from scratch
    assert seen[1] is not None  # an incremental one from where the last stopped
    assert seen[1].last_id == "9"


def test_a_spent_quota_pauses_until_it_resets(engine: Engine) -> None:
    resets = T0 + timedelta(hours=7)

    def run(*_: Any, progress: Callable[[str, int], None], **__: Any) -> SyncReport:
        progress("pulled", 200)
        raise CrmQuotaExhaustedError("daily limit reached", resets_at=resets, connection="acme")

    queue, runner = setup(engine, run)
    job = queue.submit("sync", connection="acme")
    runner.drain()
    paused = queue.get(job.id)
    assert paused is not None
    assert paused.state == JobState.PAUSED
    assert paused.run_after == resets
    assert paused.progress == {"pulled": 200}


def test_a_fixed_scoring_instant_does_not_make_a_pause_due_at_once(engine: Engine) -> None:
    """Was: the fault suites' fixed as-of (weeks in the past) also dated the quota pause, so the
    runner re-queued the paused job at its next tick, racing the suite's own resume call."""
    as_of = T0 - timedelta(days=30)
    seen: list[datetime] = []

    def run(
        _connection: str, _reader: Any, _writer: Any, _stores: Any, at: datetime, **__: Any
    ) -> SyncReport:
        seen.append(at)
        raise CrmQuotaExhaustedError("daily limit reached", connection="acme")

    registry = JobRegistry()
    registry.register(
        "sync",
        make_sync_job(
            lambda _name: (object(), object()),  # type: ignore[arg-type,return-value]
            lambda: stores(engine),
            lambda: None,
            run=run,
            clock=FixedClock(T0),
            as_of_clock=FixedClock(as_of),
        ),
    )
    queue = JobQueue(JobRepository(engine), registry)
    runner = JobRunner(queue, JobSettings(progress_flush_seconds=0), clock=lambda: T0)
    job = queue.submit("sync", connection="acme")
    runner.drain()
    paused = queue.get(job.id)
    assert paused is not None
    assert seen == [as_of]  # scored at the fixed instant
    assert paused.state == JobState.PAUSED
    assert paused.run_after is not None
    assert paused.run_after > T0  # resumes in real time
    assert queue.repository.resume_paused(T0) == 0


def test_cancel_stops_the_use_case_at_its_next_batch(engine: Engine) -> None:
    batches: list[int] = []

    def run(*_: Any, progress: Callable[[str, int], None], **__: Any) -> SyncReport:
        for batch in range(5):
            if batch == 2:
                queue.cancel(job.id)
            progress("pulled", 100)
            batches.append(batch)
        return SyncReport()

    queue, runner = setup(engine, run)
    job = queue.submit("sync", connection="acme")
    runner.drain()
    cancelled = queue.get(job.id)
    assert cancelled is not None
    assert cancelled.state == JobState.CANCELLED
    assert batches == [0, 1]  # the batch reported after the cancel is counted, then it stops
    assert cancelled.progress == {"pulled": 300}


def test_a_sync_job_runs_the_real_loop_against_the_sandbox(
    crm: SalesforceHarness | HubSpotHarness, engine: Engine
) -> None:
    """End to end on both sandbox CRMs and both databases: the job's counters are the loop's."""
    SandboxAdmin(crm.server).reset()
    registry = JobRegistry()
    registry.register(
        "sync",
        make_sync_job(
            lambda name: (crm.reader(), crm.writer()), lambda: stores(engine), lambda: None
        ),
    )
    queue = JobQueue(JobRepository(engine), registry)
    runner = JobRunner(queue, JobSettings())
    first = queue.submit("sync", connection="org")
    runner.drain()
    done = queue.get(first.id)
    assert done is not None
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.progress["pulled"] > 0
    assert done.progress["scored"] > 0
    assert done.progress["pushed"] > 0
    again = queue.submit("sync", connection="org")
    runner.drain()
    rerun = queue.get(again.id)
    assert rerun is not None
    assert rerun.state == JobState.SUCCEEDED
    assert rerun.progress.get("pushed", 0) == 0  # nothing changed in the CRM: nothing written
