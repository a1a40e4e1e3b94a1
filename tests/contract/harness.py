"""The contract suite's harnesses: the generic part lives in sandbox/core/harness.py and each
connector's in `sandbox/<kind>/harness.py`; re-exported here for the tests that use one CRM's
harness by name."""

from sandbox.core.harness import (
    TEST_POLICY,
    Harness,
    SandboxAdmin,
    calls_for,
    drain,
    harness_for,
    ids_of,
)
from sandbox.hubspot.harness import HubSpotHarness
from sandbox.salesforce.harness import SalesforceHarness

__all__ = [
    "TEST_POLICY",
    "Harness",
    "HubSpotHarness",
    "SalesforceHarness",
    "SandboxAdmin",
    "calls_for",
    "drain",
    "harness_for",
    "ids_of",
]
