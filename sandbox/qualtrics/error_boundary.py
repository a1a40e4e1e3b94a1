"""The Qualtrics sandbox's side of the error-table walk (sandbox/core/error_boundary.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from adapters.qualtrics.client import QualtricsAnswerError, QualtricsClient
from adapters.qualtrics.settings import QualtricsSettings
from sandbox.core.error_boundary import ONE_TRY, Boundary, Recipe, fault
from sandbox.core.server import SandboxServer
from sandbox.qualtrics.app import create_app
from sandbox.qualtrics.emulator import QualtricsConfig, QualtricsEmulator
from sandbox.qualtrics.surveys import BY_KIND

# Sandbox-only tokens (never valid at Qualtrics): the walk checks they never show in an error.
TOKEN = "qualtrics-error-table-5d0e8c1a2b3f4e5d6c7b8a9f0e1d2c3b"  # noqa: S105
USER_TOKEN = "qualtrics-not-admin-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"  # noqa: S105
NPS = BY_KIND["nps"].id


def _get(path: str, http: httpx.Client, client: QualtricsClient) -> object:
    answer = http.get(path, headers=client.auth_headers(http))
    if not 200 <= answer.status_code < 300:
        raise QualtricsAnswerError(answer.status_code, answer.json(), answer.headers)
    return answer


def _post(path: str, body: dict[str, Any], http: httpx.Client, client: QualtricsClient) -> object:
    answer = http.post(path, json=body, headers=client.auth_headers(http))
    if not 200 <= answer.status_code < 300:
        raise QualtricsAnswerError(answer.status_code, answer.json(), answer.headers)
    return answer


class QualtricsBoundary:
    kind = "qualtrics"
    routes = "* /API/v3/*"

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._clients: dict[str, QualtricsClient] = {}
        survey = f"/surveys/{NPS}"
        self.recipes: dict[tuple[int | str, str | None], Recipe] = {
            # "Format" is not "format": parameter names are case-sensitive.
            (400, None): Recipe(
                self._bound(_post, f"{survey}/export-responses", {"Format": "json"})
            ),
            (401, None): Recipe(self._bound(_get, survey), client="wrong-token"),
            (403, None): Recipe(self._bound(_get, "/eventsubscriptions/"), client="not-admin"),
            (404, None): Recipe(self._bound(_get, f"{survey}/export-responses/ES_nothing")),
            (429, None): Recipe(
                self._bound(_get, survey),
                fault("rate_limited", route=self.routes, retry_after_seconds=7),
                retry_after=7.0,
            ),
        }
        for status in (503, 504, "5xx"):
            code = 599 if status == "5xx" else status
            self.recipes[(status, None)] = Recipe(
                self._bound(_get, survey), fault("error_5xx", route=self.routes, status_5xx=code)
            )

    def _bound(self, fn: Any, *args: Any) -> Any:
        """fn(*args, http, client) as the walk's `call(http)` (the client is the one in use)."""

        def call(http: httpx.Client) -> object:
            return fn(*args, http, self._current)

        return call

    def client(self, which: str = "default") -> QualtricsClient:
        token = {"wrong-token": "not-a-qualtrics-token", "not-admin": USER_TOKEN}.get(which, TOKEN)
        settings = QualtricsSettings(
            kind="qualtrics", base_url=self.server.base_url, api_token=token
        )
        self._current = QualtricsClient("q-errors", settings, ONE_TRY)
        return self._current

    def sdk_error(self, status: int, code: str) -> Exception:
        """The exception the client raises inside a call for this answer."""
        body: dict[str, Any] = {
            "meta": {
                "httpStatus": f"{status} - Error",
                "requestId": "00000000-0000-0000-0000-000000000000",
                "error": {"errorCode": code, "errorMessage": "as answered"},
            }
        }
        if code == "invalid_client":
            body = {"error": code, "error_description": "as answered"}
        return QualtricsAnswerError(status, body, {})

    def secrets(self, client: QualtricsClient) -> list[str]:
        return [TOKEN, USER_TOKEN]

    def is_sdk_error(self, error: BaseException | None) -> bool:
        return isinstance(error, QualtricsAnswerError)


@contextmanager
def boundary() -> Iterator[Boundary]:
    """A Qualtrics sandbox (a non-admin user's token beside the admin's, no rate limit)."""
    emulator = QualtricsEmulator(
        QualtricsConfig(api_token=TOKEN, user_tokens=[USER_TOKEN], rate_per_minute=None)
    )
    with SandboxServer(create_app(emulator=emulator)) as server:
        yield QualtricsBoundary(server)
