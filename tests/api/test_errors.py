"""Every error is RFC 9457 problem+json with the right status; no stack trace ever leaks."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from service.api.problems import PROBLEM_JSON
from service.config import ApiSettings, Settings
from service.main import create_app
from service.store.keys import Scope
from tests.conftest import make_key

PUBLIC = {"/healthz", "/readyz", "/metrics"}
# Authenticated by the CRM's own signature instead of an API key (CRMs cannot send our keys).
SIGNED = {
    "/v1/crm-events/hubspot/{connection}",
    "/v1/webhooks/hubspot",
    "/v1/webhooks/salesforce",
    "/v1/webhooks/{kind}",
}


def assert_problem(response: Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    assert "Traceback" not in response.text
    return dict(body)


def _api_operations(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every protected operation, read from the app's own OpenAPI document."""
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path not in PUBLIC | SIGNED
        for method in operations
    ]


def _concrete(path: str) -> str:
    # Fill path parameters with values that pass their patterns but name nothing.
    return path.replace("{key_id}", "0123456789ab")


def test_every_protected_route_needs_a_key(client: TestClient) -> None:
    operations = _api_operations(client.app)  # type: ignore[arg-type]
    assert len(operations) >= 3, operations
    for method, path in operations:
        response = client.request(method, _concrete(path), json={})
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert body["type"] == "urn:cem:problem:unauthenticated"


def test_every_protected_route_rejects_an_unknown_key(client: TestClient) -> None:
    headers = {"Authorization": "Bearer cem_0123456789ab_" + "0" * 64}
    for method, path in _api_operations(client.app):  # type: ignore[arg-type]
        assert_problem(client.request(method, _concrete(path), headers=headers), 401)


def test_wrong_scope_is_403(client: TestClient, read_headers: dict[str, str]) -> None:
    body = assert_problem(client.get("/v1/keys", headers=read_headers), 403)
    assert "admin" in str(body["detail"])


def test_x_api_key_header_is_accepted(client: TestClient) -> None:
    key = make_key(client, Scope.ADMIN)
    assert client.get("/v1/keys", headers={"X-API-Key": key}).status_code == 200


def test_unknown_path_is_404(client: TestClient) -> None:
    assert_problem(client.get("/v1/nowhere"), 404)


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.put("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


def test_validation_error_lists_failing_fields(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post("/v1/keys", json={"name": "", "scopes": ["root"]}, headers=admin_headers)
    body = assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"body.name", "body.scopes.0"}
    assert "root" not in response.text  # input values are not echoed back


def test_malformed_json_is_422(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(
        "/v1/keys",
        content=b'{"name": "x", "scopes": [',
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 422)


def test_bad_path_parameter_is_422(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert_problem(client.delete("/v1/keys/not-a-key-id", headers=admin_headers), 422)


def test_non_json_body_is_415(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(
        "/v1/keys",
        content=b"name=x",
        headers={**admin_headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)


def test_declared_oversized_body_is_413(tmp_path: object, settings: Settings) -> None:
    small = settings.model_copy(update={"api": ApiSettings(max_body_bytes=64)})
    with TestClient(create_app(small)) as client:
        response = client.post("/v1/keys", json={"name": "x" * 200, "scopes": ["read"]})
    body = assert_problem(response, 413)
    assert body["max_bytes"] == 64


def test_streamed_oversized_body_is_413(settings: Settings) -> None:
    small = settings.model_copy(update={"api": ApiSettings(max_body_bytes=64)})

    def chunks() -> object:
        yield b'{"name": "'
        yield b"x" * 500
        yield b'", "scopes": ["read"]}'

    with TestClient(create_app(small)) as client:
        response = client.post(
            "/v1/keys", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert_problem(response, 413)


def test_rate_limit_per_key_is_429_with_retry_after(settings: Settings) -> None:
    limited = settings.model_copy(update={"api": ApiSettings(rate_limit_per_minute=3)})
    with TestClient(create_app(limited)) as client:
        key_a = make_key(client, Scope.ADMIN)
        key_b = make_key(client, Scope.ADMIN)
        statuses = [
            client.get("/v1/keys", headers={"X-API-Key": key_a}).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited_response = client.get("/v1/keys", headers={"X-API-Key": key_a})
        body = assert_problem(limited_response, 429)
        assert int(limited_response.headers["retry-after"]) >= 1
        assert body["retry_after"] == int(limited_response.headers["retry-after"])
        # Another key has its own budget.
        assert client.get("/v1/keys", headers={"X-API-Key": key_b}).status_code == 200


def test_unexpected_error_is_500_problem_without_trace(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("incoming", ["abc-123", "x" * 129, "bad id\n"])
def test_request_id_is_echoed_only_when_safe(client: TestClient, incoming: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": incoming.strip()})
    returned = response.headers["x-request-id"]
    if incoming == "abc-123":
        assert returned == "abc-123"
    else:
        assert returned != incoming.strip()
        assert len(returned) == 32
