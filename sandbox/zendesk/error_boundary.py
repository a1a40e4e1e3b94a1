"""The Zendesk sandbox's side of the error-table walk (sandbox/core/error_boundary.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from adapters.zendesk.client import ZendeskAnswerError, ZendeskClient
from adapters.zendesk.settings import ZendeskSettings
from sandbox.core.error_boundary import ONE_TRY, Boundary, Recipe, fault
from sandbox.core.server import SandboxServer
from sandbox.zendesk.app import create_app
from sandbox.zendesk.config import RateLimits, ZendeskConfig
from sandbox.zendesk.emulator import ZendeskEmulator

# Sandbox-only tokens (never valid at Zendesk): the walk checks they never show in an error.
TOKEN = "zd-error-table-3c1f8a2e-6b4d-4e9a-8f7c-2d1e0b9a8c7d"  # noqa: S105
END_USER = "customer@error-table.example"


def _get(path: str, **params: Any) -> Any:
    def call(http: httpx.Client, timeout: httpx.Timeout) -> httpx.Response:
        return http.get(path, params=params, timeout=timeout)

    return call


def _bad_field(http: httpx.Client, timeout: httpx.Timeout) -> httpx.Response:
    body = {"user_field": {"key": "Not A Key!", "type": "text", "title": "x"}}
    return http.post("/api/v2/user_fields.json", json=body, timeout=timeout)


class ZendeskBoundary:
    kind = "zendesk"
    routes = "* /api/v2/*"

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        users = _get("/api/v2/users.json", **{"page[size]": 10})
        self.recipes: dict[tuple[int | str, str | None], Recipe] = {
            (400, None): Recipe(_get("/api/v2/users.json", page=101, per_page=100)),
            (401, None): Recipe(users, client="wrong-token"),
            (403, None): Recipe(users, client="end-user"),
            (404, None): Recipe(_get("/api/v2/users/1.json")),
            (409, None): Recipe(users, fault("unable_to_lock_row", route=self.routes)),
            (422, None): Recipe(_bad_field),
            (422, "InvalidValue"): Recipe(
                _get("/api/v2/incremental/users/cursor.json", start_time=9_999_999_999),
                retry_after=60.0,
            ),
            (429, None): Recipe(
                users,
                fault("rate_limited", route=self.routes, retry_after_seconds=7),
                retry_after=7.0,
            ),
            (503, None): Recipe(users, fault("error_5xx", route=self.routes, status_5xx=503)),
            ("5xx", None): Recipe(users, fault("error_5xx", route=self.routes, status_5xx=599)),
        }

    def client(self, which: str = "default") -> ZendeskClient:
        settings = ZendeskSettings(
            kind="zendesk",
            base_url=self.server.base_url,
            email=END_USER if which == "end-user" else "admin@cem-sandbox.example",
            api_token="not-the-token" if which == "wrong-token" else TOKEN,
            incremental_per_minute=None,
        )
        return ZendeskClient("zd-errors", settings, ONE_TRY)

    def sdk_error(self, status: int, code: str) -> Exception:
        body = json.dumps({"error": code, "description": "as answered"}).encode()
        return ZendeskAnswerError(status, body, {"Content-Type": "application/json"})

    def secrets(self, client: ZendeskClient) -> list[str]:
        return [TOKEN]

    def is_sdk_error(self, error: BaseException | None) -> bool:
        return isinstance(error, ZendeskAnswerError)


@contextmanager
def boundary() -> Iterator[Boundary]:
    """A Zendesk sandbox (an end user beside the admin, no rate limits) and its boundary."""
    emulator = ZendeskEmulator(
        ZendeskConfig(api_token=TOKEN, rate_limits=RateLimits(enabled=False))
    )
    now = emulator.store.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    emulator.store.users.put(
        {
            "id": 1_000,
            "name": "End User",
            "email": END_USER,
            "role": "end-user",
            "active": True,
            "created_at": now,
            "updated_at": now,
        },
        emulator.store.stamp(),
    )
    try:
        with SandboxServer(create_app(emulator=emulator)) as server:
            yield ZendeskBoundary(server)
    finally:
        emulator.close()
