"""Every row of every connector's error table, through the real client (docs/errors.md).

For each row the real SDK is made to raise that status and vendor code: against the sandbox
over HTTP (fault injection or a request the CRM refuses) where the sandbox can produce it, else
by building the SDK's own exception (simple-salesforce's `exception_handler` on a response,
hubspot-api-client's `ApiException` on an answer) and raising it inside `client.call`. Either
way the client's own mapping runs, and the test checks the class, whether it is retried, that
the message names the row's reason and holds no secret, and that the SDK's exception is kept
as `__cause__`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from types import ModuleType
from typing import Any, Protocol

import pytest
import requests
import urllib3
from hubspot.crm.objects import exceptions as hubspot_exceptions
from hubspot.crm.objects.rest import RESTResponse
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.util import exception_handler

from adapters import registry
from adapters.errors import ErrorRow, status_class
from adapters.hubspot.client import HubSpotClient, api_exception
from adapters.hubspot.settings import HubSpotSettings
from adapters.retry import RetryPolicy
from adapters.salesforce.client import SalesforceClient
from adapters.salesforce.settings import SalesforceSettings
from sandbox.core.server import SandboxServer
from sandbox.hubspot.app import create_app as create_hubspot_app
from sandbox.hubspot.config import HubSpotConfig, RateLimits, ScopedToken
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.salesforce.app import create_app as create_salesforce_app
from sandbox.salesforce.config import SalesforceConfig
from service.ports import CrmError, CrmRateLimitedError, CrmUnavailableError
from tests.contract.harness import SandboxAdmin
from tests.faults.secrets_scan import scan

# Every registered connector's table is walked (its `errors` module, by the package convention);
# how to make each one's sandbox answer is the `boundaries` fixture below, which a new connector
# must join (test_every_registered_connector_has_a_boundary fails until it does).
CONNECTOR_ERRORS: dict[str, ModuleType] = {
    kind: importlib.import_module(f"adapters.{kind}.errors") for kind in registry.kinds()
}
# What a retry can fix, stated apart from the classes' own `retryable` flags.
RETRIED = (CrmRateLimitedError, CrmUnavailableError)
ONE_TRY = RetryPolicy(max_attempts=1)
HUBSPOT_TOKEN = "pat-na1-error-table-0f3c9a7e-5b21-4d8e-9c6a-1e2f3a4b5c6d"
SCOPELESS_TOKEN = "pat-na1-no-scopes-7d1e2c3b-4a59-4e8f-b7c6-5d4e3f2a1b0c"
UNLISTED = "UNLISTED_CODE"  # a vendor code no row names: exercises (status, any code)


def representative(row: ErrorRow) -> int:
    """A status the row decides: its own, or one no other row claims for a status class."""
    if isinstance(row.status, int):
        return row.status
    return {"3xx": 399, "4xx": 418, "5xx": 599}[row.status]


@dataclass
class Recipe:
    """How to make the sandbox answer with a row's status and code: fault rules on the CRM's
    data API, then `call` (run with the client; `client` picks a non-default client)."""

    call: Callable[..., object]
    faults: list[dict[str, Any]] = field(default_factory=list)
    client: str = "default"


class Boundary(Protocol):
    kind: str
    server: SandboxServer
    recipes: dict[tuple[int | str, str | None], Recipe]

    def client(self, which: str = "default") -> Any: ...
    def sdk_error(self, status: int, code: str) -> Exception: ...
    def secrets(self, client: Any) -> list[str]: ...
    def is_sdk_error(self, error: BaseException | None) -> bool: ...


def _sf_limits(sf: Any) -> object:
    return sf.restful("limits/")


def _fault(kind: str, route: str, **extra: Any) -> list[dict[str, Any]]:
    """One rule: every request on `route` fails with `kind`."""
    return [{"route": route, kind: 1.0, **extra}]


class SalesforceBoundary:
    kind = "salesforce"
    routes = "* /services/data/*"

    def __init__(self, server: SandboxServer, config: SalesforceConfig) -> None:
        self.server = server
        self.config = config
        self.recipes: dict[tuple[int | str, str | None], Recipe] = {
            (400, "UNABLE_TO_LOCK_ROW"): Recipe(
                _sf_limits, _fault("unable_to_lock_row", route=self.routes)
            ),
            (400, None): Recipe(lambda sf: sf.query("SELECT NoSuchField__c FROM Contact")),
            (401, "INVALID_SESSION_ID"): Recipe(
                _sf_limits, _fault("expired_token", route=self.routes)
            ),
            (403, "REQUEST_LIMIT_EXCEEDED"): Recipe(
                _sf_limits, _fault("quota_exhausted", route=self.routes)
            ),
            (403, "REQUEST_LIMIT_EXCEEDED ConcurrentPerOrgLongTxn"): Recipe(
                _sf_limits, _fault("rate_limited", route=self.routes)
            ),
            (404, None): Recipe(lambda sf: sf.restful("sobjects/Contact/003000000000000AAA")),
        }
        for status in (500, 503, "5xx"):
            code = 599 if status == "5xx" else status
            self.recipes[(status, None)] = Recipe(
                _sf_limits, _fault("error_5xx", route=self.routes, status_5xx=code)
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
                page.call, _fault("expired_token", route=self.routes)
            ),
            (403, None): Recipe(page.call, client="no-scopes"),
            (404, None): Recipe(_hs_missing_contact),
            (423, None): Recipe(page.call, _fault("unable_to_lock_row", route=self.routes)),
            (429, None): Recipe(
                page.call, _fault("rate_limited", route=self.routes, retry_after_seconds=7)
            ),
            (429, "DAILY"): Recipe(page.call, _fault("quota_exhausted", route=self.routes)),
        }
        for status in (502, 504, 524, "5xx"):
            code = 599 if status == "5xx" else status
            self.recipes[(status, None)] = Recipe(
                page.call, _fault("error_5xx", route=self.routes, status_5xx=code)
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


@pytest.fixture(scope="module")
def boundaries() -> Iterator[dict[str, Boundary]]:
    hubspot = HubSpotEmulator(
        HubSpotConfig(
            access_token=HUBSPOT_TOKEN,
            extra_tokens=[ScopedToken(token=SCOPELESS_TOKEN, scopes=[])],
            rate_limits=RateLimits(enabled=False),
        )
    )
    config = SalesforceConfig()
    with (
        SandboxServer(create_salesforce_app(config), tls=True) as salesforce_server,
        SandboxServer(create_hubspot_app(emulator=hubspot)) as hubspot_server,
    ):
        yield {
            "salesforce": SalesforceBoundary(salesforce_server, config),
            "hubspot": HubSpotBoundary(hubspot_server),
        }
    hubspot.close()


ROWS = [
    pytest.param(kind, row, id=f"{kind}-{row.status}-{row.code or 'any'}")
    for kind, module in CONNECTOR_ERRORS.items()
    for row in module.ERROR_TABLE.rows
]


@pytest.mark.parametrize(("kind", "row"), ROWS)
def test_every_row_maps_as_its_table_says(
    boundaries: dict[str, Boundary], kind: str, row: ErrorRow
) -> None:
    boundary = boundaries[kind]
    recipe = boundary.recipes.get((row.status, row.code))
    status = representative(row)
    client = boundary.client(recipe.client if recipe else "default")
    fed: Exception | None = None
    admin = SandboxAdmin(boundary.server)
    if recipe is not None:  # over HTTP: the sandbox answers with this status and code
        admin.faults(recipe.faults)
        call = recipe.call
    else:  # the SDK's own exception for the answer, raised where the SDK would raise it
        fed = boundary.sdk_error(status, row.code or UNLISTED)

        def call(*_sdk: Any) -> object:
            raise fed

    try:
        with pytest.raises(CrmError) as raised:
            client.call(call)
    finally:
        admin.reset()
    error = raised.value
    assert type(error) is row.error, str(error)
    assert error.retryable is (row.error in RETRIED)
    assert error.http_status == status
    assert row.why in str(error)
    assert str(status) in str(error)
    texts = [("message", str(error)), ("repr", repr(error))]
    assert scan(texts, boundary.secrets(client)) == []
    if fed is not None:
        assert error.__cause__ is fed
    else:
        assert boundary.is_sdk_error(error.__cause__), repr(error.__cause__)
        assert getattr(error.__cause__, "status", None) == status
    if kind == "hubspot" and (row.status, row.code) == (429, None):
        assert isinstance(error, CrmRateLimitedError)
        assert error.retry_after == 7.0


def test_every_registered_connector_has_a_boundary(boundaries: dict[str, Boundary]) -> None:
    assert set(boundaries) == set(registry.kinds())


def test_each_table_falls_back_by_status_class() -> None:
    for module in CONNECTOR_ERRORS.values():
        table = module.ERROR_TABLE
        for status in (307, 451, 508):
            assert table.row(status, UNLISTED).status in (status, status_class(status))
        statuses = {row.status for row in table.rows}
        assert {"3xx", "4xx", "5xx"} <= statuses


@pytest.mark.parametrize("kind", list(CONNECTOR_ERRORS))
def test_a_bug_inside_a_call_propagates_unchanged_and_is_not_retried(
    boundaries: dict[str, Boundary], kind: str
) -> None:
    boundary = boundaries[kind]
    client = boundary.client()
    client.policy = RetryPolicy(max_attempts=3, base_delay=0, max_delay=0)
    attempts: list[int] = []
    bug = KeyError("a field our code expected")

    def broken(*_sdk: Any) -> object:
        attempts.append(1)
        raise bug

    with pytest.raises(KeyError) as raised:
        client.call(broken)
    assert raised.value is bug
    assert len(attempts) == 1
