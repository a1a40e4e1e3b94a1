"""The identity graph's `ref` rule in the store, on SQLite and PostgreSQL: a record that names
another system's id (a CRM contact's Zalo user id) is the same person as the record with that
id, whichever of the two is pulled first; an ambiguous or conflicting reference links no one;
erasing the person removes the stored references."""

from __future__ import annotations

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from service.domain import Customer, SourceRef
from service.store.erasure import ErasureStore
from service.store.records import RecordStore
from service.store.tables import Customer as CustomerRow
from service.store.tables import IdentityDecision, IdentityRef

OBJECTS = {"crm": "contacts", "crm2": "Contact", "chat": "followers"}
KINDS = {"crm": "hubspot", "crm2": "salesforce", "chat": "zalo"}
ZALO_ID = "7403916482001573992"  # above 2**53: kept as a string end to end


def record(connection: str, crm_id: str, **fields: object) -> Customer:
    return Customer(
        id=crm_id,
        source=SourceRef(connection=connection, crm_object=OBJECTS[connection], crm_id=crm_id),
        **fields,  # type: ignore[arg-type]
    )


def people(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(CustomerRow)).one())


def decisions(engine: Engine) -> list[IdentityDecision]:
    with Session(engine) as session:
        return list(session.exec(select(IdentityDecision)).all())


def test_a_follower_pulled_after_the_contact_naming_it_joins_that_person(engine: Engine) -> None:
    store = RecordStore(engine, kinds=KINDS)
    (lan,) = store.upsert("crm", [record("crm", "101", refs={"zalo": ZALO_ID})]).changed_customers
    joined = store.upsert("chat", [record("chat", ZALO_ID, display_name="Lan")])
    assert joined.changed_customers == {lan}
    assert people(engine) == 1
    assert store.crm_ids("chat", [lan]) == {lan: ("followers", ZALO_ID)}
    (decision,) = decisions(engine)
    assert (decision.rule, decision.confidence, decision.connection) == ("ref", 0.98, "chat")
    assert decision.value_hash
    assert ZALO_ID not in decision.value_hash


def test_a_contact_pulled_after_the_record_it_names_joins_that_person(engine: Engine) -> None:
    store = RecordStore(engine, kinds=KINDS)
    (lan,) = store.upsert("chat", [record("chat", ZALO_ID)]).changed_customers
    # Named by connection name this time, not by kind.
    assert store.upsert(
        "crm", [record("crm", "101", refs={"chat": ZALO_ID})]
    ).changed_customers == {lan}
    assert people(engine) == 1


def test_a_ref_names_a_kind_only_when_the_store_knows_the_connections_kinds(
    engine: Engine,
) -> None:
    store = RecordStore(engine)  # no kinds: "zalo" is no connection's name
    store.upsert("crm", [record("crm", "101", refs={"zalo": ZALO_ID})])
    store.upsert("chat", [record("chat", ZALO_ID)])
    assert people(engine) == 2


def test_two_contacts_naming_one_follower_link_no_one(engine: Engine) -> None:
    store = RecordStore(engine, kinds=KINDS)
    store.upsert(
        "crm",
        [
            record("crm", "101", refs={"zalo": ZALO_ID}),
            record("crm", "102", refs={"zalo": ZALO_ID}),
        ],
    )
    store.upsert("chat", [record("chat", ZALO_ID)])
    assert people(engine) == 3
    assert decisions(engine) == []


def test_a_ref_and_an_email_pointing_at_two_persons_link_no_one(engine: Engine) -> None:
    store = RecordStore(engine, kinds=KINDS)
    store.upsert("crm", [record("crm", "101", email="lan@example.vn")])
    store.upsert("chat", [record("chat", ZALO_ID)])
    # A Salesforce contact with Lan's address but naming the other person's Zalo id.
    store.upsert("crm2", [record("crm2", "003A", email="lan@example.vn", refs={"zalo": ZALO_ID})])
    assert people(engine) == 3


def test_a_ref_agreeing_with_the_email_links_by_ref(engine: Engine) -> None:
    store = RecordStore(engine, kinds=KINDS)
    (lan,) = store.upsert("chat", [record("chat", ZALO_ID)]).changed_customers
    store.upsert("crm", [record("crm", "101", email="lan@example.vn", refs={"zalo": ZALO_ID})])
    joined = store.upsert("crm2", [record("crm2", "003A", email="lan@example.vn")])
    assert joined.changed_customers == {lan}
    assert sorted(d.rule for d in decisions(engine)) == ["email", "ref"]


def test_pulling_the_contact_again_replaces_its_refs_and_erasure_removes_them(
    engine: Engine,
) -> None:
    store = RecordStore(engine, kinds=KINDS)
    (lan,) = store.upsert("crm", [record("crm", "101", refs={"zalo": "1"})]).changed_customers
    store.upsert("crm", [record("crm", "101", refs={"zalo": ZALO_ID}, display_name="Lan")])
    with Session(engine) as session:
        assert [r.ref_key for r in session.exec(select(IdentityRef)).all()] == [f"zalo:{ZALO_ID}"]
    ErasureStore(engine).delete(lan, None, {})
    with Session(engine) as session:
        assert session.exec(select(IdentityRef)).all() == []
