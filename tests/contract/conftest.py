"""Fixtures of the contract suite: one harness per registered connector (found by convention in
`sandbox/<kind>/harness.py`), shared by the module's tests.

A test of something only some connectors do is marked `@pytest.mark.needs("push_fields")` (any
`Capabilities` field): it is left out, not skipped, for a connector that does not declare it, so
a read-only source runs the pull half of the suite and nothing pretends it was tested."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.registry import connector, kinds
from tests.contract.harness import Harness, SandboxAdmin, harness_for

CUSTOMERS = 300
PAGE_SIZE = 100  # small pages so that paging and page boundaries are exercised cheaply


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the (test, connector) pairs whose connector lacks a capability the test needs."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        # The connector is the `harness` parameter, or any module fixture parametrized by kind
        # (the slow suite's `big`).
        params = callspec.params.values() if callspec is not None else ()
        kind = next((v for v in params if isinstance(v, str) and v in kinds()), None)
        needed = [n for m in item.iter_markers("needs") for n in m.args]
        capabilities = connector(kind).capabilities if kind is not None else None
        if capabilities is not None and not all(getattr(capabilities, n) for n in needed):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="module", params=kinds())
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with harness_for(request.param, CUSTOMERS, PAGE_SIZE) as running:
        yield running


@pytest.fixture
def admin(harness: Harness) -> Iterator[SandboxAdmin]:
    control = SandboxAdmin(harness.server)
    control.reset()
    control.clear_requests()
    yield control
    control.reset()
