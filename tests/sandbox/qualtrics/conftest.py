"""Fixtures: a Qualtrics emulator served over real HTTP with the generator's data, and a
small receiver that records the form posts of its event sender."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.qualtrics.app import ADMIN, API, create_app
from sandbox.qualtrics.emulator import QualtricsConfig, QualtricsEmulator

CUSTOMERS = 60
SEED = 5


@dataclass
class Brand:
    emulator: QualtricsEmulator
    server: SandboxServer

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"X-API-TOKEN": token or self.emulator.config.api_token}
        return httpx.Client(
            base_url=self.server.base_url + API, headers=headers, trust_env=False, timeout=10
        )

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url + ADMIN, trust_env=False, timeout=10)


@pytest.fixture(scope="module")
def brand() -> Iterator[Brand]:
    emulator = QualtricsEmulator(
        QualtricsConfig(rate_per_minute=None, user_tokens=["plain-user-token"])
    )
    emulator.load(generate(seed=SEED, customers=CUSTOMERS))
    with SandboxServer(create_app(emulator=emulator)) as server:
        yield Brand(emulator, server)


@dataclass
class Receiver:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    seen: list[dict[str, Any]] = []

    @app.post("/hook")
    async def hook(request: Request) -> JSONResponse:
        seen.append(
            {"content_type": request.headers.get("content-type"), "body": await request.body()}
        )
        return JSONResponse({"ok": True})

    with SandboxServer(app) as server:
        found = Receiver(server.base_url + "/hook")
        found.posts = seen
        yield found
