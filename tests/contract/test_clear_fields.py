"""`clear_fields` contract (erasure): our fields and external id emptied in batches, others kept,
a record gone from the CRM reported with a code the erasure treats as done."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.ports import FieldUpdate
from tests.contract.harness import Harness, SandboxAdmin, calls_for

pytestmark = pytest.mark.needs("push_fields", "erasure")

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def provisioned(harness: Harness) -> None:
    harness.writer().provision(dry_run=False)


def names(harness: Harness) -> tuple[str, str, str]:
    """(a number field, a checkbox field, the external id field) of our push mapping."""
    if harness.crm == "salesforce":
        return "CEM_Experience_Score__c", "CEM_Churn_Flag__c", "CEM_External_Id__c"
    return "cem_experience_score", "cem_churn_flag", "cem_external_id"


def test_clear_fields_empties_ours_in_batches_and_keeps_theirs(
    harness: Harness, admin: SandboxAdmin
) -> None:
    ids = harness.customer_ids()[: harness.batch_size + 5]
    writer = harness.writer()
    pushed = writer.upsert_fields(
        [
            FieldUpdate(
                crm_object=harness.customer_object,
                crm_id=i,
                external_id=f"cem-clear-{i}",
                fields={"experience_score": 42.0, "churn_flag": True, "scored_at": NOW},
            )
            for i in ids
        ]
    )
    assert pushed.rejected == ()
    score, flag, external = names(harness)
    own = "LastName" if harness.crm == "salesforce" else "email"
    theirs = [harness.field_value(i, own) for i in ids[:3]]
    assert harness.field_value(ids[0], external) == f"cem-clear-{ids[0]}"

    admin.clear_requests()
    cleared = writer.clear_fields(harness.customer_object, ids)
    assert sorted(cleared.written) == sorted(ids)
    assert cleared.rejected == ()
    assert cleared.calls == calls_for(len(ids), harness.batch_size)
    for crm_id in (ids[0], ids[-1]):
        assert harness.field_value(crm_id, score) in (None, "")
        assert harness.field_value(crm_id, flag) in (None, "", False, "false")
        assert harness.field_value(crm_id, external) in (None, "")
    assert [harness.field_value(i, own) for i in ids[:3]] == theirs
    # Idempotent: clearing again succeeds and changes nothing.
    assert sorted(writer.clear_fields(harness.customer_object, ids[:2]).written) == sorted(ids[:2])


def test_a_record_gone_from_the_crm_is_reported_as_gone(harness: Harness) -> None:
    (gone,) = harness.create_customers(1, prefix="Erased")
    harness.delete_customer(gone)
    report = harness.writer().clear_fields(harness.customer_object, [gone])
    assert report.written == ()
    assert [r.gone for r in report.rejected] == [True]
