"""RecordStore.upsert on SQLite and PostgreSQL: canonical ids, placeholders and change detection
when a batch's rows are read up front (service/store/linking.py) instead of record by record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from service.domain import Account, Channel, Customer, Interaction, SourceRef
from service.store.records import RecordStore
from service.store.tables import CrmLink, EntityType
from service.store.tables import Customer as CustomerRow

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def _source(crm_object: str, crm_id: str) -> SourceRef:
    return SourceRef(connection="sf", crm_object=crm_object, crm_id=crm_id)


def contact(crm_id: str, name: str = "Ana", account: str | None = None) -> Customer:
    return Customer(
        id=crm_id, display_name=name, account_id=account, source=_source("Contact", crm_id)
    )


def note(crm_id: str, customer: str, minutes: int = 0) -> Interaction:
    return Interaction(
        id=crm_id,
        customer_id=customer,
        channel=Channel.EMAIL,
        occurred_at=T0 + timedelta(minutes=minutes),
        source=_source("Task", crm_id),
    )


def _customers(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(CustomerRow)).one())


def test_history_before_its_contact_in_one_batch_makes_one_customer(engine: Engine) -> None:
    store = RecordStore(engine)
    stored = store.upsert("sf", [note("T1", "C1"), contact("C1"), note("T2", "C1", 5)])
    assert stored.stored == 3
    assert _customers(engine) == 1
    [customer_id] = stored.changed_customers
    history = store.history([customer_id])[customer_id]
    assert history.customer.display_name == "Ana"
    assert sorted(i.id for i in history.interactions) == ["T1", "T2"]
    assert store.crm_ids("sf", [customer_id]) == {customer_id: ("Contact", "C1")}


def test_customer_languages_by_crm_id_for_those_that_give_one(engine: Engine) -> None:
    store = RecordStore(engine)
    estonian = contact("C1").model_copy(update={"language": "et"})
    store.upsert("sf", [estonian, contact("C2"), note("T1", "C3")])  # C3: a placeholder only
    assert store.customer_languages("sf", ["C1", "C2", "C3", "C4"]) == {"C1": "et"}
    assert store.customer_languages("other", ["C1"]) == {}  # another connection's C1
    assert store.customer_languages("sf", []) == {}


def test_a_contact_pulled_later_takes_over_its_placeholder(engine: Engine) -> None:
    store = RecordStore(engine)
    first = store.upsert("sf", [note("T1", "C1")])
    assert store.crm_ids("sf", first.changed_customers) == {}  # a placeholder, no CRM record
    second = store.upsert("sf", [contact("C1", "Bea")])
    assert second.changed_customers == first.changed_customers
    assert _customers(engine) == 1
    [customer_id] = second.changed_customers
    assert store.history([customer_id])[customer_id].customer.display_name == "Bea"


def test_unchanged_records_are_not_changes_and_changed_ones_are(engine: Engine) -> None:
    store = RecordStore(engine)
    batch = [Account(id="A1", name="Acme", source=_source("Account", "A1"))]
    batch += [contact(f"C{i}", account="A1") for i in range(700)]  # past one lookup chunk
    batch += [note(f"T{i}", f"C{i}") for i in range(700)]
    assert store.upsert("sf", batch).stored == len(batch)
    again = store.upsert("sf", batch)
    assert (again.stored, again.unchanged, again.changed_customers) == (0, len(batch), frozenset())
    renamed = store.upsert(
        "sf",
        [
            contact("C3", "Cleo", account="A1"),
            Account(id="A1", name="Acme Ltd", source=_source("Account", "A1")),
        ],
    )
    assert renamed.stored == 2
    assert len(renamed.changed_customers) == 1
    assert _customers(engine) == 700
    with Session(engine) as session:
        links = session.exec(select(func.count()).select_from(CrmLink)).one()
        accounts = session.exec(
            select(CrmLink).where(CrmLink.entity_type == EntityType.ACCOUNT.value)
        ).all()
    assert links == 1401
    assert [a.payload["name"] for a in accounts if a.payload] == ["Acme Ltd"]


def _links(engine: Engine) -> dict[tuple[str, str], CrmLink]:
    with Session(engine) as session:
        return {(link.crm_object, link.crm_id): link for link in session.exec(select(CrmLink))}


def test_an_update_keeps_the_row_and_its_id_and_is_a_change_once(engine: Engine) -> None:
    # The set-based upsert updates on conflict: same row, same id (history's pull order).
    store = RecordStore(engine)
    first = store.upsert("sf", [contact("C1"), note("T1", "C1"), note("T2", "C1", 5)])
    before = _links(engine)
    edited = note("T1", "C1").model_copy(update={"subject": "Refund?"})
    again = store.upsert("sf", [contact("C1"), edited, note("T2", "C1", 5)])
    assert (again.stored, again.unchanged) == (1, 2)
    assert again.changed_customers == first.changed_customers
    after = _links(engine)
    assert set(after) == set(before)
    assert {k: v.id for k, v in after.items()} == {k: v.id for k, v in before.items()}
    assert after[("Task", "T1")].fingerprint != before[("Task", "T1")].fingerprint
    assert after[("Task", "T1")].linked_at == before[("Task", "T1")].linked_at
    # Our own write coming back (the same canonical record) is no change.
    third = store.upsert("sf", [edited])
    assert (third.stored, third.unchanged, third.changed_customers) == (0, 1, frozenset())


def test_a_record_twice_in_one_page_is_one_row_with_the_last_values(engine: Engine) -> None:
    # PostgreSQL refuses an upsert that touches one row twice; the batch writes each row once.
    store = RecordStore(engine)
    store.upsert("sf", [contact("C1")])
    stored = store.upsert("sf", [contact("C1", "Bea"), note("T1", "C1"), contact("C1", "Cleo")])
    assert stored.stored == 3
    [customer_id] = stored.changed_customers
    assert store.history([customer_id])[customer_id].customer.display_name == "Cleo"
    assert len(_links(engine)) == 2
    assert store.upsert("sf", [contact("C1", "Cleo"), contact("C1", "Cleo")]).unchanged == 2


def test_a_stored_placeholder_taken_over_keeps_its_id(engine: Engine) -> None:
    store = RecordStore(engine)
    store.upsert("sf", [note("T1", "C1")])
    placeholder = _links(engine)[("?", "C1")]
    store.upsert("sf", [contact("C1", "Bea"), note("T2", "C1", 5)])
    links = _links(engine)
    assert ("?", "C1") not in links
    assert links[("Contact", "C1")].id == placeholder.id
    assert links[("Contact", "C1")].entity_id == placeholder.entity_id
    assert links[("Task", "T2")].customer_id == placeholder.entity_id
    assert _customers(engine) == 1


def test_a_deleted_record_pulled_again_is_a_change(engine: Engine) -> None:
    store = RecordStore(engine)
    [customer_id] = store.upsert("sf", [contact("C1"), note("T1", "C1")]).changed_customers
    assert store.mark_deleted("sf", "Task", ["T1", "T9"]) == {customer_id}
    assert store.history([customer_id])[customer_id].interactions == []
    back = store.upsert("sf", [note("T1", "C1")])
    assert (back.stored, back.changed_customers) == (1, frozenset({customer_id}))
    assert [i.id for i in store.history([customer_id])[customer_id].interactions] == ["T1"]
