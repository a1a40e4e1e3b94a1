"""The Qualtrics client over real HTTP against the emulator: X-API-TOKEN or OAuth client
credentials (a 401 fetches a new token once), the brand's 429 retried, timeouts and TLS
failures named, secrets in no message or repr."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.qualtrics.client import QualtricsClient
from adapters.qualtrics.settings import QualtricsSettings
from adapters.retry import RetryPolicy
from sandbox.core.server import SandboxServer
from sandbox.qualtrics.app import create_app
from sandbox.qualtrics.emulator import QualtricsConfig, QualtricsEmulator
from sandbox.qualtrics.surveys import BY_KIND
from service.ports import CrmConfigError, CrmTlsError, CrmUnavailableError
from tests.contract.harness import TEST_POLICY, SandboxAdmin

NPS = BY_KIND["nps"].id


@pytest.fixture(scope="module")
def brand() -> Iterator[tuple[QualtricsEmulator, SandboxServer]]:
    emulator = QualtricsEmulator(QualtricsConfig(rate_per_minute=None))
    with SandboxServer(create_app(emulator=emulator)) as server:
        yield emulator, server


def _client(
    server: SandboxServer, policy: RetryPolicy = TEST_POLICY, **values: object
) -> QualtricsClient:
    settings = QualtricsSettings(kind="qualtrics", base_url=server.base_url, **values)  # type: ignore[arg-type]
    return QualtricsClient("q", settings, policy)


def test_oauth_client_credentials_and_one_refetch_on_401(
    brand: tuple[QualtricsEmulator, SandboxServer],
) -> None:
    emulator, server = brand
    cfg = emulator.config
    client = _client(server, client_id=cfg.client_id, client_secret=cfg.client_secret)
    assert client.request("GET", f"/surveys/{NPS}")["id"] == NPS
    admin = SandboxAdmin(server)
    admin.clear_requests()
    emulator.access_tokens.clear()  # the access token expired at Qualtrics
    assert client.request("GET", f"/surveys/{NPS}")["id"] == NPS
    paths = [r["path"] for r in admin.requests()]
    assert paths.count("/oauth2/token") == 1
    assert cfg.client_secret not in repr(client)


def test_a_refused_client_is_a_config_error_not_retried(
    brand: tuple[QualtricsEmulator, SandboxServer],
) -> None:
    emulator, server = brand
    client = _client(server, client_id=emulator.config.client_id, client_secret="wrong-secret")
    admin = SandboxAdmin(server)
    admin.clear_requests()
    with pytest.raises(CrmConfigError, match="invalid_client") as raised:
        client.request("GET", "/surveys")
    assert "wrong-secret" not in str(raised.value)
    assert [r["path"] for r in admin.requests()] == ["/oauth2/token"]


def test_the_brands_429_is_waited_out(brand: tuple[QualtricsEmulator, SandboxServer]) -> None:
    emulator, server = brand
    admin = SandboxAdmin(server)
    admin.faults(
        [{"route": "* /API/v3/*", "rate_limited": 1.0, "times": 2, "retry_after_seconds": 0}]
    )
    try:
        client = _client(server, api_token=emulator.config.api_token)
        assert client.request("GET", "/surveys")["elements"]
    finally:
        admin.reset()
    assert client.calls == 3


def test_timeouts_and_tls_are_named(
    brand: tuple[QualtricsEmulator, SandboxServer], tmp_path: Path
) -> None:
    emulator, server = brand
    admin = SandboxAdmin(server)
    admin.faults([{"route": "* /API/v3/*", "timeout": 1.0, "timeout_seconds": 2}])
    try:
        slow = _client(
            server,
            RetryPolicy(max_attempts=1),
            api_token=emulator.config.api_token,
            read_timeout=0.3,
        )
        with pytest.raises(CrmUnavailableError, match="did not answer in time"):
            slow.request("GET", "/surveys")
    finally:
        admin.reset()
    missing = _client(server, api_token=emulator.config.api_token, ca_bundle=tmp_path / "none.pem")
    with pytest.raises(CrmTlsError, match="CA bundle not found"):
        missing.request("GET", "/surveys")


def test_settings_need_a_place_and_a_credential() -> None:
    with pytest.raises(CrmConfigError, match="DATACENTER"):
        QualtricsClient("q", QualtricsSettings(api_token="t"))  # type: ignore[arg-type]
    with pytest.raises(CrmConfigError, match="API_TOKEN"):
        QualtricsClient("q", QualtricsSettings(datacenter="fra1"))
    settings = QualtricsSettings(datacenter="fra1", api_token="t")  # type: ignore[arg-type]
    assert QualtricsClient("q", settings).base_url == "https://fra1.qualtrics.com/API/v3"
