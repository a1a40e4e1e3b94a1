"""`POST /v1/interactions`: a negative message raises the flag and creates the task in the CRM
at once, in the customer's CRM; the same message id twice changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.services import services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.store.keys import Scope
from tests.conftest import make_key
from tests.contract.harness import Harness

COMPLAINT = (
    "Tôi rất thất vọng. Giao hàng trễ cả tuần, gọi tổng đài không ai nghe máy. "
    "Tôi sẽ hủy đơn và không bao giờ mua nữa."
)


@pytest.fixture
def api(harness: Harness, tmp_path: Path) -> Iterator[TestClient]:
    harness.writer().provision(dry_run=False)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rt.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={"org": harness.settings()},
        jobs=JobSettings(enabled=False),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.needs("push_fields", "tasks")
def test_a_negative_message_acts_at_once_and_only_once(harness: Harness, api: TestClient) -> None:
    customer = harness.customer_ids()[7]
    write = {"X-API-Key": make_key(api, Scope.WRITE)}
    body = {
        "connection": "org",
        "customer": customer,
        "id": "zalo-1",
        "channel": "zalo",
        "text": COMPLAINT,
        "language": "vi",
    }
    first = api.post("/v1/interactions", json=body, headers=write)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["new"] is True
    assert answer["sentiment"] == "negative"
    assert answer["fields_pushed"] == 1
    assert answer["failed_writes"] == []
    field = "CEM_Scored_At__c" if harness.crm == "salesforce" else "cem_scored_at"
    assert harness.field_value(customer, field) not in (None, "")
    again = api.post("/v1/interactions", json=body, headers=write).json()
    assert again["new"] is False
    assert (again["fields_pushed"], again["tasks_created"]) == (0, 0)


def test_bad_requests_are_problems(api: TestClient) -> None:
    write = {"X-API-Key": make_key(api, Scope.WRITE)}
    unknown = api.post(
        "/v1/interactions",
        json={"connection": "nope", "customer": "1", "id": "m1", "channel": "chat", "text": "hi"},
        headers=write,
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    invalid = api.post(
        "/v1/interactions",
        json={"connection": "org", "customer": "1", "id": "bad id!", "channel": "fax", "text": ""},
        headers=write,
    )
    assert invalid.status_code == 422
    fields = {e["field"] for e in invalid.json()["errors"]}
    assert {"body.id", "body.channel", "body.text"} <= fields
    read = {"X-API-Key": make_key(api, Scope.READ)}
    assert api.post("/v1/interactions", json={}, headers=read).status_code == 403


@pytest.mark.needs("push_fields")  # a message for a customer of a CRM we push to
def test_an_unknown_customer_is_404_and_no_phantom_is_made(
    harness: Harness, api: TestClient
) -> None:
    """Neither stored nor in the CRM: 404, and nothing stored (it used to answer 200 `new`
    and create a blank customer)."""
    write = {"X-API-Key": make_key(api, Scope.WRITE)}
    # Shaped like an id of this CRM, so the CRM is really asked.
    missing = "003000000000000AAA" if harness.crm == "salesforce" else "999999999"
    body = {"connection": "org", "customer": missing, "id": "m-ghost", "channel": "chat",
            "text": "hello"}  # fmt: skip
    answer = api.post("/v1/interactions", json=body, headers=write)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("customer-not-found")
    engine = services_of(api.app).engine
    with engine.connect() as connection:
        customers = connection.exec_driver_sql("SELECT COUNT(*) FROM customers").scalar()
        links = connection.exec_driver_sql("SELECT COUNT(*) FROM crm_links").scalar()
    assert (customers, links) == (0, 0)
    # A customer the CRM does have is read by id and accepted.
    known = dict(body, customer=harness.customer_ids()[3], id="m-real")
    assert api.post("/v1/interactions", json=known, headers=write).status_code == 200
