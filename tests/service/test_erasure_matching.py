"""Erasure across connections (the person the identity graph made of records in several CRMs)
and the keyed suppression list, on SQLite and PostgreSQL; the CRMs are a fake writer that
records what was cleared."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, text
from sqlmodel import Session, select

from service.domain import Customer, Interaction, SourceRef
from service.ports import ActionTask, FieldUpdate, ProvisionReport, WriteReport
from service.store.erasure import ErasureStore
from service.store.identity import normal_email, phone_digits
from service.store.records import RecordStore
from service.store.suppression import SuppressedRecord, SuppressionList, legacy_key
from service.store.tables import Customer as CustomerRow
from service.store.tables import Suppression
from service.store.tasks import TaskLedgerRepository
from service.usecases.erase import ErasureStores, erase_customer

NOW = datetime(2026, 12, 1, tzinfo=UTC)
KEY = "a-suppression-key-of-at-least-32-chars!"


class FakeWriter:
    """Clears fields by recording them (the CRM state the test asserts on)."""

    pushable = frozenset({"contacts", "Contact", "Lead"})

    def __init__(self, cleared: list[tuple[str, str]]) -> None:
        self.cleared = cleared

    def clear_fields(self, crm_object: str, crm_ids: Sequence[str]) -> WriteReport:
        self.cleared.extend((crm_object, i) for i in crm_ids)
        return WriteReport(written=tuple(crm_ids), calls=1)

    def close_tasks(self, keys: Sequence[str]) -> WriteReport:
        return WriteReport(written=tuple(keys), calls=1)

    def upsert_fields(self, updates: Sequence[FieldUpdate]) -> WriteReport:
        return WriteReport()

    def create_tasks(self, tasks: Sequence[ActionTask]) -> WriteReport:
        return WriteReport()

    def provision(self, *, dry_run: bool) -> ProvisionReport:
        raise NotImplementedError


def person(connection: str, obj: str, crm_id: str, **fields: str | None) -> Customer:
    return Customer(id=crm_id, source=SourceRef(connection=connection, crm_object=obj,
                                                crm_id=crm_id), **fields)  # type: ignore[arg-type]  # fmt: skip


def store(engine: Engine) -> RecordStore:
    return RecordStore(engine, suppressions=SuppressionList(engine, KEY))


def customer_id(engine: Engine, connection: str, crm_id: str) -> str | None:
    return store(engine).known_customer(connection, crm_id)


def test_normalisation() -> None:
    assert normal_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"
    assert normal_email("not-an-address") is None
    assert phone_digits("+44 (20) 7946-0000") == phone_digits("0044 20 7946 0000") == "442079460000"
    assert phone_digits("ext. 123") is None  # too short to name anyone


def test_erasure_finds_the_same_person_in_another_connection(engine: Engine) -> None:
    records = store(engine)
    records.upsert("hs", [
        person("hs", "contacts", "101", display_name="Ann Lee", email="Ann.Lee@Example.com"),
        person("hs", "contacts", "102", display_name="Bob", email="bob@example.com"),
        person("hs", "contacts", "103", display_name="A. Lee", phone="+1 (555) 010-4477"),
    ])  # fmt: skip
    records.upsert("sf", [
        person("sf", "Contact", "003A", display_name="Ann Lee", email=" ann.lee@example.COM",
               phone="001 555 010 4477"),
        person("sf", "Lead", "00QB", display_name="Someone", email="other@example.com"),
    ])  # fmt: skip
    records.upsert("sf", [
        Interaction(id="i1", customer_id="003A", channel="chat", occurred_at=NOW, text="hi",
                    source=SourceRef(connection="sf", crm_object="Task", crm_id="00T1"))
    ])  # fmt: skip
    ann_hs = customer_id(engine, "hs", "101")
    assert ann_hs is not None
    cleared: list[tuple[str, str]] = []
    report = erase_customer(
        ann_hs,
        lambda _name: FakeWriter(cleared),  # type: ignore[arg-type,return-value]
        ErasureStores(
            ErasureStore(engine, SuppressionList(engine, KEY)), TaskLedgerRepository(engine)
        ),
    )
    # The Salesforce contact shares the e-mail: the graph made it the same person, so it is
    # part of the footprint. Contact 103 shares only a phone with the Salesforce record (a
    # phone alone links no one), so it is someone else.
    assert report.matched == []
    assert sorted(cleared) == [("Contact", "003A"), ("contacts", "101")]
    assert customer_id(engine, "hs", "101") is None
    assert customer_id(engine, "sf", "003A") is None
    for kept in (("hs", "102"), ("hs", "103"), ("sf", "00QB")):
        assert customer_id(engine, *kept) is not None, kept
    with Session(engine) as session:
        emails = [c.email for c in session.exec(select(CustomerRow))]
        names = [c.display_name for c in session.exec(select(CustomerRow))]
    assert not any(e and "ann" in e.lower() for e in emails)
    assert "Ann Lee" not in names
    with engine.connect() as connection:
        payloads = connection.execute(text("SELECT payload FROM crm_links")).scalars().all()
    assert not any("Ann" in str(p) or "ann.lee" in str(p).lower() for p in payloads)
    # Both records are suppressed: the next pull does not bring either back.
    again = records.upsert("sf", [person("sf", "Contact", "003A", email="ann.lee@example.com")])
    assert again.stored == 0
    assert records.is_erased("hs", "101")
    assert records.is_erased("sf", "003A")


def test_a_phone_alone_erases_no_one_else(engine: Engine) -> None:
    records = store(engine)
    records.upsert("hs", [person("hs", "contacts", "7", phone="+84 90 123 4567")])
    records.upsert("sf", [person("sf", "Contact", "003P", phone="0084-90-123-4567")])
    cleared: list[tuple[str, str]] = []
    target = customer_id(engine, "hs", "7")
    assert target is not None
    erase_customer(
        target,
        lambda _name: FakeWriter(cleared),  # type: ignore[arg-type,return-value]
        ErasureStores(ErasureStore(engine), TaskLedgerRepository(engine)),
    )
    # A shared phone is below the linking threshold (a household's or office's line).
    assert cleared == [("contacts", "7")]
    assert customer_id(engine, "sf", "003P") is not None


def test_the_suppression_list_is_keyed_and_names_no_one(engine: Engine) -> None:
    listing = SuppressionList(engine, KEY)
    listing.add([SuppressedRecord("hs", "contacts", "101")], None)
    with Session(engine) as session:
        (row,) = session.exec(select(Suppression)).all()
    # Not the plain hash: hashing every short HubSpot id does not find it.
    assert row.key != legacy_key("hs", "101")
    assert row.key != hashlib.sha256(b"hs\x1f101").hexdigest()
    assert row.scheme == "hmac"
    assert listing.matcher("hs").matches("101")
    assert not listing.matcher("hs").matches("102")
    assert (
        not SuppressionList(engine, "another-key-of-at-least-32-characters")
        .matcher("hs")
        .matches("101")
    )


def test_old_plain_hash_entries_still_match_and_are_rewritten(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Suppression(connection="hs", key=legacy_key("hs", "55"), scheme="sha256"))
        session.commit()
    records = store(engine)
    assert records.upsert("hs", [person("hs", "contacts", "55")]).stored == 0  # still skipped
    with Session(engine) as session:
        (row,) = session.exec(select(Suppression)).all()
    assert (row.scheme, row.key != legacy_key("hs", "55")) == ("hmac", True)
    assert records.is_erased("hs", "55")


def test_without_a_key_a_generated_one_is_used_and_later_replaced(engine: Engine) -> None:
    unkeyed = SuppressionList(engine)
    unkeyed.add([SuppressedRecord("hs", "contacts", "9")], None)
    with Session(engine) as session:
        (row,) = session.exec(select(Suppression)).all()
    assert row.scheme == "hmac-db"
    assert row.key != legacy_key("hs", "9")
    keyed = SuppressionList(engine, KEY)
    matcher = keyed.matcher("hs")
    assert matcher.matches("9")
    assert matcher.upgrade() == 1
    with Session(engine) as session:
        (row,) = session.exec(select(Suppression)).all()
    assert row.scheme == "hmac"
