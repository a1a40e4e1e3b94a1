"""Tasks go out in the staff's language; when the CRM gives none, their customers' language."""

from __future__ import annotations

from sqlalchemy import Engine

from service.domain import Customer, Owner, SourceRef
from service.store.records import RecordStore


def _source(crm_id: str, crm_object: str) -> SourceRef:
    return SourceRef(connection="hs", crm_object=crm_object, crm_id=crm_id)


def test_an_owner_without_a_language_takes_their_customers_language(engine: Engine) -> None:
    store = RecordStore(engine, keep_text=False)
    owners = [
        Owner(id="o1", source=_source("o1", "owners")),  # HubSpot: no locale
        Owner(id="o2", language="et", source=_source("o2", "owners")),  # mapped: kept
        Owner(id="o3", source=_source("o3", "owners")),  # no customers: stays unknown
    ]
    book = ["vi", "vi-VN", "en", "vi", None] + ["zh"] * 2
    customers = [
        Customer(
            id=f"c{i}",
            owner_id="o1" if i < 5 else "o2",
            language=language,
            source=_source(f"c{i}", "contacts"),
        )
        for i, language in enumerate(book)
    ]
    store.upsert("hs", [*owners, *customers])

    found = store.owners("hs")
    assert found["o1"].language == "vi"  # three of four known languages in the book
    assert found["o2"].language == "et"  # the CRM's value wins over the book's Chinese
    assert found["o3"].language is None
