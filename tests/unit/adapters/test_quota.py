"""The quota guard reads both CRMs' usage headers and stops at the configured share."""

from __future__ import annotations

import pytest

from adapters.hubspot.quota import hubspot_usage
from adapters.quota import QuotaGuard, Usage
from adapters.salesforce.quota import salesforce_usage
from service.ports import CrmQuotaExhaustedError


def test_salesforce_header() -> None:
    assert salesforce_usage({"Sforce-Limit-Info": "api-usage=25/15000"}) == Usage(25, 15000)
    assert salesforce_usage(
        {"sforce-limit-info": "api-usage=7/100, per-app-api-usage=1/50"}
    ) == Usage(7, 100)
    assert salesforce_usage({"Content-Type": "application/json"}) is None


def test_hubspot_headers() -> None:
    headers = {
        "X-HubSpot-RateLimit-Daily": "250000",
        "X-HubSpot-RateLimit-Daily-Remaining": "249000",
    }
    assert hubspot_usage(headers) == Usage(1000, 250000)
    # OAuth apps and search responses carry no daily pair.
    assert hubspot_usage({"X-HubSpot-RateLimit-Max": "100"}) is None


def test_guard_stops_at_its_share() -> None:
    guard = QuotaGuard("sf-prod", share=0.8)
    guard.check()  # nothing observed yet: no reason to stop
    guard.observe(Usage(799, 1000))
    guard.check()
    guard.observe(None)  # a response without the header changes nothing
    guard.observe(Usage(800, 1000))
    with pytest.raises(CrmQuotaExhaustedError, match="800 of 1000") as caught:
        guard.check()
    assert caught.value.connection == "sf-prod"


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_share_must_be_a_fraction(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        QuotaGuard("x", share)
