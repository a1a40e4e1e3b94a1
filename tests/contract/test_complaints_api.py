"""Every complaint through `POST /v1/interactions` is answered in the CRM (issue 15, part 5):
the flag (with its reason) for a customer with no purchases, the task of the complaint's topic,
in a Chinese Salesforce owner's language; Zalo is a channel; praise raises nothing.

Texts are real UCI sentences (Kotzias et al., KDD 2015; CC BY 4.0; test buckets of
`bench.sentiment.real_sets`), labelled negative or positive there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.domain import task_key
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.store.keys import Scope
from tests.conftest import make_key
from tests.contract.harness import Harness
from tests.contract.test_customer_actions_api import finished

pytestmark = pytest.mark.needs("push_fields", "tasks")

SERVICE_COMPLAINT = "Customer service was terrible."  # UCI amazon, negative
PRAISE = "Works great!."  # UCI amazon, positive


def week() -> str:
    iso = datetime.now(UTC).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@pytest.fixture(scope="module")
def api(
    harness: Harness, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    # One service and one batch sync per CRM for the module: each test makes its own customers.
    harness.writer().provision(dry_run=False)
    db = tmp_path_factory.mktemp("complaints") / "complaints.db"
    settings = Settings(
        database_url=f"sqlite:///{db}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={"org": harness.settings()},
        jobs=JobSettings(poll_seconds=0.05, heartbeat_seconds=0.2),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        write = {"X-API-Key": make_key(client, Scope.WRITE)}
        # A batch sync first, as in production: the service learns owners and purchases.
        sync = client.post("/v1/syncs", json={"connection": "org"}, headers=write)
        assert finished(client, sync.json()["id"], write)["state"] == "succeeded"
        yield client, write


def post(client: TestClient, write: dict[str, str], customer: str, n: str, text: str) -> dict:  # type: ignore[type-arg]
    body = {"connection": "org", "customer": customer, "id": n, "channel": "zalo", "text": text}
    answer = client.post("/v1/interactions", json=body, headers=write)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_complaints_are_answered_and_praise_is_left_alone(
    harness: Harness, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, write = api
    sf = harness.crm == "salesforce"
    flag, reason = (
        ("CEM_Churn_Flag__c", "CEM_Churn_Reason__c")
        if sf
        else ("cem_churn_flag", "cem_churn_reason")
    )
    fresh, happy = harness.create_customers(2, prefix="Fresh")  # no purchases, no flag, no task

    answer = post(client, write, fresh, "zalo-c1", SERVICE_COMPLAINT)
    assert (answer["sentiment"], answer["churn_flag"], answer["churn_risk"]) == (
        "negative",
        True,
        None,
    )
    assert str(harness.field_value(fresh, flag)).lower() == "true"
    assert harness.field_value(fresh, reason) == (
        "complaint about staff_service, no churn estimate: no purchases yet"
    )
    assert harness.tasks_with_key(task_key(fresh, "service_recovery", f"staff_service:{week()}"))
    assert not harness.tasks_with_key(task_key(fresh, "delivery_apology", f"delivery:{week()}"))

    answer = post(client, write, happy, "zalo-p1", PRAISE)
    assert (answer["sentiment"], answer["tasks_created"]) == ("positive", 0)
    assert str(harness.field_value(happy, flag)).lower() in ("false", "none", "")


def test_a_chinese_salesforce_owner_gets_the_task_in_chinese(
    harness: Harness, request: pytest.FixtureRequest
) -> None:
    if harness.crm != "salesforce":
        pytest.skip("HubSpot owners carry no locale (their customers' language is used)")
    client, write = request.getfixturevalue("api")
    sdk = harness._sdk()  # type: ignore[attr-defined]
    users = sdk.query_all("SELECT Id FROM User WHERE LanguageLocaleKey = 'zh_CN'")["records"]
    assert users, "the sandbox has Chinese-speaking owners"
    created = sdk.Contact.create({"LastName": "Wang", "OwnerId": users[0]["Id"]})
    customer = str(created["id"])
    post(client, write, customer, "zalo-zh1", SERVICE_COMPLAINT)
    key = task_key(customer, "service_recovery", f"staff_service:{week()}")
    rows = sdk.query(f"SELECT Subject FROM Task WHERE CEM_Task_Key__c = '{key}'")["records"]
    assert [r["Subject"] for r in rows] == ["就服务问题向Wang致歉"]
