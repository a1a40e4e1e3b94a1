"""Fixtures: one Zendesk emulator per test with the generator's data, served over HTTP, and an
httpx client authenticated as the account's admin (API token)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.zendesk.app import create_app
from sandbox.zendesk.config import ZendeskConfig
from sandbox.zendesk.emulator import ZendeskEmulator

SEED = 5
CUSTOMERS = 40


@dataclass
class Account:
    emu: ZendeskEmulator
    server: SandboxServer
    http: httpx.Client

    @property
    def url(self) -> str:
        return self.server.base_url

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, f"/__sandbox/{path}", **kw)


def basic(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()


def serve(config: ZendeskConfig) -> Iterator[Account]:
    emu = ZendeskEmulator(config)
    emu.load(generate(seed=SEED, customers=CUSTOMERS), seed=SEED, customers=CUSTOMERS)
    with SandboxServer(create_app(emulator=emu)) as server:
        auth = basic(config.admin_email, config.api_token)
        with httpx.Client(base_url=server.base_url, headers={"Authorization": auth}) as http:
            yield Account(emu, server, http)
    emu.close()


@pytest.fixture
def account() -> Iterator[Account]:
    """Zendesk's defaults: limits on, the last minute left out, a 1-minute start_time floor."""
    yield from serve(ZendeskConfig())
