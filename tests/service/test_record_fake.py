"""The in-memory record store (tests/fakes/records.py) behaves as `RecordStore` where the use
cases can tell: one scenario runs on both (the database one on SQLite and PostgreSQL) and every
read is compared, persons named by their `crm_keys` (our ids are random per store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from service.domain import (
    Account,
    Channel,
    Customer,
    DomainModel,
    Interaction,
    Owner,
    SourceRef,
    SurveyKind,
    SurveyResponse,
    Transaction,
)
from service.store.records import RecordStore
from service.usecases.repositories import RecordRepository
from tests.fakes.records import InMemoryRecords

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def src(connection: str, obj: str, crm_id: str) -> SourceRef:
    return SourceRef(connection=connection, crm_object=obj, crm_id=crm_id)


def hubspot(with_bob: bool = False) -> list[DomainModel]:
    records: list[DomainModel] = [
        Owner(id="o1", name="Hoa", language="vi", source=src("hs", "owners", "o1")),
        Account(id="a1", name="Shop", source=src("hs", "companies", "a1")),
        Customer(id="101", email="Ann@Example.com", account_id="a1", owner_id="o1",
                 language="vi", source=src("hs", "contacts", "101")),
        Interaction(id="e1", customer_id="101", channel=Channel.EMAIL, occurred_at=T0,
                    text="Giao hàng chậm", source=src("hs", "emails", "e1")),
        Transaction(id="d1", customer_id="101", amount=Decimal("12.50"),
                    occurred_at=T0 - timedelta(days=9), source=src("hs", "deals", "d1")),
        # History of a contact not pulled yet: a placeholder person until it comes.
        Interaction(id="e2", customer_id="999", channel=Channel.CHAT,
                    occurred_at=T0 + timedelta(hours=1), source=src("hs", "emails", "e2")),
    ]  # fmt: skip
    if with_bob:
        records.append(
            Customer(id="999", email="bob@example.org", source=src("hs", "contacts", "999"))
        )
    return records


SALESFORCE: list[DomainModel] = [
    Customer(id="003A", email=" ann@example.com", source=src("sf", "Contact", "003A")),
    SurveyResponse(id="s1", customer_id="003A", kind=SurveyKind.NPS, value=3, scale=(0, 10),
                   occurred_at=T0, source=src("sf", "Survey__c", "s1")),
]  # fmt: skip


def observe(store: RecordRepository) -> list[Any]:
    """Everything the use cases read, persons named by their CRM key."""
    seen: list[Any] = []

    def name(person: str | None) -> str | None:
        return None if person is None else store.crm_keys().get(person, "?")

    def run(connection: str, records: list[DomainModel]) -> None:
        report = store.upsert(connection, records)
        seen.append((report.stored, report.unchanged, sorted(map(name, report.changed_customers))))

    run("hs", hubspot())
    run("sf", SALESFORCE)
    run("hs", hubspot())  # nothing new
    run("hs", hubspot(with_bob=True))  # the placeholder's contact arrives
    persons = sorted(store.crm_keys())
    seen.append(sorted(map(name, store.mark_deleted("hs", "emails", ["e1", "nope"]))))
    for connection in ("hs", "sf"):
        seen.append(sorted(map(name, store.customer_ids(connection))))
        seen.append(sorted((name(p), v) for p, v in store.crm_ids(connection, persons).items()))
        seen.append(store.customer_languages(connection, ["101", "003A", "999"]))
        seen.append([name(store.known_customer(connection, i)) for i in ("101", "003A", "x")])
    seen.append(name(store.customer_for("sf", "new")) is not None)
    seen.append([store.exists("hs", "emails", "e2"), store.exists("hs", "emails", "zz")])
    seen.append(sorted((t.id, name(t.customer_id)) for t in store.transactions()))
    seen.append({k: a.name for k, a in store.accounts("hs", ["a1", "a2"]).items()})
    seen.append({k: o.language for k, o in store.owners("hs").items()})
    for connection in ("hs", "sf", None):
        for person, h in sorted(
            store.history(persons, connection).items(), key=lambda i: str(name(i[0]))
        ):
            seen.append((
                name(person), h.customer.email, h.customer.language, h.crm_account_id,
                h.customer.id == person, [s.id for s in h.surveys],
                [(i.id, i.text) for i in h.interactions], [t.id for t in h.transactions],
            ))  # fmt: skip
    return seen


def test_the_fake_reads_back_what_the_database_store_does(engine: Engine) -> None:
    real, fake = observe(RecordStore(engine)), observe(InMemoryRecords())
    assert fake == real
    # The scenario means something: Ann is one person in two CRMs, Bob took over his
    # placeholder, the repeat pull changed nothing.
    assert real[1] == (2, 0, ["hs/contacts/101"])
    assert real[2][1] == 6
    assert real[0] == (6, 0, ["hs/?/999", "hs/contacts/101"])
    assert real[3] == (1, 6, ["hs/contacts/999"])
    # known_customer in each CRM: Ann's records there are one person.
    assert ["hs/contacts/101", None, None] in real
    assert [None, "hs/contacts/101", None] in real
