"""The Zendesk client over real HTTP(S) against its emulator: both ways to authenticate, TLS
failures named and never retried, and no credential in a repr or an error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.zendesk.client import ZendeskClient
from adapters.zendesk.settings import ZendeskSettings
from sandbox.core.harness import TEST_POLICY, SandboxAdmin
from sandbox.core.server import SandboxServer
from sandbox.zendesk.app import create_app
from sandbox.zendesk.config import RateLimits, ZendeskConfig
from sandbox.zendesk.emulator import ZendeskEmulator
from service.ports import CrmConfigError, CrmTlsError

CONFIG = ZendeskConfig(
    api_token="zd-client-test-8c2f1e0a",
    oauth_token="zd-client-oauth-5d7b3c9e",
    rate_limits=RateLimits(enabled=False),
)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    emulator = ZendeskEmulator(CONFIG)
    try:
        with SandboxServer(create_app(emulator=emulator), tls=True) as running:
            yield running
    finally:
        emulator.close()


def _client(server: SandboxServer, **values: object) -> ZendeskClient:
    settings = ZendeskSettings(
        kind="zendesk",
        base_url=server.base_url,
        ca_bundle=server.ca_path,
        **values,  # type: ignore[arg-type]
    )
    return ZendeskClient("zd-client", settings, TEST_POLICY)


def test_api_token_and_oauth_bearer_both_authenticate(server: SandboxServer) -> None:
    token = _client(server, email=CONFIG.admin_email, api_token=CONFIG.api_token)
    bearer = _client(server, access_token=CONFIG.oauth_token)
    for client in (token, bearer):
        assert "users" in client.get("/users.json", {"page[size]": 1})
        assert CONFIG.api_token not in repr(client)
        assert CONFIG.oauth_token not in repr(client)


def test_a_wrong_token_is_a_config_error_sent_once_and_never_shown(
    server: SandboxServer,
) -> None:
    admin = SandboxAdmin(server)
    admin.clear_requests()
    client = _client(server, email=CONFIG.admin_email, api_token="wrong-token-0001")
    with pytest.raises(CrmConfigError) as raised:
        client.get("/users.json")
    assert "401" in str(raised.value)
    assert "wrong-token-0001" not in str(raised.value)
    assert len(admin.requests()) == 1


def test_tls_failures_are_named_and_not_retried(server: SandboxServer, tmp_path: Path) -> None:
    untrusted = ZendeskClient(
        "zd-client",
        ZendeskSettings(
            kind="zendesk",
            base_url=server.base_url,
            email=CONFIG.admin_email,
            api_token=CONFIG.api_token,
        ),
        TEST_POLICY,
    )
    with pytest.raises(CrmTlsError, match=r"could not be verified for 127\.0\.0\.1"):
        untrusted.get("/users.json")
    missing = _client(server, email=CONFIG.admin_email, api_token=CONFIG.api_token)
    missing.settings = missing.settings.model_copy(update={"ca_bundle": tmp_path / "none.pem"})
    with pytest.raises(CrmTlsError, match="CA bundle not found"):
        missing.get("/users.json")
