"""The Zendesk writer on its emulator: user fields by update_many jobs, our flag tags added with
PUT and removed with DELETE beside staff's own tags (never POST), erasure, and refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.zendesk.harness import ZendeskHarness
from service.ports import FieldUpdate
from tests.contract.harness import SandboxAdmin


@pytest.fixture(scope="module")
def zendesk() -> Iterator[ZendeskHarness]:
    with ZendeskHarness(30, 25) as running:
        running.writer().provision(dry_run=False)
        yield running


@pytest.fixture
def admin(zendesk: ZendeskHarness) -> Iterator[SandboxAdmin]:
    control = SandboxAdmin(zendesk.server)
    control.reset()
    control.clear_requests()
    yield control
    control.reset()


def _update(crm_id: str, flag: bool) -> FieldUpdate:
    return FieldUpdate(
        crm_object="users",
        crm_id=crm_id,
        external_id=f"cem-{crm_id}",
        fields={"experience_score": 31.0, "churn_flag": flag},
    )


def _tags(zendesk: ZendeskHarness, crm_id: str) -> list[str]:
    return list(zendesk.emulator.store.users.rows[int(crm_id)]["tags"])


def test_flag_tags_are_added_and_removed_without_touching_staff_tags(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    crm_id = zendesk.customer_ids()[0]
    zendesk.emulator.store.users.rows[int(crm_id)]["tags"] = ["vip", "renewal_2027"]
    writer = zendesk.writer(flag_tags=True)
    report = writer.upsert_fields([_update(crm_id, True)])
    assert report.written == (f"cem-{crm_id}",)
    assert _tags(zendesk, crm_id) == ["vip", "renewal_2027", "cem_churn_flag"]
    assert zendesk.field_value(crm_id, "cem_churn_flag") is True
    writer.upsert_fields([_update(crm_id, False)])
    assert _tags(zendesk, crm_id) == ["vip", "renewal_2027"]
    writer.upsert_fields([_update(crm_id, True)])
    cleared = writer.clear_fields("users", [crm_id])
    assert cleared.written == (crm_id,)
    assert _tags(zendesk, crm_id) == ["vip", "renewal_2027"]
    assert zendesk.field_value(crm_id, "cem_external_id") is None
    tag_calls = [r for r in admin.requests() if r["path"].endswith("/tags.json")]
    assert tag_calls
    assert {r["method"] for r in tag_calls} <= {"PUT", "DELETE"}


def test_fields_go_in_jobs_of_a_hundred_and_a_rerun_changes_nothing(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    ids = zendesk.customer_ids()[:25]
    writer = zendesk.writer()
    first = writer.upsert_fields([_update(i, False) for i in ids])
    assert len(first.written) == len(ids)
    assert first.calls == 1
    jobs = [r for r in admin.requests() if r["path"].endswith("/update_many.json")]
    assert len(jobs) == 1
    before = [zendesk.field_value(i, "cem_experience_score") for i in ids]
    again = writer.upsert_fields([_update(i, False) for i in ids])
    assert again.rejected == ()
    assert [zendesk.field_value(i, "cem_experience_score") for i in ids] == before == [31.0] * 25


def test_a_refused_user_is_reported_and_the_rest_are_written(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    (gone,) = zendesk.create_customers(1, prefix="Gone")
    kept = zendesk.customer_ids()[1]
    zendesk.delete_customer(gone)
    report = zendesk.writer().upsert_fields([_update(gone, True), _update(kept, True)])
    assert report.written == (f"cem-{kept}",)
    assert [(r.record_id, r.code, r.gone) for r in report.rejected] == [
        (f"cem-{gone}", "RecordNotFound", True)
    ]


def test_one_user_is_one_plain_update_without_a_job_and_a_gone_one_is_reported(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    """A webhook's real-time push writes one user: a synchronous `PUT /users/{id}` answers at
    once, where a job would add its polls before the person's other systems hear of it."""
    crm_id = zendesk.customer_ids()[2]
    report = zendesk.writer().upsert_fields([_update(crm_id, True)])
    assert report.written == (f"cem-{crm_id}",)
    assert report.calls == 1
    assert zendesk.field_value(crm_id, "cem_churn_flag") is True
    paths = [(r["method"], r["path"]) for r in admin.requests()]
    assert paths.count(("PUT", f"/api/v2/users/{crm_id}.json")) == 1
    assert not [p for _, p in paths if "update_many" in p or "job_statuses" in p]
    (gone,) = zendesk.create_customers(1, prefix="GoneAlone")
    zendesk.delete_customer(gone)
    refused = zendesk.writer().upsert_fields([_update(gone, True)])
    assert refused.written == ()
    assert [(r.record_id, r.code, r.gone) for r in refused.rejected] == [
        (f"cem-{gone}", "RecordNotFound", True)
    ]


def test_provisioning_creates_each_user_field_once(zendesk: ZendeskHarness) -> None:
    again = zendesk.writer().provision(dry_run=False)
    assert again.created == ()
    assert "users.cem_external_id" in again.existing
    assert "users.cem_churn_flag" in again.existing
    fields = zendesk.emulator.store.user_fields
    assert fields["cem_churn_flag"]["type"] == "checkbox"
    assert fields["cem_experience_score"]["type"] == "decimal"
