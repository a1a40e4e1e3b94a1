"""OAuth: token endpoint, 1800 s expiry on the sandbox clock, refresh, scopes, auth codes."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.contacts import ApiException
from hubspot.oauth import ApiException as OAuthApiException

from tests.sandbox.hubspot.conftest import Served

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"  # the defaults of OAuthApp


def _refresh_token(hs: Served) -> str:
    answer = requests.post(f"{hs.url}/__sandbox/hubspot/oauth/refresh-token", timeout=5)
    token: str = answer.json()["refresh_token"]
    return token


def _refresh(hs: Served, refresh_token: str, secret: str = CLIENT_SECRET) -> str:
    issued = hs.client(token="").oauth.tokens_api.create(
        grant_type="refresh_token",
        refresh_token=refresh_token,
        client_id=CLIENT_ID,
        client_secret=secret,
    )
    assert issued.expires_in == 1800
    assert issued.token_type == "bearer"
    assert issued.refresh_token == refresh_token
    token: str = issued.access_token
    return token


def test_expired_token_then_refresh_then_success(hs: Served) -> None:
    refresh_token = _refresh_token(hs)
    client: HubSpot = hs.client(token=_refresh(hs, refresh_token))
    _, status, headers = client.crm.contacts.basic_api.get_page_with_http_info()
    assert status == 200
    assert "X-HubSpot-RateLimit-Daily" not in headers  # OAuth calls omit the daily pair

    hs.emu.sandbox.clock.advance(1803)
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.basic_api.get_page()
    assert raised.value.status == 401
    body = json.loads(raised.value.body)
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    assert body["message"] == "The OAuth token used to make this call expired 3 second(s) ago."

    fresh = hs.client(token=_refresh(hs, refresh_token))
    assert fresh.crm.contacts.basic_api.get_page().results == []


def test_expired_token_fault_forces_a_refresh(hs: Served) -> None:
    refresh_token = _refresh_token(hs)
    client = hs.client(token=_refresh(hs, refresh_token))
    requests.put(
        f"{hs.url}/__sandbox/faults",
        json={"rules": [{"route": "GET *", "expired_token": 1.0, "times": 1}]},
        timeout=5,
    )
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.basic_api.get_page()
    assert raised.value.status == 401
    with pytest.raises(ApiException):  # the old token really is dead now
        client.crm.contacts.basic_api.get_page()
    assert (
        hs.client(token=_refresh(hs, refresh_token)).crm.contacts.basic_api.get_page() is not None
    )


def test_bad_refresh_token_and_bad_secret_are_400_with_oauth_status(hs: Served) -> None:
    with pytest.raises(OAuthApiException) as unknown:
        _refresh(hs, "not-a-refresh-token")
    assert unknown.value.status == 400
    assert json.loads(unknown.value.body)["status"] == "BAD_REFRESH_TOKEN"
    with pytest.raises(OAuthApiException) as secret:
        _refresh(hs, _refresh_token(hs), secret="wrong")
    assert json.loads(secret.value.body)["status"] == "BAD_CLIENT_SECRET"


def test_authorization_code_flow_with_scopes(hs: Served) -> None:
    answer = requests.get(
        f"{hs.url}/oauth/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": "http://localhost:9/callback",
            "scope": "crm.objects.contacts.read",
            "state": "s-1",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    query = parse_qs(urlparse(answer.headers["location"]).query)
    assert query["state"] == ["s-1"]
    code = query["code"][0]

    tokens = hs.client(token="").oauth.tokens_api
    issued = tokens.create(
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://localhost:9/callback",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    scoped = hs.client(token=issued.access_token)
    assert scoped.crm.contacts.basic_api.get_page().results == []
    with pytest.raises(CompaniesApiException) as forbidden:
        scoped.crm.companies.basic_api.get_page()
    assert forbidden.value.status == 403

    with pytest.raises(OAuthApiException) as reused:
        tokens.create(
            grant_type="authorization_code",
            code=code,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
    assert json.loads(reused.value.body)["status"] == "BAD_AUTH_CODE"


def test_auth_code_older_than_ten_minutes_is_expired(hs: Served) -> None:
    code = hs.emu.tokens.authorize(CLIENT_ID, None)
    hs.emu.sandbox.clock.advance(601)
    with pytest.raises(OAuthApiException) as raised:
        hs.client(token="").oauth.tokens_api.create(
            grant_type="authorization_code",
            code=code,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
    assert json.loads(raised.value.body)["status"] == "EXPIRED_AUTH_CODE"


def test_refresh_token_info_and_revocation(hs: Served) -> None:
    refresh_token = _refresh_token(hs)
    oauth = hs.client(token="").oauth.refresh_tokens_api
    info = oauth.get(refresh_token)
    assert info.token_type == "refresh"
    assert info.client_id == CLIENT_ID
    oauth.archive(refresh_token)
    with pytest.raises(OAuthApiException) as raised:
        _refresh(hs, refresh_token)
    assert json.loads(raised.value.body)["status"] == "BAD_REFRESH_TOKEN"
