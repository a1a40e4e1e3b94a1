"""Every operation the app serves is in one explicit table of who may call it.

The table is compared with the app's real operations (read from its own OpenAPI document, so
routers nested at any depth are included), then each operation is called three ways: without a
key (401), with a key one scope too low (403) and with exactly the scope it needs (neither). A
new route that is missing from the table fails here with a message saying where to add it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.config import ConnectionSettings, CrmKind, Settings
from service.main import create_app
from service.store.keys import Scope
from service.webhooks.signing import new_secret
from service.webhooks.signing import signed_headers as standard_headers
from tests.api.test_errors import assert_problem
from tests.conftest import make_key
from tests.security.hubspot_signing import signed_headers

PUBLIC = "public"  # no credentials at all
SIGNATURE = "signature"  # a CRM's own request signature instead of an API key
Access = Scope | str

# (METHOD, path template) -> who may call it. Keep it sorted by path; add every new route here.
EXPECTED: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/v1/accounts/{account_id}"): Scope.READ,
    ("POST", "/v1/crm-events/hubspot/{connection}"): SIGNATURE,
    ("GET", "/v1/customers"): Scope.READ,
    ("DELETE", "/v1/customers/{customer_id}"): Scope.ADMIN,
    ("GET", "/v1/customers/{customer_id}"): Scope.READ,
    ("POST", "/v1/customers/{customer_id}/rescore"): Scope.WRITE,
    ("POST", "/v1/interactions"): Scope.WRITE,
    ("GET", "/v1/jobs"): Scope.READ,
    ("GET", "/v1/jobs/{job_id}"): Scope.READ,
    ("POST", "/v1/jobs/{job_id}/cancel"): Scope.WRITE,
    ("POST", "/v1/jobs/{job_id}/resume"): Scope.WRITE,
    ("GET", "/v1/keys"): Scope.ADMIN,
    ("POST", "/v1/keys"): Scope.ADMIN,
    ("DELETE", "/v1/keys/{key_id}"): Scope.ADMIN,
    ("GET", "/v1/reports/{metric}"): Scope.READ,
    ("POST", "/v1/score"): Scope.READ,
    ("POST", "/v1/sentiment"): Scope.READ,
    ("POST", "/v1/syncs"): Scope.WRITE,
    ("GET", "/v1/webhooks/subscriptions"): Scope.ADMIN,
    ("POST", "/v1/webhooks/subscriptions"): Scope.ADMIN,
    ("DELETE", "/v1/webhooks/subscriptions/{subscription_id}"): Scope.ADMIN,
    ("GET", "/v1/webhooks/subscriptions/{subscription_id}"): Scope.ADMIN,
    ("GET", "/v1/webhooks/subscriptions/{subscription_id}/deliveries"): Scope.ADMIN,
    ("POST", "/v1/webhooks/hubspot"): SIGNATURE,
    ("POST", "/v1/webhooks/salesforce"): SIGNATURE,
}


# The scope one step below; READ is the lowest, so for it a revoked key stands in (401).
LOWER = {Scope.WRITE: Scope.READ, Scope.ADMIN: Scope.WRITE}

# Values for path parameters that pass their patterns and name nothing that exists.
PATH_VALUES = {
    "key_id": "0123456789ab",
    "job_id": "0" * 32,
    "subscription_id": "0" * 32,
    "connection": "hs",
    "customer_id": "0" * 32,
    "account_id": "0" * 32,
    "metric": "nps",
}
WEBHOOK_SECRET = "route-scope-test-secret"
SALESFORCE_SECRET = new_secret()  # Standard Webhooks (whsec_…), as Salesforce connections use


def operations(app: FastAPI) -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation the app documents, at any router depth."""
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def concrete(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"add a value for the path parameter of {path} to PATH_VALUES"
    return path


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = Path(tmp_path_factory.mktemp("scopes")) / "cem.db"
    settings = Settings(
        database_url=SecretStr(f"sqlite:///{db}"),
        log_format="text",  # type: ignore[arg-type]
        connections={
            # No base URL: a signed delivery gets past authentication and fails after it.
            "hs": ConnectionSettings(
                kind=CrmKind.HUBSPOT, webhook_secret=SecretStr(WEBHOOK_SECRET)
            ),
            "sf": ConnectionSettings(
                kind=CrmKind.SALESFORCE, webhook_secret=SecretStr(SALESFORCE_SECRET)
            ),
        },
        jobs={"enabled": False},  # no background threads: only the routes are under test
        webhooks={"enabled": False},
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_every_operation_is_in_the_table(app_client: TestClient) -> None:
    served = operations(app_client.app)  # type: ignore[arg-type]
    missing = sorted(served - EXPECTED.keys())
    assert not missing, (
        "these operations are not in the scope table: add each to EXPECTED in "
        f"tests/security/test_route_scopes.py with its scope, PUBLIC or SIGNATURE: {missing}"
    )
    gone = sorted(EXPECTED.keys() - served)
    assert not gone, f"EXPECTED lists operations the app no longer serves; remove them: {gone}"


@pytest.mark.parametrize(
    ("method", "path"), sorted(EXPECTED), ids=[f"{m} {p}" for m, p in sorted(EXPECTED)]
)
def test_operation_enforces_its_scope(app_client: TestClient, method: str, path: str) -> None:
    access = EXPECTED[(method, path)]
    url = concrete(path)
    if access == PUBLIC:
        response = app_client.request(method, url)
        assert response.status_code not in {401, 403}, response.text
        return
    if access == SIGNATURE:
        _check_signed(app_client, method, path, url)
        return
    assert isinstance(access, Scope)
    body = assert_problem(app_client.request(method, url, json={}), 401)
    assert body["type"] == "urn:cem:problem:unauthenticated"
    if access in LOWER:
        lower = make_key(app_client, LOWER[access])
        body = assert_problem(
            app_client.request(method, url, json={}, headers={"X-API-Key": lower}), 403
        )
        assert access.value in str(body["detail"])
    else:
        revoked = make_key(app_client, Scope.ADMIN)
        app_client.app.state.keys.revoke(revoked.split("_")[1])  # type: ignore[attr-defined]
        assert_problem(
            app_client.request(method, url, json={}, headers={"X-API-Key": revoked}), 401
        )
    right = make_key(app_client, access)
    response = app_client.request(
        method, url, json={}, headers={"Authorization": f"Bearer {right}"}
    )
    assert response.status_code not in {401, 403}, response.text


HUBSPOT_SIGNED = {"/v1/crm-events/hubspot/{connection}", "/v1/webhooks/hubspot"}
SALESFORCE_SIGNED = {"/v1/webhooks/salesforce"}


def _check_signed(client: TestClient, method: str, path: str, url: str) -> None:
    body = b"[]"
    admin = make_key(client, Scope.ADMIN)  # an API key is no substitute for the signature
    unsigned = client.request(
        method, url, content=body, headers={"X-API-Key": admin, "Content-Type": "application/json"}
    )
    assert_problem(unsigned, 401)
    if path in HUBSPOT_SIGNED:
        signed = signed_headers(WEBHOOK_SECRET, method, str(client.base_url.join(url)), body)
        forged = {**signed, "X-HubSpot-Signature-v3": base64.b64encode(b"x" * 32).decode()}
    elif path in SALESFORCE_SIGNED:
        signed = {
            **standard_headers(SALESFORCE_SECRET, "msg_1", int(time.time()), body),
            "Content-Type": "application/json",
        }
        forged = {**signed, "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}
    else:
        pytest.fail(f"no signature recipe for {method} {path}: add one to _check_signed")
    assert_problem(client.request(method, url, content=body, headers=forged), 401)
    response = client.request(method, url, content=body, headers=signed)
    assert response.status_code not in {401, 403}, response.text
