"""The `erase` job kind waits for a running sync of the customer's connection before any write."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import Engine
from sqlmodel import Session

from service.clock import FixedClock
from service.jobs import JobQueue, JobRegistry, JobRunner, JobSettings
from service.jobs.customer_jobs import BUSY_RETRY, ERASE, make_erase_job
from service.store.database import session_scope
from service.store.erasure import ErasureStore
from service.store.jobs import JobRepository
from service.store.tables import CrmLink, Customer, EntityType, Job, JobState
from service.store.tasks import TaskLedgerRepository
from service.usecases.erase import ErasureStores

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_an_erasure_waits_for_a_running_sync_then_completes(engine: Engine) -> None:
    with session_scope(engine) as session:
        customer = Customer(display_name="Hoa Le")
        session.add(customer)
        # A lead: no fields of ours to clear, so the job needs no CRM once it may go on.
        session.add(
            CrmLink(
                entity_type=EntityType.CUSTOMER.value,
                entity_id=customer.id,
                connection="org",
                crm_object="Lead",
                crm_id="00Q000000000001AAA",
            )
        )
        sync = Job(
            kind="sync", connection="org", state=JobState.RUNNING.value, worker="other",
            heartbeat_at=T0, started_at=T0,
        )  # fmt: skip
        session.add(sync)
        customer_id, sync_id = customer.id, sync.id
    asked: list[str] = []

    def writer(name: str) -> object:
        asked.append(name)
        return SimpleNamespace(pushable=frozenset({"Contact"}))

    registry = JobRegistry()
    stores = ErasureStores(ErasureStore(engine), TaskLedgerRepository(engine))
    registry.register(
        ERASE, make_erase_job(writer, lambda: stores, clock=FixedClock(T0)),  # type: ignore[arg-type]
        exclusive=False,
    )  # fmt: skip
    queue = JobQueue(JobRepository(engine), registry)
    runner = JobRunner(queue, JobSettings(progress_flush_seconds=0), clock=lambda: T0)
    job = queue.submit(ERASE, params={"customer_id": customer_id})
    runner.drain()
    waiting = queue.get(job.id)
    assert waiting is not None
    assert waiting.state == JobState.PAUSED.value
    assert waiting.run_after == T0 + BUSY_RETRY
    assert "running job" in (waiting.error or "")
    assert asked == []  # no CRM was touched
    with Session(engine) as session:
        assert session.get(Customer, customer_id) is not None

    with session_scope(engine) as session:
        running = session.get(Job, sync_id)
        assert running is not None
        running.state = JobState.SUCCEEDED.value
        session.add(running)
    queue.repository.resume(job.id)
    runner.drain()
    done = queue.get(job.id)
    assert done is not None
    assert done.state == JobState.SUCCEEDED.value, done.error
    assert asked == ["org"]
    with Session(engine) as session:
        assert session.get(Customer, customer_id) is None
