"""Fixtures: one HubSpot emulator served over HTTP per test module, reset before each test.

Tests talk to it with the real, unpatched ``hubspot-api-client``, constructed as
docs/crm-api-facts.md §1.4 shows works against a loopback server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from hubspot import HubSpot

from sandbox.core.requestlog import RequestEntry
from sandbox.core.server import SandboxServer
from sandbox.hubspot.app import create_app
from sandbox.hubspot.config import HubSpotConfig, RateLimits
from sandbox.hubspot.emulator import HubSpotEmulator

TOKEN = "pat-na1-test-token"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_config(**overrides: object) -> HubSpotConfig:
    """Test defaults: a known token and rate limits off unless a test turns them on."""
    base: dict[str, object] = {
        "access_token": TOKEN,
        "rate_limits": RateLimits(enabled=False),
        "extra_tokens": [
            {"token": "pat-contacts-read-only", "scopes": ["crm.objects.contacts.read"]}
        ],
    }
    return HubSpotConfig.model_validate(base | overrides)


class Served:
    """A running emulator: its state, base URL and client factory."""

    def __init__(self, emulator: HubSpotEmulator, server: SandboxServer) -> None:
        self.emu = emulator
        self.server = server
        self.url = server.base_url

    def client(self, token: str = TOKEN, **kwargs: object) -> HubSpot:
        """A real hubspot-api-client pointed at the emulator."""
        return HubSpot(access_token=token, host=self.url, base_url=self.url, **kwargs)

    def logged(self, path_glob: str, expected: int, timeout: float = 2.0) -> list[RequestEntry]:
        """Request-log entries for a path once ``expected`` are there.

        The core middleware appends an entry after the response has gone out, so the client can
        see the answer a moment before the log does; poll briefly instead of racing it.
        """
        deadline = time.monotonic() + timeout
        while True:
            entries = self.emu.sandbox.log.entries(path_glob=path_glob)
            if len(entries) >= expected or time.monotonic() > deadline:
                return entries
            time.sleep(0.01)

    def reset(self) -> None:
        """Empty portal, real time frozen at START, no faults, empty log."""
        self.emu.sandbox.reset()
        self.emu.sandbox.clock.set(START)


def serve(config: HubSpotConfig) -> Iterator[Served]:
    """Start an emulator for ``config``; stop it afterwards."""
    emulator = HubSpotEmulator(config)
    with SandboxServer(create_app(emulator=emulator)) as server:
        yield Served(emulator, server)
    emulator.close()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The module's emulator with default test settings."""
    yield from serve(make_config())


@pytest.fixture
def hs(served: Served) -> Served:
    """The module's emulator, reset for this test."""
    served.reset()
    return served


@pytest.fixture
def client(hs: Served) -> HubSpot:
    """A client on the fresh emulator."""
    return hs.client()


ClientFactory = Callable[..., HubSpot]
