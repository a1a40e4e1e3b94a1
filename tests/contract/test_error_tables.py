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
import importlib.util
from collections.abc import Iterator
from contextlib import ExitStack
from types import ModuleType
from typing import Any

import pytest

from adapters import registry
from adapters.errors import ErrorRow, status_class
from adapters.retry import RetryPolicy
from sandbox.core.error_boundary import Boundary
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
UNLISTED = "UNLISTED_CODE"  # a vendor code no row names: exercises (status, any code)


def representative(row: ErrorRow) -> int:
    """A status the row decides: its own, or one no other row claims for a status class."""
    if isinstance(row.status, int):
        return row.status
    return {"3xx": 399, "4xx": 418, "5xx": 599}[row.status]


@pytest.fixture(scope="module")
def boundaries() -> Iterator[dict[str, Boundary]]:
    """Each registered connector's sandbox side of the walk, found by kind."""
    with ExitStack() as stack:
        yield {
            kind: stack.enter_context(
                importlib.import_module(f"sandbox.{kind}.error_boundary").boundary()
            )
            for kind in registry.kinds()
        }


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
    if recipe is not None and recipe.retry_after is not None:
        assert isinstance(error, CrmRateLimitedError)
        assert error.retry_after == recipe.retry_after


def test_every_registered_connector_has_a_boundary() -> None:
    missing = [
        kind
        for kind in registry.kinds()
        if importlib.util.find_spec(f"sandbox.{kind}.error_boundary") is None
    ]
    assert missing == [], "add sandbox/<kind>/error_boundary.py for the error-table walk"


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
