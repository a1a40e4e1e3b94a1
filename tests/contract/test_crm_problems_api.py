"""The API answers every `Crm*Error` kind once, from service/api/crm_problems.py (docs/errors.md).

`POST /v1/interactions` reads and writes the CRM while the request waits, so each kind is made
by the sandbox's fault injection under it, for both CRMs. The two kinds no fault produces
(a missing record, a refused record) go through a route raising them, over HTTP all the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.retry import RetryPolicy
from service.api.problems import install_problem_handlers
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.ports import CrmNotFoundError, CrmRejectedError
from service.sentiment.settings import SentimentSettings
from service.store.keys import Scope
from tests.conftest import make_key
from tests.contract.harness import Harness, SandboxAdmin
from tests.faults.secrets_scan import scan

PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def api(
    harness: Harness, admin: SandboxAdmin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    # The production retry policy's bounds with short waits, so a CRM that keeps failing is
    # given up on in well under a second (the app builds its clients with the default policy).
    fast = (3, 10.0, 0.01, 0.02, 0.05)
    monkeypatch.setattr(RetryPolicy.__init__, "__defaults__", fast)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'crm-problems.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={
            "org": harness.settings(),
            "untrusted": harness.settings(ca_bundle=tmp_path / "no-such-ca.pem"),
        },
        jobs=JobSettings(enabled=False),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _post(api: TestClient, customer: str, connection: str = "org") -> Any:
    body = {
        "connection": connection,
        "customer": customer,
        "id": "m-crm-problem",
        "channel": "chat",
        "text": "Giao hàng trễ, tôi rất thất vọng.",
    }
    return api.post(
        "/v1/interactions", json=body, headers={"X-API-Key": make_key(api, Scope.WRITE)}
    )


# fault kind -> (status, problem kind); every rule fails the CRM's data API, not its login.
FAULTS = {
    "error_5xx": (503, "crm-unavailable"),
    "rate_limited": (503, "crm-rate-limited"),
    "quota_exhausted": (503, "crm-quota-exhausted"),
    "expired_token": (502, "crm-misconfigured"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.needs("push_fields")  # POST /v1/interactions acts in a CRM we push to
def test_each_crm_failure_is_one_problem(
    harness: Harness, admin: SandboxAdmin, api: TestClient, fault: str
) -> None:
    if fault == "quota_exhausted" and harness.crm == "zalo":
        pytest.skip("Zalo states no daily API quota; its sandbox renders the fault as -32")
    if fault == "quota_exhausted" and not getattr(harness, "daily_quota", True):
        pytest.skip(f"{harness.crm} has no daily API quota to exhaust")
    customer = harness.customer_ids()[11]
    admin.faults([{"route": harness.api_routes, fault: 1.0, "retry_after_seconds": 2}])
    answer = _post(api, customer)
    status, kind = FAULTS[fault]
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    problem = answer.json()
    assert problem["type"] == f"urn:cem:problem:{kind}"
    assert problem["status"] == status
    assert harness.crm.lower()[:4] in problem["detail"].lower()  # names the CRM...
    # ... and the row of its error table that decided (the reason after the vendor's words).
    assert problem["detail"].rstrip().endswith(")")
    # HubSpot and Zendesk say how long to wait on a rate limit; Salesforce never does (§2.9).
    told = fault == "rate_limited" and harness.crm in ("hubspot", "zendesk")
    assert answer.headers.get("Retry-After") == ("2" if told else None)


@pytest.mark.needs("push_fields")  # POST /v1/interactions acts in a CRM we push to
def test_tls_is_a_bad_gateway_named_as_such(harness: Harness, api: TestClient) -> None:
    if harness.crm != "salesforce":
        pytest.skip("the HubSpot sandbox serves plain HTTP here")
    answer = _post(api, harness.customer_ids()[11], connection="untrusted")
    assert answer.status_code == 502, answer.text
    assert answer.json()["type"] == "urn:cem:problem:crm-tls"
    assert "CA bundle not found" in answer.json()["detail"]


@pytest.mark.needs("push_fields")  # POST /v1/interactions acts in a CRM we push to
def test_a_config_failure_logs_its_cause_without_a_secret(
    harness: Harness,
    admin: SandboxAdmin,
    api: TestClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The SDK's exception is kept as the cause and logged with the traceback (a person must
    act on it), and neither credentials nor the tokens the CRM issued reach the log."""
    customer = harness.customer_ids()[11]
    capsys.readouterr()
    admin.faults([{"route": harness.api_routes, "expired_token": 1.0}])
    assert _post(api, customer).status_code == 502
    logged = capsys.readouterr().err
    assert "CRM failure answered 502 crm-misconfigured" in logged
    assert "The above exception was the direct cause of the following exception" in logged
    sdk_error = "SalesforceExpiredSession" if harness.crm == "salesforce" else "Unauthorized"
    assert sdk_error in logged
    settings = harness.settings()
    secrets = [s.get_secret_value() for s in (settings.access_token, settings.client_secret) if s]
    assert scan([("log", logged)], secrets) == []


def test_missing_and_refused_records_are_404_and_422() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/missing")
    def missing() -> None:
        raise CrmNotFoundError("Salesforce 404 NOT_FOUND: gone", connection="org")

    @app.get("/refused")
    def refused() -> None:
        raise CrmRejectedError(
            "HubSpot refused 42: VALIDATION_ERROR", record_id="42", code="VALIDATION_ERROR"
        )

    with TestClient(app) as client:
        gone, bad = client.get("/missing"), client.get("/refused")
    assert (gone.status_code, gone.json()["type"]) == (404, "urn:cem:problem:crm-not-found")
    assert (bad.status_code, bad.json()["type"]) == (422, "urn:cem:problem:crm-rejected")
    assert "NOT_FOUND: gone" in gone.json()["detail"]
    assert gone.headers["content-type"].startswith(PROBLEM_JSON)
