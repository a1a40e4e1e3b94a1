"""Migration 0010 on a database populated before it (SQLite and PostgreSQL): today's duplicate
customers become one person by the identity rules, with their records, history, scores and
ledger rows, and an audit row decided by `migration`; role addresses and values shared within a
connection merge no one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from service.store.database import make_engine, upgrade
from service.store.tables import (
    CrmLink,
    Customer,
    IdentityDecision,
    PushLedger,
    RescoreMark,
    ScoreHistory,
    TaskLedger,
)
from service.store.upserts import table_of

NOW = datetime(2026, 12, 1, tzinfo=UTC)
OBJECT = {"hs": "contacts", "sf": "Contact"}
# (customer id, connection, CRM id, e-mail, phone)
PEOPLE = [
    ("ann1", "hs", "101", "Ann@X.com", "+84 90 123 4567"),
    ("bob1", "hs", "102", "bob@x.com", None),
    ("info1", "hs", "103", "info@shop.vn", None),
    ("fam1", "hs", "104", "fam@x.com", None),
    ("fam2", "hs", "105", "fam@x.com", None),
    ("ann2", "sf", "003A", " ann@x.com", "+84901234567"),
    ("info2", "sf", "003B", "INFO@shop.vn", None),
    ("fam3", "sf", "003C", "fam@x.com", None),
    ("carl", "sf", "003D", "carl@x.com", None),
]


def _insert(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> None:
    # Only the columns given (those of revision 0009: the new ones do not exist yet).
    with engine.begin() as conn:
        conn.execute(table_of(model).insert(), rows)


def _populate(engine: Engine) -> None:
    _insert(engine, Customer, [
        {"id": cid, "display_name": cid, "email": email, "created_at": NOW, "updated_at": NOW}
        for cid, _, _, email, _ in PEOPLE
    ])  # fmt: skip
    links = [
        {"entity_type": "customer", "entity_id": cid, "connection": conn,
         "crm_object": OBJECT[conn], "crm_id": crm_id, "linked_at": NOW, "customer_id": cid,
         "payload": {"id": crm_id, "email": email, "phone": phone, "display_name": cid}}
        for cid, conn, crm_id, email, phone in PEOPLE
    ]  # fmt: skip
    links.append(
        {"entity_type": "interaction", "entity_id": "i1", "connection": "sf",
         "crm_object": "Task", "crm_id": "00T1", "linked_at": NOW, "customer_id": "ann2",
         "payload": {"id": "00T1", "customer_id": "003A", "channel": "email",
                     "occurred_at": NOW.isoformat()}}
    )  # fmt: skip
    _insert(engine, CrmLink, links)
    _insert(engine, ScoreHistory, [
        {"customer_id": "ann2", "as_of": NOW, "churn_flag": False, "contributions": {},
         "scoring_version": "v"}
    ])  # fmt: skip
    _insert(engine, TaskLedger, [
        {"connection": "sf", "task_key": "k1", "customer_id": "ann2", "playbook": "p",
         "state": "open", "created_at": NOW}
    ])  # fmt: skip
    _insert(engine, PushLedger, [
        {"connection": "sf", "crm_object": "Contact", "crm_id": "003A", "field": "f",
         "value_hash": "h", "customer_id": "ann2", "pushed_at": NOW}
    ])  # fmt: skip


def _column(engine: Engine, column: Any, where: Any = None) -> list[Any]:
    query = select(column) if where is None else select(column).where(where)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def test_duplicates_merge_by_the_identity_rules(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0009")
    _populate(engine)
    upgrade(engine)
    links, customers = table_of(CrmLink), table_of(Customer)
    # Ann's two records are one person (the first pulled survives); the others stay apart.
    assert sorted(_column(engine, customers.c.id)) == sorted(
        cid for cid, *_ in PEOPLE if cid != "ann2"
    )
    assert _column(engine, links.c.entity_id, links.c.crm_id == "003A") == ["ann1"]
    assert _column(engine, links.c.customer_id, links.c.crm_id == "00T1") == ["ann1"]
    for model in (ScoreHistory, TaskLedger, PushLedger):
        assert _column(engine, table_of(model).c.customer_id) == ["ann1"], model
    decisions = table_of(IdentityDecision)
    with engine.connect() as conn:
        rows = conn.execute(select(decisions)).mappings().all()
    assert [(r["customer_id"], r["previous_customer_id"], r["crm_id"], r["rule"],
             r["decided_by"]) for r in rows] == [
        ("ann1", "ann2", "003A", "email+phone", "migration")
    ]  # fmt: skip
    assert rows[0]["value_hash"]
    assert "ann" not in rows[0]["value_hash"]
    # Ann is scored again at the next sync of each CRM (her profile was dropped).
    marks = table_of(RescoreMark)
    with engine.connect() as conn:
        marked = conn.execute(select(marks.c.connection, marks.c.customer_id)).all()
    assert sorted(marked) == [("hs", "ann1"), ("sf", "ann1")]
    # Match keys were filled for later pulls; role addresses have none.
    assert _column(engine, links.c.match_email, links.c.crm_id == "102") == ["bob@x.com"]
    assert _column(engine, links.c.match_phone, links.c.crm_id == "101") == ["+84901234567"]
    assert _column(engine, links.c.match_email, links.c.crm_id == "103") == [None]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(links)).scalar() == len(PEOPLE) + 1
    engine.dispose()
