"""The identity graph's matching in the store: which person a newly pulled customer record is.

`RecordStore.upsert()` asks `find_people()` once per batch, for the batch's customer records
that have no person yet (new records, and placeholders made by their history). It reads the
stored customer records sharing their keys in two queries per chunk of values (one by e-mail,
one by phone), whatever the batch size, and decides by the rules of service/domain/identity.py:

- a value held by more than one record *within one connection* is ambiguous (a shared switchboard,
  a family address, or the CRM's own duplicates) and links no one;
- a value pointing at more than one person links no one either (a person decides, through the
  API);
- a record never joins a person who already has a live record in its connection: two records of
  one person in one CRM are that CRM's duplicate to resolve, and we push to one record per
  person and connection;
- only records without a person are matched: a record once placed (automatically, by the
  migration or by hand) stays where it is, so a manual unlink is never undone by a later sync.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from more_itertools import chunked
from sqlalchemy import Connection, false, func, select, update
from sqlalchemy.orm import Session

from service.domain.identity import Evidence, IdentityKeys, judge, value_hash
from service.store.tables import CrmLink, EntityType, IdentityDecision, utcnow
from service.store.upserts import table_of

_LINKS = table_of(CrmLink)
_DECISIONS = table_of(IdentityDecision)
_CHUNK = 1000
PLACEHOLDER = "?"


# Any constant: the advisory lock's key, shared by every process deciding identities.
_LOCK_KEY = 0x1D3A7171


def lock_identities(conn: Connection) -> None:
    """Hold the identity decisions of every connection until this transaction ends.

    Two connections' syncs run side by side (the demo's, two workers'): without this each could
    read that no one holds an address, and both create a person for it. PostgreSQL: a
    transaction-level advisory lock. SQLite: a write that matches no row opens the write
    transaction now (SQLite has one writer at a time), so the reads after it see every commit.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
    else:
        conn.execute(update(_DECISIONS).where(false()).values(rule=_DECISIONS.c.rule))


@dataclass(frozen=True, slots=True)
class Join:
    """A record that joins an existing person, and why."""

    person: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class _Holder:
    person: str
    connection: str
    crm_id: str


def _holders(session: Session, column: str, values: Iterable[str]) -> dict[str, list[_Holder]]:
    """Stored live customer records holding each value of `column` (match_email/match_phone)."""
    found: dict[str, list[_Holder]] = defaultdict(list)
    key = _LINKS.c[column]
    for chunk in chunked(sorted(set(values)), _CHUNK):
        rows = session.connection().execute(
            select(key, _LINKS.c.entity_id, _LINKS.c.connection, _LINKS.c.crm_id).where(
                key.in_(chunk),
                _LINKS.c.entity_type == EntityType.CUSTOMER.value,
                _LINKS.c.deleted_at.is_(None),
            )
        )
        for value, person, connection, crm_id in rows:
            found[value].append(_Holder(person, connection, crm_id))
    return found


def _persons(holders: list[_Holder], connection: str, batch: set[str]) -> set[str] | None:
    """The persons a value points at from other connections; None when it is ambiguous (held by
    several records within one connection, this batch's records of `connection` included)."""
    per_connection: dict[str, set[str]] = defaultdict(set)
    for holder in holders:
        per_connection[holder.connection].add(holder.crm_id)
    per_connection[connection] |= batch
    if any(len(ids) > 1 for ids in per_connection.values()):
        return None
    return {h.person for h in holders if h.connection != connection}


def find_people(
    session: Session, connection: str, keys: Mapping[str, IdentityKeys], unplaced: Iterable[str]
) -> dict[str, Join]:
    """CRM id -> the person to join, for the `unplaced` records of a batch of `connection`.

    `keys` holds every customer record of the batch (CRM id -> keys): the batch's own records
    count when deciding whether a value is shared within the connection."""
    wanted = [crm_id for crm_id in unplaced if keys.get(crm_id)]
    if not wanted:
        return {}
    by_email = _holders(session, "match_email", {k.email for k in keys.values() if k.email})
    by_phone = _holders(session, "match_phone", {k.phone for k in keys.values() if k.phone})
    batch_emails: dict[str, set[str]] = defaultdict(set)
    batch_phones: dict[str, set[str]] = defaultdict(set)
    for crm_id, k in keys.items():
        if k.email:
            batch_emails[k.email].add(crm_id)
        if k.phone:
            batch_phones[k.phone].add(crm_id)
    decided: dict[str, Join] = {}
    for crm_id in wanted:
        k = keys[crm_id]
        emails = (
            _persons(by_email.get(k.email, []), connection, batch_emails[k.email])
            if k.email
            else set()
        )
        phones = (
            _persons(by_phone.get(k.phone, []), connection, batch_phones[k.phone])
            if k.phone
            else set()
        )
        verdict = judge(k, emails or set(), phones or set())
        if verdict is not None:
            decided[crm_id] = Join(*verdict)
    return _one_record_per_connection(session, connection, decided)


def _one_record_per_connection(
    session: Session, connection: str, decided: dict[str, Join]
) -> dict[str, Join]:
    """Drop joins to persons who already have a live record in `connection` (or get two here)."""
    persons = sorted({j.person for j in decided.values()})
    taken: set[str] = set()
    for chunk in chunked(persons, _CHUNK):
        taken.update(
            person
            for (person,) in session.connection().execute(
                select(_LINKS.c.entity_id).where(
                    _LINKS.c.entity_id.in_(chunk),
                    _LINKS.c.entity_type == EntityType.CUSTOMER.value,
                    _LINKS.c.connection == connection,
                    _LINKS.c.crm_object != PLACEHOLDER,
                    _LINKS.c.deleted_at.is_(None),
                )
            )
        )
    kept: dict[str, Join] = {}
    for crm_id, join in sorted(decided.items()):
        if join.person in taken:
            continue
        taken.add(join.person)
        kept[crm_id] = join
    return kept


@dataclass(frozen=True, slots=True)
class Decision:
    """One row of the identity log to write."""

    customer_id: str
    connection: str
    crm_object: str
    crm_id: str
    action: str  # link | unlink
    rule: str
    confidence: float
    decided_by: str
    value: str | None = None  # hashed before it is stored
    previous_customer_id: str | None = None


def record_decisions(conn: Connection, decisions: Iterable[Decision]) -> None:
    """Write the decisions in one statement."""
    now = utcnow()
    rows = [
        {
            "customer_id": d.customer_id,
            "previous_customer_id": d.previous_customer_id,
            "connection": d.connection,
            "crm_object": d.crm_object,
            "crm_id": d.crm_id,
            "action": d.action,
            "rule": d.rule,
            "confidence": d.confidence,
            "value_hash": value_hash(d.rule, d.value) if d.value else None,
            "decided_by": d.decided_by,
            "decided_at": now,
        }
        for d in decisions
    ]
    if rows:
        conn.execute(_DECISIONS.insert(), rows)
