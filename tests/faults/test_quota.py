"""Issue #8, item 2: the daily API quota runs out mid-sync on each CRM; the job pauses with a
clear status, nothing is lost, and a day later (sandbox clock) it finishes from its cursor with
the same result as a clean run."""

from __future__ import annotations

import pytest

from tests.faults.conftest import CRMS, Runs
from tests.faults.scenario import lost, report
from tests.faults.secrets_scan import scan, sources
from tests.faults.test_faults import OPENAPI


@pytest.fixture(scope="module", params=CRMS)
def crm(request: pytest.FixtureRequest, runs: Runs) -> str:
    for name in CRMS:
        runs.start(name, "quota")
    return str(request.param)


def test_a_spent_quota_pauses_the_job_and_the_next_day_finishes_it(crm: str, runs: Runs) -> None:
    clean, quota = runs.get(crm, "clean"), runs.get(crm, "quota")
    print(report(clean, quota))
    paused = quota.paused
    assert paused is not None
    assert paused["state"] == "paused", paused
    assert "quota" in str(paused["error"]), paused
    assert paused["run_after"] is not None
    assert quota.days >= 2  # it did stop for the day
    assert quota.job["state"] == "succeeded", quota.job
    assert lost(clean.state, quota.state) == []
    assert quota.state.tasks == clean.state.tasks
    # Finished from the cursor: the second day did not pull everything again.
    assert quota.job["progress"]["pulled"] < 2 * clean.job["progress"]["pulled"]
    # The pause and its message went through logs, the job row and the API: no credential.
    assert scan(sources(quota.written, quota.api_bodies, OPENAPI), quota.secrets) == []
