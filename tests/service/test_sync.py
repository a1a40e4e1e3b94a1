"""The loop against both sandbox CRMs and both databases: pull, score, push; a rerun is free."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from service.config import Settings
from service.main import sync_stores
from service.usecases.sync import SyncStores, sync
from tests.contract.harness import HubSpotHarness, SalesforceHarness, SandboxAdmin

CUSTOMERS = 40
AS_OF = datetime.now(UTC)


@pytest.fixture(scope="module", params=["salesforce", "hubspot"])
def crm(request: pytest.FixtureRequest) -> Iterator[SalesforceHarness | HubSpotHarness]:
    harness = (
        SalesforceHarness(CUSTOMERS, 100)
        if request.param == "salesforce"
        else HubSpotHarness(CUSTOMERS)
    )
    with harness:
        harness.writer().provision(dry_run=False)
        yield harness


def stores(engine: Engine) -> SyncStores:
    return sync_stores(Settings(), engine)


def test_sync_writes_scores_and_tasks_once(
    crm: SalesforceHarness | HubSpotHarness, engine: Engine
) -> None:
    admin = SandboxAdmin(crm.server)
    admin.reset()
    first = sync("org", crm.reader(), crm.writer(), stores(engine), AS_OF)
    assert first.pulled > 0
    assert first.scored > 0
    assert first.pushed > 0
    assert len(first.refused) <= first.pulled * 0.02
    # Fields landed on the CRM records.
    field = "CEM_Scored_At__c" if crm.crm == "salesforce" else "cem_scored_at"
    scored_values = [crm.field_value(i, field) for i in crm.customer_ids()[:10]]
    assert any(v not in (None, "") for v in scored_values)
    # A rerun with nothing changed in the CRM: nothing to score, not one write call.
    admin.clear_requests()
    second = sync("org", crm.reader(), crm.writer(), stores(engine), AS_OF)
    writes = [
        r
        for r in admin.requests()
        if r["method"] != "GET"
        and "search" not in str(r["path"])
        and "batch/read" not in str(r["path"])
        and "oauth" not in str(r["path"])
    ]
    assert (second.pushed, second.tasks_created) == (0, 0)
    assert writes == []
    # Every task created exists exactly once in the CRM.
    if first.tasks_created:
        from sqlmodel import Session, select

        from service.store.tables import TaskLedger

        with Session(engine) as session:
            keys = [row.task_key for row in session.exec(select(TaskLedger))]
        assert len(keys) == len(set(keys)) == first.tasks_created
        assert all(crm.tasks_with_key(k) == 1 for k in keys[:5])
