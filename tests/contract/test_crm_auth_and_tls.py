"""Our HubSpot client on HubSpot's 2026-03 OAuth API, and TLS failures named as such.

Issue 16: the client refreshed tokens at `/oauth/v1/token`, which HubSpot retires on 2027-02-16;
and a missing CA bundle showed as "cannot reach Salesforce (connection failed)" after 13 s of
retries. Both run against the sandbox over real HTTP(S).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.hubspot.client import HubSpotClient
from adapters.registry import connection_settings
from adapters.salesforce.client import SalesforceClient
from sandbox.core.server import SandboxServer
from sandbox.hubspot.app import create_app as create_hubspot_app
from sandbox.hubspot.config import HubSpotConfig, RateLimits
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.salesforce.app import create_app as create_salesforce_app
from sandbox.salesforce.config import SalesforceConfig
from service.ports import CrmConfigError, CrmTlsError
from tests.contract.harness import TEST_POLICY

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"


def contacts_page(client: HubSpotClient) -> object:
    return client.call(
        lambda sdk, timeout: sdk.crm.contacts.basic_api.get_page_with_http_info(
            limit=1, _request_timeout=timeout
        )
    )


@pytest.fixture(scope="module")
def hubspot() -> Iterator[tuple[HubSpotEmulator, SandboxServer]]:
    emulator = HubSpotEmulator(
        HubSpotConfig(access_token="pat-x", rate_limits=RateLimits(enabled=False))
    )
    with SandboxServer(create_hubspot_app(emulator=emulator)) as server:
        yield emulator, server
    emulator.close()


def oauth_client(server: SandboxServer, refresh_token: str) -> HubSpotClient:
    settings = connection_settings(
        kind="hubspot",
        base_url=server.base_url,  # type: ignore[arg-type]
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        refresh_token=refresh_token,  # type: ignore[arg-type]
    )
    return HubSpotClient("hs-oauth", settings, TEST_POLICY)


def test_tokens_refresh_at_the_2026_03_endpoint_and_keep_working_after_v1_retires(
    hubspot: tuple[HubSpotEmulator, SandboxServer],
) -> None:
    emulator, server = hubspot
    refresh = "refresh-for-our-client"
    emulator.tokens.add_refresh_token(refresh)
    emulator.sandbox.clock.set(datetime(2027, 2, 16, 9, 0, tzinfo=UTC))  # v1 is gone (410)
    try:
        emulator.sandbox.log.clear()
        client = oauth_client(server, refresh)
        assert contacts_page(client) is not None
        emulator.sandbox.clock.advance(1801)  # the access token expires: refreshed once more
        assert contacts_page(client) is not None
        token_calls = [e for e in emulator.sandbox.log.entries() if e.path.startswith("/oauth/")]
        assert [(e.path, e.status) for e in token_calls] == [("/oauth/2026-03/token", 200)] * 2
    finally:
        emulator.sandbox.clock.resume()


def test_a_revoked_refresh_token_is_a_config_error_and_not_retried(
    hubspot: tuple[HubSpotEmulator, SandboxServer],
) -> None:
    emulator, server = hubspot
    emulator.sandbox.log.clear()
    with pytest.raises(CrmConfigError) as raised:
        contacts_page(oauth_client(server, "revoked-or-never-issued"))
    assert "invalid_grant" in str(raised.value)
    assert "reconnect the portal" in str(raised.value)
    assert len(_logged(emulator, "/oauth/")) == 1


def _logged(emulator: HubSpotEmulator, prefix: str) -> list[object]:
    """The sandbox's logged requests under `prefix`, once the first has been written: the
    server logs a request after answering it, so a client can see the answer first."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if any(e.path.startswith(prefix) for e in emulator.sandbox.log.entries()):
            break
        time.sleep(0.01)
    time.sleep(0.2)  # long enough for a (wrong) retry to show up as a second call
    return [e for e in emulator.sandbox.log.entries() if e.path.startswith(prefix)]


@pytest.fixture(scope="module")
def salesforce_tls() -> Iterator[tuple[SalesforceConfig, SandboxServer]]:
    config = SalesforceConfig()
    with SandboxServer(create_salesforce_app(config), tls=True) as server:
        yield config, server


def salesforce(
    config: SalesforceConfig, server: SandboxServer, ca: Path | None
) -> SalesforceClient:
    settings = connection_settings(
        kind="salesforce",
        base_url=server.base_url,  # type: ignore[arg-type]
        client_id=config.client_id,
        client_secret=config.client_secret,  # type: ignore[arg-type]
        ca_bundle=ca,
    )
    return SalesforceClient("sf-tls", settings, TEST_POLICY)


def limits(client: SalesforceClient) -> object:
    return client.call(lambda sf: sf.restful("limits/"))


@pytest.mark.parametrize("ca", ["missing", "system"])
def test_tls_failures_are_named_and_not_retried(
    salesforce_tls: tuple[SalesforceConfig, SandboxServer], tmp_path: Path, ca: str
) -> None:
    config, server = salesforce_tls
    assert limits(salesforce(config, server, server.ca_path)) is not None  # the right CA works
    bundle = tmp_path / "gone.pem" if ca == "missing" else None
    started = time.monotonic()
    with pytest.raises(CrmTlsError) as raised:
        limits(salesforce(config, server, bundle))
    assert time.monotonic() - started < 2  # no back-off: a retry cannot fix a certificate
    message = str(raised.value)
    assert message.startswith("TLS certificate could not be verified for 127.0.0.1: ")
    reason = message.split(": ", 1)[1]
    expected = "CA bundle not found" if ca == "missing" else "self-signed certificate"
    assert reason.startswith(expected), message


def test_hubspot_over_tls_with_a_missing_ca_bundle(tmp_path: Path) -> None:
    emulator = HubSpotEmulator(
        HubSpotConfig(access_token="pat-x", rate_limits=RateLimits(enabled=False))
    )
    with SandboxServer(create_hubspot_app(emulator=emulator), tls=True) as server:
        settings = connection_settings(
            kind="hubspot",
            base_url=server.base_url,  # type: ignore[arg-type]
            access_token="pat-x",  # type: ignore[arg-type]
            ca_bundle=tmp_path / "gone.pem",
        )
        with pytest.raises(CrmTlsError) as raised:
            contacts_page(HubSpotClient("hs-tls", settings, TEST_POLICY))
        assert "TLS certificate could not be verified for 127.0.0.1" in str(raised.value)
    emulator.close()
