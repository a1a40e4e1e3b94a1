"""Login flows, session expiry and refresh, the daily quota, faults and the HTML view."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from sandbox.core.server import SandboxServer
from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.routing import sandbox_login_session

PASSWORD = "cem-sandbox-password"
SECRET = "cem-sandbox-consumer-secret"


def _login(server: SandboxServer, emu: SalesforceEmulator, **kwargs: Any) -> Salesforce:
    session = sandbox_login_session(
        server.base_url, server.ca_path, ("https://acme.my.salesforce.com",)
    )
    return Salesforce(session=session, **kwargs)


def _count(admin: requests.Session, server: SandboxServer, glob: str) -> int:
    body = admin.get(f"{server.base_url}/__sandbox/requests", params={"path_glob": glob}).json()
    return int(body["count"])


def test_password_login_then_expiry_triggers_relogin(
    sf_server: SandboxServer, emulator: SalesforceEmulator, admin: requests.Session
) -> None:
    sf = _login(
        sf_server,
        emulator,
        username=emulator.config.username,
        password=PASSWORD,
        consumer_key=emulator.config.client_id,
        consumer_secret=SECRET,
    )
    assert sf.sf_instance == f"127.0.0.1:{sf_server.port}"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] > 0
    first_token = sf.session_id
    admin.post(f"{sf_server.base_url}/__sandbox/clock", json={"advance": 7201}).raise_for_status()
    # The old token now gets 401 INVALID_SESSION_ID; the client logs in again and retries.
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] > 0
    assert sf.session_id != first_token
    assert _count(admin, sf_server, "/services/oauth2/token") == 2
    statuses = [
        e["status"] for e in admin.get(f"{sf_server.base_url}/__sandbox/requests").json()["entries"]
    ]
    assert 401 in statuses


def test_direct_session_expiry_is_a_401_with_the_real_body(
    sf: Salesforce, sf_server: SandboxServer, admin: requests.Session
) -> None:
    admin.delete(f"{sf_server.base_url}/__sandbox/salesforce/sessions").raise_for_status()
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Contact LIMIT 1")
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_soap_client_credentials_and_wrong_password(
    sf_server: SandboxServer, emulator: SalesforceEmulator
) -> None:
    soap = _login(
        sf_server, emulator, username=emulator.config.username, password=PASSWORD, security_token=""
    )
    assert soap.query("SELECT COUNT() FROM User")["totalSize"] >= 1
    creds = _login(
        sf_server,
        emulator,
        consumer_key=emulator.config.client_id,
        consumer_secret=SECRET,
        domain="acme.my",
    )
    assert creds.query("SELECT COUNT() FROM User")["totalSize"] >= 1
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        _login(
            sf_server,
            emulator,
            username=emulator.config.username,
            password="wrong",
            security_token="",
        )
    assert "INVALID_LOGIN" in str(caught.value)
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid_client"):
        _login(
            sf_server,
            emulator,
            username=emulator.config.username,
            password=PASSWORD,
            consumer_key=emulator.config.client_id,
            consumer_secret="wrong",
        )


def test_jwt_bearer_and_refresh_token_grants(
    sf_server: SandboxServer, emulator: SalesforceEmulator, admin: requests.Session
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sf = _login(
        sf_server,
        emulator,
        username=emulator.config.username,
        consumer_key=emulator.config.client_id,
        privatekey=pem.decode(),
    )
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] >= 1
    # simple-salesforce also warns that the user may need to approve the app: that is the
    # real error text it reacts to.
    with pytest.raises(SalesforceAuthenticationFailed), pytest.warns(UserWarning, match="approve"):
        _login(
            sf_server,
            emulator,
            username="someone@else.example",
            consumer_key=emulator.config.client_id,
            privatekey=pem.decode(),
        )
    expired = jwt.encode(
        {
            "iss": emulator.config.client_id,
            "sub": emulator.config.username,
            "aud": "https://login.salesforce.com",
            "exp": int(time.time()) - 600,
        },
        pem,
        algorithm="RS256",
    )
    token_url = f"{sf_server.base_url}/services/oauth2/token"
    bad = admin.post(
        token_url,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": expired},
    )
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")
    minted = admin.post(
        f"{sf_server.base_url}/__sandbox/salesforce/sessions", json={"with_refresh_token": True}
    ).json()
    refreshed = admin.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": minted["refresh_token"],
            "client_id": emulator.config.client_id,
            "client_secret": SECRET,
        },
    ).json()
    assert "expires_in" not in refreshed
    assert refreshed["access_token"] != minted["access_token"]
    assert refreshed["instance_url"] == sf_server.base_url
    unsupported = admin.post(token_url, data={"grant_type": "magic"}).json()
    assert unsupported["error"] == "unsupported_grant_type"


def test_daily_quota_spent_is_403_request_limit_exceeded(
    sf: Salesforce, sf_server: SandboxServer, admin: requests.Session
) -> None:
    limits = f"{sf_server.base_url}/__sandbox/salesforce/limits"
    admin.put(limits, json={"daily_max": 50, "used": 47}).raise_for_status()
    sf.query("SELECT Id FROM Contact LIMIT 1")
    assert sf.api_usage["api-usage"].used == 48
    assert sf.api_usage["api-usage"].total == 50
    remaining = sf.limits()["DailyApiRequests"]
    assert remaining == {"Max": 50, "Remaining": 1}
    sf.query("SELECT Id FROM Contact LIMIT 1")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Contact LIMIT 1")
    assert caught.value.status == 403
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    # The window rolls after 24 hours of sandbox time.
    admin.post(f"{sf_server.base_url}/__sandbox/clock", json={"advance": 86_401}).raise_for_status()
    fresh = admin.post(f"{sf_server.base_url}/__sandbox/salesforce/sessions", json={}).json()
    sf.session_id = fresh["access_token"]
    sf.headers["Authorization"] = "Bearer " + fresh["access_token"]
    sf.query("SELECT Id FROM Contact LIMIT 1")
    assert sf.api_usage["api-usage"].used == 1


def test_limit_info_header_is_on_errors_too(sf: Salesforce) -> None:
    response = sf.session.get(
        f"{sf.base_url}sobjects/Contact/003000000000000AAA", headers=sf.headers
    )
    assert response.status_code == 404
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_injected_faults_render_as_salesforce_errors(
    sf: Salesforce, sf_server: SandboxServer, admin: requests.Session
) -> None:
    faults = f"{sf_server.base_url}/__sandbox/faults"
    contact = sf.Contact.create({"LastName": "Locked"})
    admin.put(
        faults,
        json={
            "rules": [{"route": "PATCH */sobjects/Contact/*", "unable_to_lock_row": 1, "times": 1}]
        },
    ).raise_for_status()
    with pytest.raises(SalesforceMalformedRequest) as locked:
        sf.Contact.update(contact["id"], {"FirstName": "x"})
    assert locked.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Contact.update(contact["id"], {"FirstName": "x"}) == 204
    admin.put(
        faults, json={"rules": [{"route": "GET */query*", "error_5xx": 1, "times": 1}]}
    ).raise_for_status()
    with pytest.raises(SalesforceGeneralError) as unavailable:
        sf.query("SELECT Id FROM Contact LIMIT 1")
    assert unavailable.value.status == 503
    admin.put(
        faults, json={"rules": [{"route": "GET */query*", "rate_limited": 1, "times": 1}]}
    ).raise_for_status()
    with pytest.raises(SalesforceRefusedRequest) as concurrent:
        sf.query("SELECT Id FROM Contact LIMIT 1")
    assert "ConcurrentPerOrgLongTxn" in concurrent.value.content[0]["message"]
    admin.put(
        faults,
        json={
            "rules": [{"route": "GET */query*", "timeout": 1, "timeout_seconds": 1.5, "times": 1}]
        },
    ).raise_for_status()
    with pytest.raises(requests.exceptions.ReadTimeout):
        sf.query("SELECT Id FROM Contact LIMIT 1", timeout=0.5)
    admin.put(
        faults, json={"rules": [{"route": "GET */query*", "expired_token": 1, "times": 1}]}
    ).raise_for_status()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact LIMIT 1")
    with pytest.raises(SalesforceExpiredSession):  # the token really was revoked
        sf.query("SELECT Id FROM Contact LIMIT 1")


def test_view_lists_searches_and_shows_a_timeline(
    sf: Salesforce, sf_server: SandboxServer, admin: requests.Session
) -> None:
    contact = sf.query("SELECT Id, Name, Email FROM Contact LIMIT 1")["records"][0]
    sf.Task.create({"WhoId": contact["Id"], "Subject": "Call back <soon>", "Status": "Not Started"})
    listing = admin.get(
        f"{sf_server.base_url}/__sandbox/view/contacts", params={"q": contact["Email"]}
    )
    assert listing.status_code == 200
    assert "1 match(es)" in listing.text
    detail = admin.get(f"{sf_server.base_url}/__sandbox/view/contacts/{contact['Id']}").text
    assert contact["Email"] in detail
    assert "Call back &lt;soon&gt;" in detail
    assert detail.index("Call back") < detail.index("<h2>Timeline</h2>")
    assert (
        admin.get(f"{sf_server.base_url}/__sandbox/view/contacts/003000000000000AAA").status_code
        == 404
    )
