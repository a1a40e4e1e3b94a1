"""Push contract: batched field writes, the ledger's zero-call rerun, faults, tasks, setup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from service.domain import ActionTask
from service.ports import CrmConfigError, CrmQuotaExhaustedError, FieldUpdate
from service.store.database import make_engine, upgrade
from service.store.ledger import PushLedgerRepository
from tests.contract.harness import Harness, SandboxAdmin, calls_for

pytestmark = pytest.mark.needs("push_fields", "tasks")

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def ledger_engine(tmp_path: object) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/ledger.db")
    upgrade(engine)
    return engine


@pytest.fixture(autouse=True)
def provisioned(harness: Harness) -> None:
    harness.writer().provision(dry_run=False)


def updates(harness: Harness, ids: list[str], score: float) -> list[FieldUpdate]:
    return [
        FieldUpdate(
            crm_object=harness.customer_object,
            crm_id=crm_id,
            external_id=f"cem-{crm_id}",
            fields={"experience_score": score + i % 7, "churn_flag": i % 2 == 0, "scored_at": NOW},
        )
        for i, crm_id in enumerate(ids)
    ]


def write_calls(admin: SandboxAdmin) -> list[dict[str, object]]:
    return [
        r
        for r in admin.requests()
        if r["method"] in {"PATCH", "POST", "PUT", "DELETE"} and "oauth" not in str(r["path"])
    ]


def test_provisioning_is_idempotent(harness: Harness) -> None:
    again = harness.writer().provision(dry_run=False)
    assert again.created == ()
    assert any("experience_score" in name.lower() for name in again.existing)


def test_push_writes_every_record_in_batches_and_rerun_costs_nothing(
    harness: Harness, admin: SandboxAdmin, ledger_engine: Engine
) -> None:
    ids = harness.customer_ids()[:250]
    ledger = PushLedgerRepository(ledger_engine)
    batch = updates(harness, ids, 60.0)
    admin.clear_requests()
    changed = ledger.changed("c", batch)
    report = harness.writer().upsert_fields(changed)
    ledger.record("c", [u for u in changed if u.external_id in set(report.written)])
    assert report.rejected == ()
    assert len(report.written) == len(ids)
    assert len(write_calls(admin)) == calls_for(len(ids), harness.batch_size)
    crm_field = "CEM_Experience_Score__c" if harness.crm == "salesforce" else "cem_experience_score"
    assert float(harness.field_value(ids[3], crm_field)) == 63.0
    # Nothing changed: the ledger leaves nothing to send.
    admin.clear_requests()
    assert ledger.changed("c", updates(harness, ids, 60.0)) == []
    assert write_calls(admin) == []


def test_push_survives_injected_faults(
    harness: Harness, admin: SandboxAdmin, ledger_engine: Engine
) -> None:
    ids = harness.customer_ids()[:250]
    admin.faults(
        [
            {
                "route": "* *",
                "error_5xx": 0.1,
                "rate_limited": 0.05,
                "unable_to_lock_row": 0.05,
                "retry_after_seconds": 0,
            }
        ]
    )
    report = harness.writer().upsert_fields(updates(harness, ids, 20.0))
    assert report.rejected == ()
    assert sorted(report.written) == sorted(f"cem-{i}" for i in ids)
    admin.faults([])
    crm_field = "CEM_Experience_Score__c" if harness.crm == "salesforce" else "cem_experience_score"
    assert {float(harness.field_value(i, crm_field)) for i in ids[:7]} == {
        20.0 + k for k in range(7)
    }


def task(customer: str, reason: str = "nps=3") -> ActionTask:
    return ActionTask(
        customer_id=customer,
        playbook="detractor_call",
        reason=reason,
        subject="Gọi lại cho khách hàng trong 48 giờ",
        body="Khách hàng cho điểm NPS 3.",
        due_at=NOW + timedelta(hours=48),
        as_of=NOW,
        scoring_version="test",
    )


def test_a_task_is_never_created_twice(harness: Harness, admin: SandboxAdmin) -> None:
    customer = harness.customer_ids()[5]
    writer = harness.writer()
    first = writer.create_tasks([task(customer)])
    assert first.rejected == ()
    # A retry after a lost answer, and a rerun: the same key, still one task.
    writer.create_tasks([task(customer)])
    writer.create_tasks([task(customer)])
    assert harness.tasks_with_key(task(customer).idempotency_key) == 1
    closed = writer.close_tasks([task(customer).idempotency_key])
    assert closed.written == (task(customer).idempotency_key,)


def test_quota_exhaustion_stops_cleanly_and_the_next_day_completes(
    harness: Harness, admin: SandboxAdmin
) -> None:
    ids = harness.customer_ids()[:50]
    admin.faults([{"route": harness.api_routes, "quota_exhausted": 1.0}])
    with pytest.raises(CrmQuotaExhaustedError):
        harness.writer().upsert_fields(updates(harness, ids, 5.0))
    admin.faults([])
    admin.advance_clock(86_400)
    report = harness.writer().upsert_fields(updates(harness, ids, 5.0))
    assert len(report.written) == len(ids)


def test_bad_credentials_are_a_config_error_without_retries(
    harness: Harness, admin: SandboxAdmin
) -> None:
    batch = updates(harness, harness.customer_ids()[:1], 1.0)
    admin.clear_requests()
    with pytest.raises(CrmConfigError):
        harness.writer(client_secret="wrong-secret").upsert_fields(batch)
    calls = admin.requests()
    assert len(calls) == 1, [(c["method"], c["path"], c["status"]) for c in calls]  # no retry loop
