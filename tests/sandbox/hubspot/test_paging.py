"""Paging through 5,000 contacts with the real client: every record once, in id order."""

from __future__ import annotations

import json
from itertools import islice

import pytest
from hubspot.crm.contacts import ApiException

from sandbox.data.model import Company, Owner, Person, Record
from tests.sandbox.hubspot.conftest import START, Served

CUSTOMERS = 5_000


def _people(customers: int) -> list[Record]:
    """An owner, one company and ``customers`` persons, built directly: paging is about the
    emulator, so the test does not pay for generating whole customer histories."""
    records: list[Record] = [
        Owner("o1", "Kaja", "Kask", "kaja@example.ee", "et"),
        Company("c1", "Kohvik OÜ", "kohvik.ee", "EE", "Retail", "o1", START, None),
    ]
    records += [
        Person(
            f"p{i}",
            "c1",
            "Mari",
            f"Tamm{i}",
            f"mari.tamm{i}@kohvik.ee",
            "+372 5555 0000",
            "et",
            "EE",
            "Europe/Tallinn",
            "o1",
            START,
            False,
        )
        for i in range(customers)
    ]
    return records


def _load_people(hs: Served, customers: int) -> None:
    hs.emu.load(_people(customers))


def test_get_all_pages_through_5000_contacts_once_each(hs: Served) -> None:
    _load_people(hs, CUSTOMERS)
    client = hs.client()

    everyone = client.crm.contacts.get_all()

    ids = [int(c.id) for c in everyone]
    assert len(ids) == CUSTOMERS
    assert ids == sorted(set(ids))
    assert {c.properties["email"] for c in everyone} == {
        p.email for p in _people(CUSTOMERS) if isinstance(p, Person)
    }
    # get_all asks for 100 per page: 50 list calls, nothing else.
    assert len(hs.logged("/crm/v3/objects/contacts", CUSTOMERS // 100)) == CUSTOMERS // 100


def test_manual_paging_cursor_and_last_page(hs: Served) -> None:
    _load_people(hs, 25)
    api = hs.client().crm.contacts.basic_api
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = api.get_page(limit=10, after=after, properties=["email", "hs_language"])
        pages += 1
        seen += [r.id for r in page.results]
        assert all(set(r.properties) == {"email", "hs_language"} for r in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
        assert f"after={after}" in page.paging.next.link
    assert pages == 3
    assert len(seen) == len(set(seen)) == 25


def test_list_limit_over_100_is_rejected(hs: Served) -> None:
    api = hs.client().crm.contacts.basic_api
    with pytest.raises(ApiException) as raised:
        api.get_page(limit=101)
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["category"] == "VALIDATION_ERROR"


def test_archived_records_leave_the_list_and_appear_with_archived_true(hs: Served) -> None:
    _load_people(hs, 12)
    api = hs.client().crm.contacts.basic_api
    first_three = [c.id for c in islice(api.get_page(limit=3).results, 3)]
    for contact_id in first_three:
        api.archive(contact_id)

    live = api.get_page(limit=100)
    archived = api.get_page(limit=100, archived=True)

    assert len(live.results) == 9
    assert not set(first_three) & {r.id for r in live.results}
    assert [r.id for r in archived.results] == first_three
    assert all(r.archived and r.archived_at is not None for r in archived.results)
