"""The identity graph in the store, on SQLite and PostgreSQL: records pulled from two connections
are one person when their verified e-mail matches, and not when the value is a role address,
shared within a connection, or only a phone; placeholders made by history join the person too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from service.domain import Channel, Customer, Interaction, SourceRef
from service.store.records import RecordStore
from service.store.tables import CrmLink, EntityType, IdentityDecision
from service.store.tables import Customer as CustomerRow

T0 = datetime(2026, 10, 1, tzinfo=UTC)
OBJECTS = {"hs": ("contacts", "calls"), "sf": ("Contact", "Task")}


def person(connection: str, crm_id: str, **fields: str) -> Customer:
    return Customer(
        id=crm_id,
        source=SourceRef(connection=connection, crm_object=OBJECTS[connection][0], crm_id=crm_id),
        **fields,  # type: ignore[arg-type]
    )


def note(connection: str, crm_id: str, customer: str, minutes: int = 0) -> Interaction:
    return Interaction(
        id=crm_id,
        customer_id=customer,
        channel=Channel.EMAIL,
        occurred_at=T0 + timedelta(minutes=minutes),
        source=SourceRef(connection=connection, crm_object=OBJECTS[connection][1], crm_id=crm_id),
    )


def people(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(CustomerRow)).one())


def test_the_same_address_in_two_crms_is_one_person_with_both_histories(engine: Engine) -> None:
    store = RecordStore(engine)
    hs = store.upsert(
        "hs",
        [person("hs", "101", email="Ann.Lee@Example.com", phone="+84 90 123 4567"),
         note("hs", "c1", "101")],
    )  # fmt: skip
    sf = store.upsert(
        "sf",
        [person("sf", "003A", email=" ann.lee@example.COM", phone="090 123 4567",
                language="vi_VN"),
         note("sf", "t1", "003A", 5)],
    )  # fmt: skip
    assert people(engine) == 1
    (ann,) = hs.changed_customers
    assert sf.changed_customers == {ann}
    assert store.known_customer("sf", "003A") == ann
    history = store.history([ann])[ann]
    assert sorted(i.id for i in history.interactions) == ["c1", "t1"]
    # Each connection's scoring reads its own record (its owner and account ids are its own).
    assert store.history([ann], "sf")[ann].customer.language == "vi_VN"
    assert store.history([ann], "hs")[ann].customer.language is None
    assert store.crm_ids("sf", [ann]) == {ann: ("Contact", "003A")}
    assert store.crm_ids("hs", [ann]) == {ann: ("contacts", "101")}
    with Session(engine) as session:
        (decision,) = session.exec(select(IdentityDecision)).all()
    assert (decision.customer_id, decision.connection, decision.crm_id) == (ann, "sf", "003A")
    # The national number read in the record's region (vi_VN) agrees: e-mail and phone.
    assert (decision.rule, decision.confidence) == ("email+phone", 0.99)
    assert decision.decided_by == "auto"
    # The log keeps a hash of the address, never the address.
    assert decision.value_hash
    assert "ann" not in decision.value_hash


def test_gmail_dots_and_tags_are_the_same_address(engine: Engine) -> None:
    store = RecordStore(engine)
    store.upsert("hs", [person("hs", "1", email="a.lee+shop@googlemail.com")])
    store.upsert("sf", [person("sf", "2", email="ALee@gmail.com")])
    assert people(engine) == 1


def test_role_addresses_shared_values_and_phones_alone_link_no_one(engine: Engine) -> None:
    store = RecordStore(engine)
    store.upsert(
        "hs",
        [person("hs", "1", email="info@shop.example"),
         # Two HubSpot contacts share a family address: ambiguous.
         person("hs", "2", email="family@example.com"),
         person("hs", "3", email="family@example.com"),
         person("hs", "4", email="bo@example.com", phone="+44 20 7946 0000")],
    )  # fmt: skip
    store.upsert(
        "sf",
        [person("sf", "a", email="INFO@shop.example"),
         person("sf", "b", email="family@example.com"),
         person("sf", "c", email="other@example.com", phone="+44 (20) 7946-0000")],
    )  # fmt: skip
    assert people(engine) == 7
    with Session(engine) as session:
        assert session.exec(select(IdentityDecision)).all() == []


def test_a_bounced_address_is_not_verified(engine: Engine) -> None:
    store = RecordStore(engine)
    store.upsert("hs", [person("hs", "1", email="zoe@example.com")])
    bounced = person("sf", "2", email="zoe@example.com").model_copy(
        update={"attributes": {"email_bounced": True}}
    )
    store.upsert("sf", [bounced])
    assert people(engine) == 2


def test_a_placeholder_made_by_history_joins_the_person_with_its_history(engine: Engine) -> None:
    store = RecordStore(engine)
    store.upsert("hs", [person("hs", "101", email="kim@example.com"), note("hs", "c1", "101")])
    # Salesforce history arrives before its contact: a placeholder customer holds it.
    store.upsert("sf", [note("sf", "t1", "003K")])
    assert people(engine) == 2
    report = store.upsert("sf", [person("sf", "003K", email="kim@example.com")])
    assert people(engine) == 1
    kim = store.known_customer("hs", "101")
    assert kim is not None
    assert report.changed_customers == {kim}
    assert store.known_customer("sf", "003K") == kim
    assert sorted(i.id for i in store.history([kim])[kim].interactions) == ["c1", "t1"]
    # Later history of the Salesforce contact goes to the person directly.
    store.upsert("sf", [note("sf", "t2", "003K", 9)])
    assert sorted(i.id for i in store.history([kim])[kim].interactions) == ["c1", "t1", "t2"]


def test_a_person_never_gets_two_records_of_one_connection(engine: Engine) -> None:
    store = RecordStore(engine)
    store.upsert("hs", [person("hs", "1", email="max@example.com")])
    store.upsert("sf", [person("sf", "a", email="max@example.com")])
    # A second Salesforce record with the address arrives later: the value is now shared within
    # Salesforce, and the person already has a Salesforce record; it stays someone else.
    store.upsert("sf", [person("sf", "b", email="max@example.com")])
    assert people(engine) == 2
    assert store.known_customer("sf", "b") != store.known_customer("hs", "1")


def test_a_record_once_placed_is_not_moved_by_later_pulls(engine: Engine) -> None:
    store = RecordStore(engine)
    store.upsert("sf", [person("sf", "a", email="old@example.com")])
    store.upsert("hs", [person("hs", "1", email="lea@example.com")])
    # The Salesforce record's address changes to the HubSpot one: it keeps its person (a
    # decision, automatic or manual, is not revisited by a sync).
    store.upsert("sf", [person("sf", "a", email="lea@example.com", display_name="Lea")])
    assert people(engine) == 2
    with Session(engine) as session:
        keys = session.exec(
            select(CrmLink.match_email).where(
                CrmLink.entity_type == EntityType.CUSTOMER.value, CrmLink.crm_id == "a"
            )
        ).all()
    assert keys == ["lea@example.com"]  # kept current for records pulled later


def test_many_records_in_one_batch(engine: Engine) -> None:
    store = RecordStore(engine)
    store.upsert("hs", [person("hs", str(i), email=f"p{i}@example.com") for i in range(1500)])
    report = store.upsert(
        "sf", [person("sf", f"s{i}", email=f"P{i}@Example.com") for i in range(0, 1500, 2)]
    )
    assert people(engine) == 1500
    assert len(report.changed_customers) == 750
