"""The HubSpot sandbox's side of the error-table walk (sandbox/core/error_boundary.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import urllib3
from hubspot.crm.objects import exceptions as hubspot_exceptions
from hubspot.crm.objects.rest import RESTResponse

from adapters.hubspot.client import HubSpotClient, api_exception
from adapters.hubspot.settings import HubSpotSettings
from sandbox.core.error_boundary import ONE_TRY, Boundary, Recipe, fault
from sandbox.core.server import SandboxServer
from sandbox.hubspot.app import create_app
from sandbox.hubspot.config import HubSpotConfig, RateLimits, ScopedToken
from sandbox.hubspot.emulator import HubSpotEmulator

# Sandbox-only tokens (never valid on HubSpot): the walk checks they never show in an error.
HUBSPOT_TOKEN = "pat-na1-error-table-0f3c9a7e-5b21-4d8e-9c6a-1e2f3a4b5c6d"  # noqa: S105
SCOPELESS_TOKEN = "pat-na1-no-scopes-7d1e2c3b-4a59-4e8f-b7c6-5d4e3f2a1b0c"  # noqa: S105


def _hs_contacts(sdk: Any, timeout: tuple[float, float], **query: Any) -> object:
    return sdk.crm.contacts.basic_api.get_page_with_http_info(_request_timeout=timeout, **query)


def _hs_missing_contact(sdk: Any, timeout: tuple[float, float]) -> object:
    return sdk.crm.contacts.basic_api.get_by_id_with_http_info(
        "999999999", _request_timeout=timeout
    )


class HubSpotBoundary:
    kind = "hubspot"
    routes = "* /crm/*"

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        page = Recipe(_hs_contacts)
        self.recipes: dict[tuple[int | str, str | None], Recipe] = {
            (400, None): Recipe(partial(_hs_contacts, limit=101)),
            (401, None): Recipe(page.call, client="wrong-token"),
            (401, "EXPIRED_AUTHENTICATION"): Recipe(
                page.call, fault("expired_token", route=self.routes)
            ),
            (403, None): Recipe(page.call, client="no-scopes"),
            (404, None): Recipe(_hs_missing_contact),
            (423, None): Recipe(page.call, fault("unable_to_lock_row", route=self.routes)),
            (429, None): Recipe(
                page.call,
                fault("rate_limited", route=self.routes, retry_after_seconds=7),
                retry_after=7.0,
            ),
            (429, "DAILY"): Recipe(page.call, fault("quota_exhausted", route=self.routes)),
        }
        for status in (502, 504, 524, "5xx"):
            code = 599 if status == "5xx" else status
            self.recipes[(status, None)] = Recipe(
                page.call, fault("error_5xx", route=self.routes, status_5xx=code)
            )

    def client(self, which: str = "default") -> HubSpotClient:
        token = {"wrong-token": "pat-na1-not-a-token", "no-scopes": SCOPELESS_TOKEN}.get(
            which, HUBSPOT_TOKEN
        )
        settings = HubSpotSettings(
            kind="hubspot",
            base_url=self.server.base_url,
            access_token=token,
        )
        return HubSpotClient("hs-errors", settings, ONE_TRY)

    def sdk_error(self, status: int, code: str) -> Exception:
        """The exception hubspot-api-client raises for this answer (its rest.py routing)."""
        body = {"status": "error", "message": "as answered", "category": code}
        if status == 429:
            body["policyName"] = code
        raw = urllib3.HTTPResponse(
            body=json.dumps(body).encode(), status=status, headers={"Content-Type": "json"}
        )
        kinds = {
            401: hubspot_exceptions.UnauthorizedException,
            403: hubspot_exceptions.ForbiddenException,
            404: hubspot_exceptions.NotFoundException,
        }
        kind = kinds.get(status) or (
            hubspot_exceptions.ServiceException
            if 500 <= status <= 599
            else hubspot_exceptions.ApiException
        )
        error: Exception = kind(http_resp=RESTResponse(raw))
        error.body = error.body.decode("utf-8")  # type: ignore[attr-defined]  # as the SDK does
        return error

    def secrets(self, client: HubSpotClient) -> list[str]:
        return [HUBSPOT_TOKEN, SCOPELESS_TOKEN]

    def is_sdk_error(self, error: BaseException | None) -> bool:
        return error is not None and api_exception(error) is error


@contextmanager
def boundary() -> Iterator[Boundary]:
    """A HubSpot sandbox (a scopeless token beside the app's, no rate limits) and its boundary."""
    emulator = HubSpotEmulator(
        HubSpotConfig(
            access_token=HUBSPOT_TOKEN,
            extra_tokens=[ScopedToken(token=SCOPELESS_TOKEN, scopes=[])],
            rate_limits=RateLimits(enabled=False),
        )
    )
    try:
        with SandboxServer(create_app(emulator=emulator)) as server:
            yield HubSpotBoundary(server)
    finally:
        emulator.close()
