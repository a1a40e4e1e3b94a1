"""The Salesforce sandbox's side of the error-table walk (sandbox/core/error_boundary.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.util import exception_handler

from adapters.salesforce.client import SalesforceClient
from adapters.salesforce.settings import SalesforceSettings
from sandbox.core.error_boundary import ONE_TRY, Boundary, Recipe, fault
from sandbox.core.server import SandboxServer
from sandbox.salesforce.app import create_app
from sandbox.salesforce.config import SalesforceConfig


def _sf_limits(sf: Any) -> object:
    return sf.restful("limits/")


class SalesforceBoundary:
    kind = "salesforce"
    routes = "* /services/data/*"

    def __init__(self, server: SandboxServer, config: SalesforceConfig) -> None:
        self.server = server
        self.config = config
        self.recipes: dict[tuple[int | str, str | None], Recipe] = {
            (400, "UNABLE_TO_LOCK_ROW"): Recipe(
                _sf_limits, fault("unable_to_lock_row", route=self.routes)
            ),
            (400, None): Recipe(lambda sf: sf.query("SELECT NoSuchField__c FROM Contact")),
            (401, "INVALID_SESSION_ID"): Recipe(
                _sf_limits, fault("expired_token", route=self.routes)
            ),
            (403, "REQUEST_LIMIT_EXCEEDED"): Recipe(
                _sf_limits, fault("quota_exhausted", route=self.routes)
            ),
            (403, "REQUEST_LIMIT_EXCEEDED ConcurrentPerOrgLongTxn"): Recipe(
                _sf_limits, fault("rate_limited", route=self.routes)
            ),
            (404, None): Recipe(lambda sf: sf.restful("sobjects/Contact/003000000000000AAA")),
        }
        for status in (500, 503, "5xx"):
            code = 599 if status == "5xx" else status
            self.recipes[(status, None)] = Recipe(
                _sf_limits, fault("error_5xx", route=self.routes, status_5xx=code)
            )

    def client(self, which: str = "default") -> SalesforceClient:
        settings = SalesforceSettings(
            kind="salesforce",
            base_url=self.server.base_url,
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            ca_bundle=self.server.ca_path,
            read_timeout=3.0,
        )
        return SalesforceClient("sf-errors", settings, ONE_TRY)

    def sdk_error(self, status: int, code: str) -> Exception:
        """The exception simple-salesforce raises for this answer (its own status routing)."""
        response = requests.Response()
        response.status_code = status
        response.url = f"{self.server.base_url}/services/data/v59.0/limits/"
        response._content = json.dumps([{"errorCode": code, "message": "as answered"}]).encode()
        try:
            exception_handler(response, "limits")
        except SalesforceError as error:
            return error
        raise AssertionError("exception_handler always raises")

    def secrets(self, client: SalesforceClient) -> list[str]:
        session = getattr(client._sdk, "session_id", None)
        return [self.config.client_secret.get_secret_value(), *([session] if session else [])]

    def is_sdk_error(self, error: BaseException | None) -> bool:
        return isinstance(error, SalesforceError)


@contextmanager
def boundary() -> Iterator[Boundary]:
    """A Salesforce sandbox on loopback TLS and its boundary."""
    config = SalesforceConfig()
    with SandboxServer(create_app(config), tls=True) as server:
        yield SalesforceBoundary(server, config)
