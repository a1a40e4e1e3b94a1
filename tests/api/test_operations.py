"""Health, readiness, metrics and key management over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.api.services import replace_services
from service.store.database import make_engine


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_checks_the_database(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ready", "database": "ok"}
    app = client.app
    replace_services(app, engine=make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")


def test_metrics_count_requests_by_route_template(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.get("/healthz")
    client.delete("/v1/keys/0123456789ab", headers=admin_headers)
    text = client.get("/metrics").text
    assert 'cem_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/v1/keys/{key_id}",status="404"' in text
    assert "0123456789ab" not in text  # raw ids never become labels


def test_key_lifecycle_over_http(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(
        "/v1/keys", json={"name": "zapier", "scopes": ["read"]}, headers=admin_headers
    )
    assert created.status_code == 201
    new = created.json()
    assert new["key"].startswith(f"cem_{new['id']}_")
    reader = {"Authorization": f"Bearer {new['key']}"}
    assert client.get("/v1/keys", headers=reader).status_code == 403  # read < admin
    listed = client.get("/v1/keys", headers=admin_headers).json()["items"]
    assert new["id"] in {k["id"] for k in listed}
    assert all("key" not in k and "key_hash" not in k for k in listed)
    revoked = client.delete(f"/v1/keys/{new['id']}", headers=admin_headers)
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/v1/keys", headers=reader).status_code == 401
    listed = client.get("/v1/keys", headers=admin_headers).json()["items"]
    assert new["id"] not in {k["id"] for k in listed}
    everything = client.get("/v1/keys?include_revoked=true", headers=admin_headers).json()
    assert new["id"] in {k["id"] for k in everything["items"]}


def test_a_well_formed_request_id_is_echoed_and_others_replaced(client: TestClient) -> None:
    """Issue 16: a caller's X-Request-ID is kept (1-128 of [A-Za-z0-9._-]) and echoed."""
    for kept in ("abc-123", "a.b_c-D", "x" * 128):
        answer = client.get("/healthz", headers={"X-Request-ID": kept})
        assert answer.headers["x-request-id"] == kept
    for bad in ("x" * 129, "has space", "semi;colon", "caf\xe9".encode("latin-1"), ""):
        answer = client.get("/healthz", headers={"X-Request-ID": bad})
        replaced = answer.headers["x-request-id"]
        assert replaced != bad
        assert len(replaced) == 32
        assert replaced.isalnum()
    # Problem responses carry it too (what a caller quotes in a support ticket).
    missing = client.get("/v1/jobs/" + "0" * 32, headers={"X-Request-ID": "trace-7"})
    assert missing.status_code == 401
    assert missing.headers["x-request-id"] == "trace-7"
