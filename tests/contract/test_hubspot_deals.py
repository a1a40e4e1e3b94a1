"""HubSpot deals made of line items: a deal without its own amount is worth its items' sum."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.domain import Transaction
from tests.contract.harness import HubSpotHarness


@pytest.fixture(scope="module")
def crm() -> Iterator[HubSpotHarness]:
    with HubSpotHarness(20) as harness:
        yield harness


def test_a_deal_without_amount_takes_its_line_items_sum(crm: HubSpotHarness) -> None:
    sdk = crm._sdk()
    contact = crm.customer_ids()[0]
    deal = sdk.crm.objects.basic_api.create(
        "deals",
        {
            "properties": {
                "dealname": "Line items only",
                "dealstage": "closedwon",
                "closedate": "2026-03-01T00:00:00Z",
                "pipeline": "default",
            },
            "associations": [
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
                }
            ],
        },
    )
    for price, quantity in (("120.50", "2"), ("30", "1")):
        sdk.crm.objects.basic_api.create(
            "line_items",
            {
                "properties": {"name": "item", "price": price, "quantity": quantity},
                "associations": [
                    {
                        "to": {"id": deal.id},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 20}
                        ],
                    }
                ],
            },
        )
    reader = crm.reader()
    stream = next(s for s in reader.streams() if s.name == "deals")
    pulled = [r for b in reader.pull(stream, None) for r in b.records if r.id == str(deal.id)]
    assert len(pulled) == 1
    assert isinstance(pulled[0], Transaction)
    assert pulled[0].amount == pytest.approx(271.0)
