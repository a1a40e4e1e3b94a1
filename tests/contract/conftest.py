"""Fixtures of the contract suite: one harness per CRM, shared by the module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.harness import Harness, HubSpotHarness, SalesforceHarness, SandboxAdmin

CUSTOMERS = 300
PAGE_SIZE = 100  # small pages so that paging and page boundaries are exercised cheaply


@pytest.fixture(scope="module", params=["salesforce", "hubspot"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    running: SalesforceHarness | HubSpotHarness
    if request.param == "salesforce":
        running = SalesforceHarness(CUSTOMERS, PAGE_SIZE)
    else:
        running = HubSpotHarness(CUSTOMERS)
    with running:
        yield running


@pytest.fixture
def admin(harness: Harness) -> Iterator[SandboxAdmin]:
    control = SandboxAdmin(harness.server)
    control.reset()
    control.clear_requests()
    yield control
    control.reset()
