"""Issue #8, items 1 and 4: the whole loop through the real service process against both
sandbox CRMs, under injected faults and with the process SIGKILLed at random points, ends with
the CRM holding exactly what a clean run writes; nothing the service wrote holds a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import CRMS, Runs, reduced
from tests.faults.scenario import lost, report
from tests.faults.secrets_scan import scan, sources

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


@pytest.fixture(scope="module", params=CRMS)
def crm(request: pytest.FixtureRequest, runs: Runs) -> str:
    # Start every run this module needs, for both CRMs, before the first test waits on one.
    for name in CRMS:
        runs.start(name, "faults", *(() if reduced() else ("crash",)))
    return str(request.param)


def test_under_the_fault_mix_every_field_is_written_once(crm: str, runs: Runs) -> None:
    clean, faulty = runs.get(crm, "clean"), runs.get(crm, "faults")
    print(report(clean, faulty))
    assert clean.job["state"] == "succeeded", clean.job
    assert faulty.job["state"] == "succeeded", faulty.job
    assert clean.state.fields, "the clean run pushed nothing: nothing to compare"
    assert clean.state.tasks, "the clean run created no task: nothing to compare"
    assert faulty.faulted_requests > 0  # the faults were really injected
    assert lost(clean.state, faulty.state) == []
    assert faulty.state.tasks == clean.state.tasks  # every task once, none missing
    assert faulty.writes.duplicate_field_writes == 0
    assert faulty.writes.duplicate_task_writes == 0
    # The counts come from the write bodies the sandbox kept: every record with fields is in them.
    assert set(clean.state.fields) <= {record for record, _ in clean.writes.fields}
    assert sum(faulty.writes.fields.values()) == sum(clean.writes.fields.values())


@pytest.mark.skipif(reduced(), reason="make test-faults only: each death costs the stale-job wait")
def test_killed_at_random_points_the_crm_ends_as_after_a_clean_run(crm: str, runs: Runs) -> None:
    clean, crashed = runs.get(crm, "clean"), runs.get(crm, "crash")
    print(report(clean, crashed))
    assert crashed.job["state"] == "succeeded", crashed.job
    killed = [k for k in crashed.kills if k.happened]
    assert len(killed) >= 3, crashed.kills  # mid-pull at least, and the crash points
    assert crashed.lives == len(killed) + 1
    assert lost(clean.state, crashed.state) == []
    assert crashed.state.tasks == clean.state.tasks


def test_nothing_the_service_wrote_holds_a_credential(crm: str, runs: Runs) -> None:
    for run in [runs.get(crm, mode) for mode in ("faults",) + (() if reduced() else ("crash",))]:
        assert len(run.secrets) >= 3
        texts = sources(run.written, run.api_bodies, OPENAPI)
        assert any("job" in text for _, text in texts)  # the job API answers are in the scan
        assert scan(texts, run.secrets) == []
