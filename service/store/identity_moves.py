"""Moving records between persons: merging two persons into one, moving one CRM record (with
its history) to another person. Set-based (one statement per table for any number of pairs),
inside the caller's transaction: the upsert (a placeholder's contact joins a person), the API's
manual link/unlink and the migration all move records the same way.

What moves with a person: their CRM records (the customer links and the history pointing at
them), score history, push and task ledger rows, and their identity decisions. What does not:
their stored profile, which is dropped (the survivor is rescored: a profile is per person and the
absorbed one described only part of them).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, String, and_, bindparam, delete, select, update

from service.store.tables import (
    CrmLink,
    CustomerProfile,
    EntityType,
    IdentityDecision,
    PushLedger,
    ScoreHistory,
    TaskLedger,
)
from service.store.tables import Customer as CustomerRow
from service.store.upserts import table_of

_LINKS = table_of(CrmLink)
_CUSTOMER = EntityType.CUSTOMER.value
# Tables whose `customer_id` names the person (the link tables handled on their own).
_OWNED = tuple(table_of(t) for t in (ScoreHistory, PushLedger, TaskLedger, IdentityDecision))


def merge_people(conn: Connection, absorbed: Mapping[str, str]) -> None:
    """Merge each person of `absorbed` (key) into its survivor (value); the absorbed go."""
    pairs = [{"old": old, "new": new} for old, new in absorbed.items() if old != new]
    if not pairs:
        return
    old, new = bindparam("old", type_=String), bindparam("new", type_=String)
    conn.execute(update(_LINKS).where(_LINKS.c.customer_id == old).values(customer_id=new), pairs)
    conn.execute(
        update(_LINKS)
        .where(_LINKS.c.entity_type == _CUSTOMER, _LINKS.c.entity_id == old)
        .values(entity_id=new),
        pairs,
    )
    for table in _OWNED:
        conn.execute(update(table).where(table.c.customer_id == old).values(customer_id=new), pairs)
    ids = [p["old"] for p in pairs] + [p["new"] for p in pairs]
    profiles = table_of(CustomerProfile)
    conn.execute(delete(profiles).where(profiles.c.customer_id.in_(ids)))
    customers = table_of(CustomerRow)
    conn.execute(delete(customers).where(customers.c.id == old), pairs)


def move_record(
    conn: Connection, connection: str, crm_object: str, crm_id: str, source: str, target: str
) -> None:
    """Move one customer record of `source` (and the history of its connection, its ledger
    rows there) to `target`. A person has one live record per connection, so the history of
    `connection` pointing at `source` is this record's."""
    conn.execute(
        update(_LINKS)
        .where(
            _LINKS.c.entity_type == _CUSTOMER,
            _LINKS.c.entity_id == source,
            _LINKS.c.connection == connection,
            _LINKS.c.crm_object == crm_object,
            _LINKS.c.crm_id == crm_id,
        )
        # A customer record's `customer_id` is its person too (history() reads by it).
        .values(entity_id=target, customer_id=target)
    )
    conn.execute(
        update(_LINKS)
        .where(
            _LINKS.c.customer_id == source,
            _LINKS.c.connection == connection,
            _LINKS.c.entity_type != _CUSTOMER,
        )
        .values(customer_id=target)
    )
    for model in (PushLedger, TaskLedger):
        table = table_of(model)
        conn.execute(
            update(table)
            .where(and_(table.c.customer_id == source, table.c.connection == connection))
            .values(customer_id=target)
        )
    profiles = table_of(CustomerProfile)
    conn.execute(delete(profiles).where(profiles.c.customer_id.in_([source, target])))


def record_count(conn: Connection, person: str) -> int:
    """How many live customer records `person` has (placeholders included)."""
    rows = conn.execute(
        select(_LINKS.c.id).where(
            _LINKS.c.entity_type == _CUSTOMER,
            _LINKS.c.entity_id == person,
            _LINKS.c.deleted_at.is_(None),
        )
    )
    return len(rows.all())
