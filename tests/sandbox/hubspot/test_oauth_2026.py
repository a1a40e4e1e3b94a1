"""HubSpot's date-versioned OAuth API (2026-03) in the sandbox, v1's retirement on 2027-02-16
(read on the sandbox clock), and `GET /crm/v3/schemas` for independent HubSpot clients."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from tests.sandbox.hubspot.conftest import TOKEN, Served

CLIENT = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}


def _refresh_token(hs: Served) -> str:
    answer = requests.post(f"{hs.url}/__sandbox/hubspot/oauth/refresh-token", timeout=5)
    token: str = answer.json()["refresh_token"]
    return token


def _post(hs: Served, path: str, **form: str) -> requests.Response:
    return requests.post(f"{hs.url}/oauth/2026-03/{path}", data=form, timeout=5)


def test_token_refresh_introspect_and_revoke(hs: Served) -> None:
    refresh = _refresh_token(hs)
    issued = _post(hs, "token", grant_type="refresh_token", refresh_token=refresh, **CLIENT)
    assert issued.status_code == 200, issued.text
    body: dict[str, Any] = issued.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    access = body["access_token"]
    assert hs.client(token=access).crm.contacts.basic_api.get_page().results == []

    info = _post(hs, "token/introspect", token=access, **CLIENT).json()
    assert info["active"] is True
    assert info["token_use"] == "access_token"
    assert 0 < info["expires_in"] <= 1800
    assert info["hub_id"] == hs.emu.config.portal_id
    refresh_info = _post(hs, "token/introspect", token=refresh, **CLIENT).json()
    assert (refresh_info["active"], refresh_info["token_use"]) == (True, "refresh_token")

    assert _post(hs, "token/revoke", token=refresh, **CLIENT).status_code == 200
    assert _post(hs, "token/introspect", token=refresh, **CLIENT).json() == {"active": False}
    assert _post(hs, "token/revoke", token="never-issued", **CLIENT).status_code == 200  # RFC 7009
    again = _post(hs, "token", grant_type="refresh_token", refresh_token=refresh, **CLIENT)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_errors_are_rfc_6749_bodies_with_hubspots_fields_kept(hs: Served) -> None:
    unknown = _post(hs, "token", grant_type="refresh_token", refresh_token="nope", **CLIENT)
    assert unknown.status_code == 400
    body = unknown.json()
    assert body["error"] == "invalid_grant"
    assert body["error_description"]
    assert body["status"] == "BAD_REFRESH_TOKEN"
    bad_secret = _post(
        hs, "token", grant_type="refresh_token", refresh_token=_refresh_token(hs),
        client_id="sandbox-client-id", client_secret="wrong",
    )  # fmt: skip
    assert bad_secret.json()["error"] == "invalid_client"
    grant = _post(hs, "token", grant_type="password", **CLIENT)
    assert grant.json()["error"] == "unsupported_grant_type"
    assert _post(hs, "token/introspect", token="x", client_id="other").json()["error"] == (
        "invalid_client"
    )


def test_v1_works_with_sunset_headers_until_2027_02_16_then_is_gone(hs: Served) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": _refresh_token(hs), **CLIENT}
    hs.emu.sandbox.clock.set(datetime(2027, 2, 15, 23, 59, 59, tzinfo=UTC))
    old = requests.post(f"{hs.url}/oauth/v1/token", data=form, timeout=5)
    assert old.status_code == 200
    assert old.headers["Sunset"] == "Tue, 16 Feb 2027 00:00:00 GMT"
    assert old.headers["Deprecation"] == "true"

    hs.emu.sandbox.clock.set(datetime(2027, 2, 16, tzinfo=UTC))
    gone = requests.post(f"{hs.url}/oauth/v1/token", data=form, timeout=5)
    assert gone.status_code == 410
    assert "/oauth/2026-03/token" in gone.json()["error_description"]
    for method, path in (
        ("GET", "/oauth/v1/access-tokens/x"),
        ("GET", "/oauth/v1/refresh-tokens/x"),
        ("DELETE", "/oauth/v1/refresh-tokens/x"),
    ):
        assert requests.request(method, f"{hs.url}{path}", timeout=5).status_code == 410
    # The replacement keeps working after the date.
    new = _post(hs, "token", **form)
    assert new.status_code == 200


def test_schemas_lists_no_custom_objects_in_hubspots_shape(hs: Served) -> None:
    answer = requests.get(
        f"{hs.url}/crm/v3/schemas", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert answer.status_code == 200
    assert answer.json() == {"results": []}
    # The real client's schemas API parses it (what the Singer tap and others call).
    assert hs.client().crm.schemas.core_api.get_all().results == []
    denied = requests.get(
        f"{hs.url}/crm/v3/schemas",
        headers={"Authorization": "Bearer pat-contacts-read-only"},
        timeout=5,
    )
    assert denied.status_code == 403
