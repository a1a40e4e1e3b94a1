"""HubSpot search quirks the pull must survive: the index lag and the 10,000-result cap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.contract.harness import HubSpotHarness, SandboxAdmin, ids_of


@pytest.fixture(scope="module")
def crm() -> Iterator[HubSpotHarness]:
    with HubSpotHarness(60) as harness:
        yield harness


def test_the_index_lag_never_loses_a_record(crm: HubSpotHarness) -> None:
    admin = SandboxAdmin(crm.server)
    stream = crm.customer_stream()
    cursor = list(crm.reader().pull(stream, None))[-1].cursor
    admin.advance_clock(3600)
    crm.emulator.objects.search_lag = timedelta(seconds=120)
    try:
        fresh = crm.create_customers(5, prefix="Lagging")
        # Not indexed yet: this pull cannot see them, and its cursor must not pass them.
        early = list(crm.reader().pull(stream, cursor))
        assert not set(fresh) & set(ids_of(early))
        later_cursor = early[-1].cursor
        admin.advance_clock(180)  # the index catches up
        late = list(crm.reader().pull(stream, later_cursor))
        assert set(fresh) <= set(ids_of(late))
    finally:
        crm.emulator.objects.search_lag = timedelta(0)
        admin.reset()


@pytest.mark.slow
def test_more_than_ten_thousand_changes_move_the_window() -> None:
    with HubSpotHarness(10_400) as big:
        stream = big.customer_stream()
        batches = list(big.reader().pull(stream, None))
        pulled = ids_of(batches)
        assert len(pulled) == len(set(pulled))  # the restarted window skips what it delivered
        assert set(pulled) == set(big.customer_ids())
