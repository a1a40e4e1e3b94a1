"""Rate limits (burst window, daily budget, search per second) and injected faults.

Windows run on the sandbox clock, frozen by the fixture, so the tests move time instead of
sleeping; only the Retry-After test waits (about 2 s of real time, as urllib3 does).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest
from urllib3.util.retry import Retry

from sandbox.core.faults import FaultProfile, FaultRule
from sandbox.hubspot.config import RateLimits
from tests.sandbox.hubspot.conftest import Served, make_config, serve

BURST = 5


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """An emulator with small, enabled limits."""
    limits = RateLimits(burst=BURST, window_seconds=10, daily=50, search_per_second=5)
    yield from serve(make_config(rate_limits=limits))


def _page(client: HubSpot) -> Any:
    """Headers of one list call (urllib3's case-insensitive HTTPHeaderDict)."""
    _, status, headers = client.crm.contacts.basic_api.get_page_with_http_info()
    assert status == 200
    return headers


def test_burst_window_counts_down_then_429_until_the_window_moves(
    hs: Served, client: HubSpot
) -> None:
    remaining = [int(_page(client)["X-HubSpot-RateLimit-Remaining"]) for _ in range(BURST)]
    assert remaining == [4, 3, 2, 1, 0]

    with pytest.raises(ApiException) as raised:
        client.crm.contacts.basic_api.get_page()
    assert raised.value.status == 429
    body = json.loads(raised.value.body)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert "Retry-After" not in raised.value.headers  # HubSpot does not promise one

    hs.emu.sandbox.clock.advance(10)
    assert _page(client)["X-HubSpot-RateLimit-Max"] == str(BURST)


def test_daily_pair_and_daily_limit_resets_at_midnight(hs: Served, client: HubSpot) -> None:
    first = _page(client)
    assert first["X-HubSpot-RateLimit-Daily"] == "50"
    assert first["X-HubSpot-RateLimit-Daily-Remaining"] == "49"
    requests.post(f"{hs.url}/__sandbox/hubspot/quota", json={"spend": 50}, timeout=5)

    with pytest.raises(ApiException) as raised:
        client.crm.contacts.basic_api.get_page()
    assert json.loads(raised.value.body)["policyName"] == "DAILY"

    hs.emu.sandbox.clock.advance(15 * 3600)  # START is 09:00 UTC; the portal day is UTC
    assert _page(client)["X-HubSpot-RateLimit-Daily-Remaining"] == "49"


def test_search_has_its_own_per_second_limit_and_no_headers(hs: Served, client: HubSpot) -> None:
    search = client.crm.contacts.search_api
    for _ in range(5):
        _, status, headers = search.do_search_with_http_info(PublicObjectSearchRequest(limit=1))
        assert status == 200
        assert not [h for h in headers if h.lower().startswith("x-hubspot-ratelimit")]
    with pytest.raises(ApiException) as raised:
        search.do_search(PublicObjectSearchRequest(limit=1))
    body = json.loads(raised.value.body)
    assert (body["policyName"], body["message"]) == (
        "SECONDLY",
        "You have reached your secondly limit.",
    )
    assert _page(client)["X-HubSpot-RateLimit-Remaining"] == str(BURST - 1)  # burst untouched

    hs.emu.sandbox.clock.advance(1)
    assert search.do_search(PublicObjectSearchRequest(limit=1)).total == 0


def test_injected_429_with_retry_after_is_retried_by_urllib3(hs: Served) -> None:
    rule = FaultRule(route="GET /crm/v3/objects/contacts", rate_limited=1.0, times=2)
    hs.emu.sandbox.faults.set_profile(FaultProfile(rules=[rule]))
    retry = Retry(
        total=3,
        status_forcelist=(429,),
        allowed_methods=None,
        backoff_factor=0,
        respect_retry_after_header=True,
    )
    client = hs.client(retry=retry)

    assert client.crm.contacts.basic_api.get_page().results == []

    statuses = [e.status for e in hs.logged("/crm/v3/objects/contacts", 3)]
    assert statuses == [429, 429, 200]


@pytest.mark.parametrize(
    ("fault", "status", "category"),
    [
        ({"error_5xx": 1.0, "status_5xx": 502}, 502, "INTERNAL_ERROR"),
        ({"expired_token": 1.0}, 401, "EXPIRED_AUTHENTICATION"),
        ({"quota_exhausted": 1.0}, 429, "RATE_LIMITS"),
        ({"unable_to_lock_row": 1.0}, 423, "LOCKED"),
    ],
)
def test_faults_render_in_hubspot_format(
    hs: Served, client: HubSpot, fault: dict[str, object], status: int, category: str
) -> None:
    profile = {"rules": [{"route": "POST /crm/v3/objects/*", **fault}]}
    answer = requests.put(f"{hs.url}/__sandbox/faults", json=profile, timeout=5)
    assert answer.status_code == 200

    assert client.crm.contacts.basic_api.get_page().results == []  # GET is not covered
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the client's class differs by status
        client.crm.contacts.basic_api.create({"properties": {"email": "x@example.com"}})
    assert getattr(raised.value, "status", None) == status
    assert json.loads(raised.value.body)["category"] == category  # type: ignore[attr-defined]
    assert hs.emu.store.table("contacts").objects == {}


def test_retry_after_header_when_configured_counts_down_on_the_sandbox_clock() -> None:
    limits = RateLimits(burst=2, window_seconds=10, retry_after_header=True)
    for running in serve(make_config(rate_limits=limits)):
        running.reset()
        # urllib3's default Retry honours Retry-After on a GET 429 and would sleep it three
        # times; switch that off to see the 429 itself.
        client = running.client(retry=Retry(total=0, respect_retry_after_header=False))
        _page(client)
        running.emu.sandbox.clock.advance(4)
        _page(client)
        with pytest.raises(ApiException) as raised:
            client.crm.contacts.basic_api.get_page()
        # The oldest call leaves the 10 s window 6 s from now.
        assert raised.value.headers["Retry-After"] == "6"
        running.emu.sandbox.clock.advance(6)
        assert _page(client)["X-HubSpot-RateLimit-Remaining"] == "0"


def test_connection_reset_fault_reaches_the_client_as_a_transport_error(hs: Served) -> None:
    from urllib3.exceptions import MaxRetryError

    rule = FaultRule(route="GET /crm/v3/objects/contacts", reset=1.0, times=1)
    hs.emu.sandbox.faults.set_profile(FaultProfile(rules=[rule]))
    client = hs.client(retry=Retry(total=0))
    with pytest.raises(MaxRetryError):
        client.crm.contacts.basic_api.get_page()
    assert client.crm.contacts.basic_api.get_page().results == []  # the next call is served
