"""Fixtures of the contract suite: one harness per registered connector (found by convention in
`sandbox/<kind>/harness.py`), shared by the module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.registry import kinds
from tests.contract.harness import Harness, SandboxAdmin, harness_for

CUSTOMERS = 300
PAGE_SIZE = 100  # small pages so that paging and page boundaries are exercised cheaply


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
