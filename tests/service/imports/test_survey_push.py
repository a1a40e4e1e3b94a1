"""An imported answer reaches the CRM: after a sync of the HubSpot emulator (over real HTTP), a
survey export answered by one of its contacts is imported, the person is rescored and the new
CSAT is pushed to the contact; importing the same file again writes nothing."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from service.config import Settings
from service.imports.mapping import load_mapping
from service.imports.readers import open_table
from service.main import sync_stores
from service.store.survey_imports import SurveyImportLookups
from service.store.tables import CrmLink, EntityType
from service.usecases.rescore import rescore_stores
from service.usecases.survey_import import SurveyImport
from service.usecases.sync import sync
from tests.contract.harness import HubSpotHarness, SandboxAdmin

CUSTOMERS = 30
CONNECTION = "hubspot-main"
MAPPING = """\
tool: typeform
response_id:
  column: "#"
submitted_at:
  column: Submit Date (UTC)
  format: "%Y-%m-%d %H:%M:%S"
respondent:
  email: What is your email?
questions:
  - name: csat
    kind: csat
    column: How satisfied are you with your last order?
"""


@pytest.fixture(scope="module")
def crm() -> Iterator[HubSpotHarness]:
    with HubSpotHarness(CUSTOMERS) as harness:
        harness.writer().provision(dry_run=False)
        yield harness


def _writes(admin: SandboxAdmin) -> list[object]:
    return [
        r
        for r in admin.requests()
        if r["method"] != "GET"
        and "search" not in str(r["path"])
        and "batch/read" not in str(r["path"])
        and "oauth" not in str(r["path"])
    ]


def test_an_imported_answer_is_pushed_to_the_crm_once(
    crm: HubSpotHarness, engine: Engine, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    stores = rescore_stores(sync_stores(Settings(), engine), engine)
    sync(CONNECTION, crm.reader(), crm.writer(), stores, now)
    with Session(engine) as session:
        crm_id, email = session.execute(
            select(CrmLink.crm_id, CrmLink.match_email)
            .where(
                CrmLink.connection == CONNECTION,
                CrmLink.entity_type == EntityType.CUSTOMER.value,
                CrmLink.match_email.is_not(None),  # type: ignore[union-attr]
            )
            .order_by(CrmLink.id)
        ).first()  # type: ignore[misc]
    before = crm.field_value(crm_id, "cem_last_csat")
    answer = 1 if before in (None, "") or float(before) != 1 else 2
    export = tmp_path / "typeform.csv"
    with export.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(
            [
                ["#", "What is your email?", "How satisfied are you with your last order?",
                 "Submit Date (UTC)"],
                ["tf-1", email.upper(), str(answer),
                 (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")],
            ]
        )  # fmt: skip
    mapping_path = tmp_path / "typeform.yaml"
    mapping_path.write_text(MAPPING, encoding="utf-8")
    mapping = load_mapping(mapping_path)
    importer = SurveyImport(
        stores, SurveyImportLookups(engine), lambda _name: crm.writer(), {CONNECTION}
    )

    report = importer.run(open_table(export, mapping.format), mapping, now)
    assert report.complete
    assert dict(report.matched_by) == {"email": 1}
    assert (report.new, report.persons, report.deferred) == (1, 1, [])
    assert report.pushed >= 1
    assert float(crm.field_value(crm_id, "cem_last_csat")) == answer
    # Pushed now, so the mark for the next sync was taken back.
    assert stores.marks is not None
    assert stores.marks.pending(CONNECTION) == {}

    admin = SandboxAdmin(crm.server)
    admin.clear_requests()
    again = importer.run(open_table(export, mapping.format), mapping, now)
    assert (again.already_imported, again.persons, again.pushed) == (1, 0, 0)
    assert _writes(admin) == []
