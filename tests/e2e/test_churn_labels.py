"""The CRM's own churn labels, end to end over HTTP: a Salesforce sandbox whose contacts carry a
churn status (`Churn_Status__c` / `Churn_Date__c`, from the generator's truth, churns before
now only), the example mapping that reads it, a sync, the `churn-train` job, the model card,
and the next sync's flags judged by the labelled model and saying so in their drivers."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.mapping import load_mappings
from sandbox.core.harness import TEST_POLICY
from sandbox.core.server import SandboxServer
from sandbox.data.churnstatus import churn_statuses
from sandbox.data.generate import generate, truths
from sandbox.salesforce.app import create_app as create_salesforce_app
from sandbox.salesforce.app import emulator_of
from sandbox.salesforce.config import SalesforceConfig
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.store.keys import Scope
from tests.conftest import make_key
from tests.contract.harness import SalesforceHarness

CUSTOMERS = 300
SEED = 5
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "adapters" / "mapping" / "shipped"
EXAMPLE = SHIPPED / "examples" / "churn-status" / "salesforce" / "Contact.yaml"


class LabelledSalesforce(SalesforceHarness):
    """The contract harness's org, loaded with the optional churn status turned on."""

    def __init__(self) -> None:
        self.page_size = 2000
        self.policy = TEST_POLICY
        self.config = SalesforceConfig(page_size=self.page_size)
        self.app = create_salesforce_app(self.config)
        self.emulator = emulator_of(self.app)
        now = self.emulator.state.clock.now()
        self.emulator.load(
            generate(SEED, CUSTOMERS), churn_status=churn_statuses(truths(SEED, CUSTOMERS), now)
        )
        self.server = SandboxServer(self.app, tls=True)
        self.mappings = load_mappings()


@pytest.fixture(scope="module")
def crm() -> Iterator[LabelledSalesforce]:
    with LabelledSalesforce() as harness:
        yield harness


def _mappings(tmp: Path) -> Path:
    """What a user does: copy the shipped mappings, put the example over Contact.yaml."""
    target = tmp / "mappings"
    shutil.copytree(SHIPPED, target, ignore=shutil.ignore_patterns("examples"))
    shutil.copy(EXAMPLE, target / "salesforce" / "Contact.yaml")
    return target


def _finish(client: TestClient, headers: dict[str, str], job: Any) -> dict[str, Any]:
    assert job.status_code == 202, job.text
    deadline = time.monotonic() + 300
    while (body := client.get(f"/v1/jobs/{job.json()['id']}", headers=headers).json())["state"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert body["state"] == "succeeded", body
    result: dict[str, Any] = body
    return result


def test_crm_churn_labels_train_a_model_that_then_judges_the_flags(
    crm: LabelledSalesforce, tmp_path: Path
) -> None:
    crm.writer().provision(dry_run=False)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cem.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={"org": crm.settings(mappings_dir=_mappings(tmp_path), read_timeout=10.0)},
        jobs=JobSettings(poll_seconds=0.05, heartbeat_seconds=0.2),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
    )
    sdk = crm._sdk()
    churned = sdk.query("SELECT COUNT() FROM Contact WHERE Churn_Status__c = 'Churned'")
    assert churned["totalSize"] >= 40  # the sandbox recorded the churns that happened

    with TestClient(create_app(settings)) as client:
        write = {"X-API-Key": make_key(client, Scope.WRITE)}
        _finish(client, write, client.post("/v1/syncs", json={"connection": "org"}, headers=write))
        # (The scheduler may already have trained once; this run is on demand, after the sync.)
        trained = _finish(
            client,
            write,
            client.post("/v1/models/churn/train", json={"connection": "org"}, headers=write),
        )
        assert trained["progress"]["in_use"] == 1
        card = client.get("/v1/models/churn?connection=org", headers=write).json()
        assert card["in_use"] is True
        assert card["judged_by"] == "labelled"
        assert "churn status" in card["label_source"]
        assert "monthly snapshots" in card["label_source"]
        # Measured out of time (the latest snapshots), and it beat the purchase-pattern model
        # on the same test rows.
        assert card["test_window"][1] < card["trained_at"]
        assert card["roc_auc"] > (card["label_free_roc_auc"] or 0.5)
        assert card["n_test"] > 0
        assert 0 < card["base_rate"] < 1

        # Account managers log a check-in call with every contact; the next sync pulls the
        # calls and rescores everyone they touched.
        contacts = [r["Id"] for r in sdk.query_all("SELECT Id FROM Contact")["records"]]
        today = datetime.now(UTC).date().isoformat()
        for start in range(0, len(contacts), 200):
            records = [
                {
                    "attributes": {"type": "Task"},
                    "WhoId": cid,
                    "Subject": "Check-in call",
                    "Description": "Quarterly check-in call.",
                    "Status": "Completed",
                    "TaskSubtype": "Call",
                    "CallType": "Outbound",
                    "ActivityDate": today,
                }
                for cid in contacts[start : start + 200]
            ]
            sdk.restful(
                "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
            )
        second = _finish(
            client, write, client.post("/v1/syncs", json={"connection": "org"}, headers=write)
        )
        assert second["progress"]["scored"] >= len(contacts) * 0.9

        flagged = client.get(
            "/v1/customers", params={"flagged": "true", "limit": 20}, headers=write
        ).json()["items"]
        assert flagged, "the labelled model flagged nobody"
        for summary in flagged[:5]:
            profile = client.get(f"/v1/customers/{summary['id']}", headers=write).json()
            churn = profile["churn"]
            names = [d["name"] for d in churn["drivers"]]
            assert "judged_by_labelled_model" in names, names
            assert churn["model"] == "classifier"
