"""`GET /v1/keys` pages through keys like every other list, revoked ones only on request."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.store.keys import Scope
from tests.conftest import make_key


def test_keys_are_paged_and_revoked_ones_hidden_by_default(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for _ in range(4):
        make_key(client, Scope.READ)
    first = client.get("/v1/keys", params={"limit": "3"}, headers=admin_headers).json()
    second = client.get(
        "/v1/keys", params={"limit": "3", "cursor": first["next_cursor"]}, headers=admin_headers
    ).json()
    ids = [k["id"] for k in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 5  # four read keys and the admin's own
    assert second["next_cursor"] is None

    client.delete(f"/v1/keys/{ids[-1]}", headers=admin_headers)
    active = client.get("/v1/keys", headers=admin_headers).json()["items"]
    assert ids[-1] not in [k["id"] for k in active]
    everything = client.get(
        "/v1/keys", params={"include_revoked": "true", "sort": "-created_at"}, headers=admin_headers
    ).json()["items"]
    assert everything[0]["id"] == ids[-1]
    assert everything[0]["revoked_at"] is not None

    bad = client.get("/v1/keys", params={"cursor": "not-a-cursor"}, headers=admin_headers)
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
