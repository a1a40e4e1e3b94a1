"""The pieces of crash recovery the fault suite relies on, fast and on both databases: a resumed
sync job scores at its first attempt's instant and rescores what the stopped attempt stored; the
task ledger's pending notes; the crash-point hook's parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from service import testing_hooks
from service.clock import FixedClock
from service.domain import ActionTask
from service.jobs import JobQueue, JobRegistry, JobRunner, JobSettings
from service.jobs.context import JobContext
from service.jobs.sync_job import make_sync_job
from service.ports import CrmReader, CrmWriter
from service.store.jobs import Beat, JobRepository
from service.store.tables import JobState
from service.store.tasks import TaskLedgerRepository
from service.usecases.sync import SyncReport
from tests.service.test_sync_job import stores

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def task(customer: str, reason: str = "nps=2") -> ActionTask:
    return ActionTask(
        customer_id=customer,
        playbook="detractor_call",
        reason=reason,
        subject="Call back",
        body="",
        due_at=T0 + timedelta(days=2),
        as_of=T0,
        scoring_version="test",
    )


def test_a_resumed_sync_scores_at_the_same_instant_and_rescores_the_stored(
    engine: Engine,
) -> None:
    calls: list[dict[str, Any]] = []
    clock = FixedClock(T0)

    def run(
        connection: str, reader: Any, writer: Any, repos: Any, as_of: datetime, **kwargs: Any
    ) -> SyncReport:
        calls.append({"as_of": as_of, "rescore": kwargs.get("rescore")})
        if len(calls) == 1:
            raise RuntimeError("the process died here")  # stands for a SIGKILL mid-run
        return SyncReport()

    def build(name: str) -> tuple[CrmReader, CrmWriter]:
        return object(), object()  # type: ignore[return-value]

    registry = JobRegistry()
    registry.register(
        "sync",
        make_sync_job(build, lambda: stores(engine), lambda: None, run=run, clock=clock),
    )
    queue = JobQueue(JobRepository(engine), registry)
    job = queue.submit("sync", connection="acme")
    runner = JobRunner(queue, JobSettings(progress_flush_seconds=0), clock=clock.now)
    runner.drain()
    failed = queue.get(job.id)
    assert failed is not None
    assert failed.state == JobState.FAILED
    # The next attempt starts from the checkpoint the stopped one saved (as after a SIGKILL).
    assert failed.checkpoint.get("as_of") == T0.isoformat()
    clock.advance(timedelta(minutes=30))
    sync = registry.get("sync").function
    ctx = JobContext(
        job_id=job.id,
        kind="sync",
        connection="acme",
        attempt=2,
        progress={},
        checkpoint=failed.checkpoint,
        save=lambda p, c: Beat(True, False),
        flush_seconds=0,
    )
    sync(ctx, {})
    assert calls[1]["as_of"] == T0  # the first attempt's instant, not the restart's
    assert calls[1]["rescore"] == set()  # every stored customer (none in this empty store)
    assert calls[0]["rescore"] is None  # a first attempt rescores nothing


def test_pending_task_notes_until_the_crm_answer_is_recorded(engine: Engine) -> None:
    ledger = TaskLedgerRepository(engine)
    sent, refused = task("c1"), task("c2")
    owners = {sent.idempotency_key: "cust-1", refused.idempotency_key: "cust-2"}
    ledger.intend("acme", [sent, refused], owners)
    ledger.intend("acme", [sent], owners)  # noting twice is harmless
    # Sent but not recorded (a crash here): not known, so the next run sends it again.
    assert ledger.known("acme", owners) == set()
    assert ledger.pending_customers("acme") == {"cust-1", "cust-2"}
    ledger.record("acme", [sent], owners, {sent.idempotency_key: "00T1"})
    ledger.forget_pending("acme", [refused.idempotency_key])
    assert ledger.known("acme", owners) == {sent.idempotency_key}
    assert ledger.pending_customers("acme") == set()
    assert ledger.crm_task_ids("acme") == {"00T1"}


@pytest.mark.parametrize("spec", ["after_crm_write", "after_task_write:3"])
def test_crash_points_are_named_and_off_by_default(
    spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    testing_hooks._crash_plan.cache_clear()
    assert testing_hooks._crash_plan() is None
    testing_hooks.crash_point("after_crm_write")  # unset: nothing happens
    monkeypatch.setenv(testing_hooks.CRASH_VARIABLE, spec)
    testing_hooks._crash_plan.cache_clear()
    point, _, nth = spec.partition(":")
    assert testing_hooks._crash_plan() == (point, int(nth or 1))
    monkeypatch.setenv(testing_hooks.CRASH_VARIABLE, "somewhere_else")
    testing_hooks._crash_plan.cache_clear()
    with pytest.raises(ValueError, match="unknown crash point"):
        testing_hooks._crash_plan()
    testing_hooks._crash_plan.cache_clear()
