"""Every operation the app serves is in one table of who may call it, generated from the code.

`service.api.access.route_access` walks the app's routes and their auth dependencies; its table
must equal `EXPECTED` below (the reviewed list: a scope changed in code fails here until someone
agrees), cover exactly the operations of the app's OpenAPI document, and be what docs/security.md
shows (`CEM_WRITE_DOCS=1` rewrites that section). Each row is then called three ways: without a
key (401), with a key one scope too low (403 problem+json) and with exactly the scope it needs
(neither). Per-resource rules (`note`) have their own tests below.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text

from adapters.registry import connection_settings
from service.api.access import BEGIN, END, markdown, route_access
from service.api.services import services_of
from service.config import Settings
from service.jobs.customer_jobs import ERASE
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
    ("GET", "/v1/customers/{customer_id}/identity"): Scope.READ,
    ("POST", "/v1/customers/{customer_id}/identity/links"): Scope.WRITE,
    ("DELETE", "/v1/customers/{customer_id}/identity/links/{link_id}"): Scope.WRITE,
    ("POST", "/v1/interactions"): Scope.WRITE,
    ("GET", "/v1/jobs"): Scope.READ,
    ("GET", "/v1/jobs/{job_id}"): Scope.READ,
    ("POST", "/v1/jobs/{job_id}/cancel"): Scope.WRITE,
    ("POST", "/v1/jobs/{job_id}/resume"): Scope.WRITE,
    ("GET", "/v1/keys"): Scope.ADMIN,
    ("GET", "/v1/models/churn"): Scope.READ,
    ("POST", "/v1/models/churn/train"): Scope.WRITE,
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
    ("POST", "/v1/webhooks/{kind}"): SIGNATURE,
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
    "kind": "hubspot",  # POST /v1/webhooks/{kind}: checked with HubSpot's signature
    "link_id": "1",
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
            "hs": connection_settings(kind="hubspot", webhook_secret=SecretStr(WEBHOOK_SECRET)),
            "sf": connection_settings(
                kind="salesforce", webhook_secret=SecretStr(SALESFORCE_SECRET)
            ),
        },
        jobs={"enabled": False},  # no background threads: only the routes are under test
        webhooks={"enabled": False},
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


DOC = Path(__file__).parents[2] / "docs" / "security.md"
# The generated table, as the tests below walk it (an app without a database is enough).
TABLE = route_access(create_app(Settings(database_url="sqlite://", auto_migrate=False)))  # type: ignore[arg-type]
ROWS = {(r.method, r.path): r for r in TABLE}


def test_the_generated_table_is_the_reviewed_one(app_client: TestClient) -> None:
    generated = {key: row.access for key, row in ROWS.items()}
    expected = {key: str(getattr(a, "value", a)) for key, a in EXPECTED.items()}
    assert generated == expected, (
        "service.api.access reads other scopes from the code than EXPECTED in "
        f"tests/security/test_route_scopes.py: {set(generated.items()) ^ set(expected.items())}"
    )
    assert set(ROWS) == operations(app_client.app)  # type: ignore[arg-type]


def test_the_doc_shows_the_generated_table() -> None:
    text = DOC.read_text()
    table = markdown(TABLE)
    start, end = text.find(BEGIN), text.find(END)
    assert start >= 0, f"docs/security.md lacks the {BEGIN} line"
    assert end > start, f"docs/security.md lacks the {END} line after {BEGIN}"
    current = text[start : end + len(END)]
    if current != table and os.environ.get("CEM_WRITE_DOCS") == "1":
        DOC.write_text(text.replace(current, table))
        return
    assert current == table, (
        "docs/security.md's route-scope table is stale: run "
        "`CEM_WRITE_DOCS=1 .venv/bin/pytest tests/security/test_route_scopes.py -k doc`"
    )


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
    ("method", "path"), sorted(ROWS), ids=[f"{m} {p}" for m, p in sorted(ROWS)]
)
def test_operation_enforces_its_scope(app_client: TestClient, method: str, path: str) -> None:
    row = ROWS[(method, path)]
    access: Access = Scope(row.access) if row.access not in {PUBLIC, SIGNATURE} else row.access
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
        services_of(app_client.app).keys.revoke(revoked.split("_")[1])
        assert_problem(
            app_client.request(method, url, json={}, headers={"X-API-Key": revoked}), 401
        )
    right = make_key(app_client, access)
    response = app_client.request(
        method, url, json={}, headers={"Authorization": f"Bearer {right}"}
    )
    assert response.status_code not in {401, 403}, response.text


HUBSPOT_SIGNED = {
    "/v1/crm-events/hubspot/{connection}",
    "/v1/webhooks/hubspot",
    "/v1/webhooks/{kind}",
}
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


@pytest.mark.parametrize("action", ["cancel", "resume"])
def test_only_admins_cancel_or_resume_an_erasure(app_client: TestClient, action: str) -> None:
    """A write key stopping an erasure would leave the customer suppressed but not erased."""
    queue = services_of(app_client.app).jobs
    job = queue.submit(ERASE, params={"customer_id": "f" * 32})
    if action == "resume":
        engine = services_of(app_client.app).engine
        with engine.begin() as connection:  # a paused erasure
            connection.execute(
                text("UPDATE jobs SET state = 'paused' WHERE id = :id"), {"id": job.id}
            )
    url = f"/v1/jobs/{job.id}/{action}"
    writer = {"X-API-Key": make_key(app_client, Scope.WRITE)}
    body = assert_problem(app_client.post(url, headers=writer), 403)
    assert "admin" in str(body["detail"])
    assert queue.get(job.id).state == ("paused" if action == "resume" else "queued")
    admin = {"X-API-Key": make_key(app_client, Scope.ADMIN)}
    answer = app_client.post(url, headers=admin)
    assert answer.status_code == 202, answer.text
    queue.cancel(job.id)
