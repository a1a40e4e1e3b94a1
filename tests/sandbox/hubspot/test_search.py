"""CRM search: index lag on the sandbox clock, filters, sorts, paging and HubSpot's caps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest, SimplePublicObjectInput

from tests.sandbox.hubspot.conftest import Served, make_config, serve

LAG = 10.0


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """An emulator whose writes reach search after 10 s on the sandbox clock."""
    yield from serve(make_config(search_lag_seconds=LAG))


def _search(client: HubSpot, **body: Any) -> Any:
    return client.crm.contacts.search_api.do_search(PublicObjectSearchRequest(**body))


def _by_email(email: str) -> list[dict[str, Any]]:
    return [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}]


def test_writes_reach_search_only_after_the_lag_but_gets_are_immediate(
    hs: Served, client: HubSpot
) -> None:
    api = client.crm.contacts.basic_api
    created = api.create({"properties": {"email": "mai@example.vn", "lastname": "Pham"}})
    assert api.get_by_id(created.id).properties["email"] == "mai@example.vn"
    assert _search(client, filter_groups=_by_email("mai@example.vn")).total == 0

    hs.emu.sandbox.clock.advance(LAG)
    found = _search(client, filter_groups=_by_email("mai@example.vn"), properties=["lastname"])
    assert [r.id for r in found.results] == [created.id]

    api.update(created.id, SimplePublicObjectInput(properties={"lastname": "Vo"}))
    stale = _search(client, filter_groups=_by_email("mai@example.vn"), properties=["lastname"])
    assert stale.results[0].properties["lastname"] == "Pham"  # the index still has the old version
    hs.emu.sandbox.clock.advance(LAG)
    fresh = _search(client, filter_groups=_by_email("mai@example.vn"), properties=["lastname"])
    assert fresh.results[0].properties["lastname"] == "Vo"

    api.archive(created.id)
    assert _search(client, filter_groups=_by_email("mai@example.vn")).total == 1
    hs.emu.sandbox.clock.advance(LAG)
    assert _search(client, filter_groups=_by_email("mai@example.vn")).total == 0


def _seed(client: HubSpot, hs: Served, n: int) -> list[str]:
    rows = [
        {
            "properties": {
                "email": f"c{i}@example.com",
                "firstname": f"Name{i}",
                "associatedcompanyid": str(i % 4),
            }
        }
        for i in range(n)
    ]
    ids: list[str] = []
    for start in range(0, n, 100):
        made = client.crm.contacts.batch_api.create({"inputs": rows[start : start + 100]})
        ids += [r.id for r in made.results]
    hs.emu.sandbox.clock.advance(LAG)
    return ids


def test_filter_groups_or_and_filters_and_sorts(hs: Served, client: HubSpot) -> None:
    _seed(client, hs, 20)
    groups = [
        {
            "filters": [
                {"propertyName": "associatedcompanyid", "operator": "EQ", "value": "1"},
                {
                    "propertyName": "firstname",
                    "operator": "NEQ",
                    "value": "name1",
                },  # case-insensitive
            ]
        },
        {"filters": [{"propertyName": "email", "operator": "IN", "values": ["c2@example.com"]}]},
    ]
    found = _search(
        client,
        filter_groups=groups,
        sorts=[{"propertyName": "associatedcompanyid", "direction": "DESCENDING"}],
        properties=["email", "associatedcompanyid"],
        limit=100,
    )
    emails = [r.properties["email"] for r in found.results]
    assert found.total == 5
    assert emails[0] == "c2@example.com"  # company id 2 sorts before the four with 1
    assert sorted(emails[1:]) == [
        "c13@example.com",
        "c17@example.com",
        "c5@example.com",
        "c9@example.com",
    ]

    numeric = _search(
        client,
        filter_groups=[
            {
                "filters": [
                    {
                        "propertyName": "associatedcompanyid",
                        "operator": "BETWEEN",
                        "value": "2",
                        "highValue": "3",
                    }
                ]
            }
        ],
        limit=100,
    )
    assert numeric.total == 10
    token = _search(
        client,
        filter_groups=[
            {"filters": [{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "c1*"}]}
        ],
        limit=100,
    )
    assert token.total == 11  # c1 and c10..c19
    assert _search(client, query="name7").total == 1


def test_paging_with_after_offsets(hs: Served, client: HubSpot) -> None:
    ids = _seed(client, hs, 250)
    seen: list[str] = []
    after = None
    while True:
        page = _search(client, limit=200, after=after)
        seen += [r.id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == ids
    assert page.total == 250


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 201},
        {"after": "10000"},
        {
            "filter_groups": [
                {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 11}
            ]
        },
        {
            "filter_groups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}]
            * 6
        },
        {
            "filter_groups": [
                {"filters": [{"propertyName": "no_such_prop", "operator": "EQ", "value": "x"}]}
            ]
        },
        {"sorts": ["email", "firstname"]},
    ],
)
def test_hubspot_caps_are_400_validation_errors(client: HubSpot, body: dict[str, Any]) -> None:
    with pytest.raises(ApiException) as raised:
        _search(client, **body)
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["category"] == "VALIDATION_ERROR"


def test_incremental_sync_by_lastmodifieddate_watermark(hs: Served, client: HubSpot) -> None:
    ids = _seed(client, hs, 6)
    watermark = hs.emu.sandbox.clock.now()
    hs.emu.sandbox.clock.advance(60)
    for contact_id in ids[3:]:
        client.crm.contacts.basic_api.update(
            contact_id, SimplePublicObjectInput(properties={"firstname": "Changed"})
        )
    hs.emu.sandbox.clock.advance(LAG)

    since = str(int(watermark.timestamp() * 1000) + 1)  # ms epoch, as adapters send it
    changed = _search(
        client,
        filter_groups=[
            {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": since}]}
        ],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        properties=["firstname", "lastmodifieddate"],
    )
    assert [r.id for r in changed.results] == ids[3:]
    assert {r.properties["firstname"] for r in changed.results} == {"Changed"}


def test_search_tasks_by_associated_contact(hs: Served, client: HubSpot) -> None:
    mine = client.crm.contacts.basic_api.create({"properties": {"email": "me@example.com"}})
    other = client.crm.contacts.basic_api.create({"properties": {"email": "you@example.com"}})
    tasks = client.crm.objects.tasks.basic_api
    made = []
    for owner, subject in ((mine, "a"), (other, "b"), (mine, "c")):
        task = tasks.create(
            {
                "properties": {"hs_timestamp": "2026-03-09T00:00:00Z", "hs_task_subject": subject},
                "associations": [
                    {
                        "to": {"id": owner.id},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}
                        ],
                    }
                ],
            }
        )
        made.append(task.id)
    hs.emu.sandbox.clock.advance(LAG)

    found = client.crm.objects.tasks.search_api.do_search(
        {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "associations.contact", "operator": "EQ", "value": mine.id}
                    ]
                }
            ],
            "properties": ["hs_task_subject"],
        }
    )
    assert [r.properties["hs_task_subject"] for r in found.results] == ["a", "c"]
    assert [r.id for r in found.results] == [made[0], made[2]]


def test_lag_and_limits_change_at_run_time_through_the_admin_api(
    hs: Served, client: HubSpot
) -> None:
    import requests

    settings = f"{hs.url}/__sandbox/hubspot/settings"
    answer = requests.put(settings, json={"search_lag_seconds": 0}, timeout=5)
    assert answer.json()["search_lag_seconds"] == 0
    client.crm.contacts.basic_api.create({"properties": {"email": "now@example.com"}})
    assert _search(client, filter_groups=_by_email("now@example.com")).total == 1

    bad = requests.put(settings, json={"rate_limits": {"timezone": "Mars/Olympus"}}, timeout=5)
    assert bad.status_code == 422
    assert "unknown time zone" in bad.text
    requests.put(settings, json={"search_lag_seconds": LAG}, timeout=5)
