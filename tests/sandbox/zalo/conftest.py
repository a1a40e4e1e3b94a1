"""One Zalo emulator per module, with generated followers and chats, over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.zalo.app import create_app
from sandbox.zalo.config import ZaloConfig
from sandbox.zalo.emulator import ZaloEmulator

SEED, CUSTOMERS = 7, 60


@dataclass
class Oa:
    """The running emulator and a plain HTTP client on it (no connector code)."""

    emulator: ZaloEmulator
    server: SandboxServer
    http: httpx.Client

    @property
    def config(self) -> ZaloConfig:
        return self.emulator.config

    def token(self, refresh: str | None = None) -> dict[str, Any]:
        """Refresh (the configured first refresh token by default): the token endpoint's body."""
        form = {
            "app_id": self.config.app_id,
            "grant_type": "refresh_token",
            "refresh_token": refresh or self.config.refresh_token.get_secret_value(),
        }
        secret = self.config.app_secret.get_secret_value()
        answer = self.http.post("/v4/oa/access_token", data=form, headers={"secret_key": secret})
        assert answer.status_code == 200
        body: dict[str, Any] = answer.json()
        return body

    def grant(self) -> dict[str, Any]:
        """A new token chain through the OA admin's consent: PKCE code, then its exchange."""
        verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        consent = self.http.get(
            "/v4/oa/permission",
            params={"app_id": self.config.app_id, "redirect_uri": "https://shop.example/cb",
                    "code_challenge": challenge, "state": "x"},
        )  # fmt: skip
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        form = {"app_id": self.config.app_id, "grant_type": "authorization_code",
                "code": code, "code_verifier": verifier}  # fmt: skip
        secret = self.config.app_secret.get_secret_value()
        body: dict[str, Any] = self.http.post(
            "/v4/oa/access_token", data=form, headers={"secret_key": secret}
        ).json()
        return body

    def access(self) -> str:
        return str(self.grant()["access_token"])

    def get(self, path: str, token: str, data: dict[str, Any]) -> httpx.Response:
        return self.http.get(
            path, params={"data": json.dumps(data)}, headers={"access_token": token}
        )


@pytest.fixture(scope="module")
def oa() -> Iterator[Oa]:
    emulator = ZaloEmulator(ZaloConfig(requests_per_minute=None))
    emulator.load(generate(seed=SEED, customers=CUSTOMERS), SEED, CUSTOMERS)
    with (
        SandboxServer(create_app(emulator=emulator)) as server,
        httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as http,
    ):
        yield Oa(emulator, server, http)
    emulator.close()
