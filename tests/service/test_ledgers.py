"""Cursor and push-ledger repositories on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from service.domain import Cursor
from service.ports import FieldUpdate
from service.store.cursors import CursorRepository
from service.store.ledger import PushLedgerRepository, value_hash


def update(ext: str, **fields: object) -> FieldUpdate:
    return FieldUpdate(crm_object="Contact", external_id=ext, fields=fields)  # type: ignore[arg-type]


def test_cursor_save_load_update_reset(engine: Engine) -> None:
    repo = CursorRepository(engine)
    assert repo.load("sf", "customers") is None
    first = Cursor(stream="customers", modified_at=datetime(2026, 1, 1, tzinfo=UTC), last_id="003A")
    repo.save("sf", first)
    assert repo.load("sf", "customers") == first
    later = Cursor(stream="customers", modified_at=datetime(2026, 1, 2, tzinfo=UTC), last_id="003B")
    repo.save("sf", later)
    assert repo.load("sf", "customers") == later
    repo.save("sf", Cursor(stream="accounts"))
    repo.save("hs", Cursor(stream="customers"))
    assert repo.reset("sf") == 2
    assert repo.load("sf", "customers") is None
    assert repo.load("hs", "customers") is not None


def test_value_hash_is_type_aware() -> None:
    assert len({value_hash(1), value_hash("1"), value_hash(True), value_hash(1.5)}) == 4
    assert value_hash(None) == value_hash(None)


def test_ledger_skips_unchanged_fields_and_records(engine: Engine) -> None:
    ledger = PushLedgerRepository(engine)
    batch = [update("c1", score=70.0, flag=False), update("c2", score=40.0, flag=True)]
    assert ledger.changed("sf", batch) == batch  # nothing written yet
    ledger.record("sf", batch, {"c1": "cust-1"})
    assert ledger.changed("sf", batch) == []  # a rerun costs nothing
    moved = [update("c1", score=71.0, flag=False), update("c2", score=40.0, flag=True)]
    assert ledger.changed("sf", moved) == [update("c1", score=71.0)]
    # Another connection has its own ledger.
    assert ledger.changed("hs", moved) == moved


def test_refused_writes_are_retried_next_time(engine: Engine) -> None:
    ledger = PushLedgerRepository(engine)
    batch = [update("c1", score=1.0), update("c2", score=2.0)]
    ledger.record("sf", batch[:1])  # the CRM refused c2
    assert ledger.changed("sf", batch) == [update("c2", score=2.0)]


def test_ledger_handles_many_records(engine: Engine) -> None:
    ledger = PushLedgerRepository(engine)
    batch = [update(f"c{i}", score=float(i)) for i in range(1200)]
    ledger.record("sf", batch)
    bumped = [update(f"c{i}", score=float(i) + (1 if i % 100 == 0 else 0)) for i in range(1200)]
    assert [u.external_id for u in ledger.changed("sf", bumped)] == [
        f"c{i}" for i in range(0, 1200, 100)
    ]


def test_forget_customer_removes_its_rows(engine: Engine) -> None:
    ledger = PushLedgerRepository(engine)
    ledger.record("sf", [update("c1", score=1.0, flag=True)], {"c1": "cust-1"})
    keys = ledger.forget_customer("cust-1")
    assert [(k.crm_object, k.crm_id) for k in keys] == [("Contact", "c1")]
    assert ledger.changed("sf", [update("c1", score=1.0)]) == [update("c1", score=1.0)]


def test_ledger_record_updates_each_field_row_in_place(engine: Engine) -> None:
    from sqlmodel import Session, select

    from service.store.tables import PushLedger

    ledger = PushLedgerRepository(engine)
    ledger.record("sf", [update("c1", score=70.0, flag=False)], {"c1": "cust-1"})
    # The same field twice in one call (the last value wins) and a second call on the same rows.
    ledger.record("sf", [update("c1", score=71.0), update("c1", score=72.0, segment="loyal")])
    with Session(engine) as session:
        rows = {row.field: row for row in session.exec(select(PushLedger))}
    assert sorted(rows) == ["flag", "score", "segment"]
    assert rows["score"].value_hash == value_hash(72.0)
    assert rows["flag"].value_hash == value_hash(False)
    # The customer a row belongs to is the one it was first written for.
    assert rows["score"].customer_id == "cust-1"
    assert rows["segment"].customer_id is None
    assert ledger.changed("sf", [update("c1", score=72.0, flag=False)]) == []
