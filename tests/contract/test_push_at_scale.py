"""The contract's big case (slow suite): 10,000 changed records pushed through injected 5xx,
429, lock contention and timeouts end with every record written, none twice, no task twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.registry import kinds
from service.domain import ActionTask
from service.ports import FieldUpdate
from tests.contract.harness import Harness, SandboxAdmin, harness_for

pytestmark = [pytest.mark.slow, pytest.mark.needs("push_fields", "tasks")]
RECORDS = 10_000
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=kinds())
def big(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with harness_for(request.param, RECORDS + 400, 2000) as harness:
        harness.writer().provision(dry_run=False)
        yield harness


def test_ten_thousand_records_through_faults(big: Harness) -> None:
    admin = SandboxAdmin(big.server)
    ids = big.customer_ids()[:RECORDS]
    updates = [
        FieldUpdate(
            crm_object=big.customer_object,
            crm_id=crm_id,
            external_id=f"cem-{crm_id}",
            fields={"experience_score": float(i % 97), "scored_at": NOW},
        )
        for i, crm_id in enumerate(ids)
    ]
    admin.faults(
        [
            {
                "route": "* *",
                "error_5xx": 0.10,
                "rate_limited": 0.05,
                "unable_to_lock_row": 0.03,
                "timeout": 0.02,
                "timeout_seconds": 4.0,  # past the adapter's 3 s read timeout
                "retry_after_seconds": 0,
            }
        ],
        seed=42,
    )
    admin.clear_requests()
    report = big.writer().upsert_fields(updates)
    tasks = [
        ActionTask(
            customer_id=crm_id,
            playbook="detractor_call",
            reason="nps=2",
            subject="Call back within 48 hours",
            body="",
            due_at=NOW + timedelta(hours=48),
            as_of=NOW,
            scoring_version="test",
        )
        for crm_id in ids[:300]
    ]
    big.writer().create_tasks(tasks)
    big.writer().create_tasks(tasks)  # a full rerun after a "crash"
    calls = len(admin.requests())
    admin.faults([])
    assert report.rejected == ()
    assert sorted(report.written) == sorted(u.external_id for u in updates)
    field = "CEM_Experience_Score__c" if big.crm == "salesforce" else "cem_experience_score"
    for i in range(0, RECORDS, 997):
        assert float(big.field_value(ids[i], field)) == float(i % 97)
    assert all(big.tasks_with_key(t.idempotency_key) == 1 for t in tasks[::37])
    minimum = -(-RECORDS // big.batch_size)
    print(f"{big.crm}: {calls} calls under faults for {RECORDS} records (minimum {minimum})")
