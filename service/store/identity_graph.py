"""The identity graph's matching in the store: which person a newly pulled customer record is.

`RecordStore.upsert()` asks `find_people()` once per batch, for the batch's customer records
that have no person yet (new records, and placeholders made by their history). It reads the
stored customer records sharing their keys in a few queries per chunk of values (by e-mail, by
phone, the records their refs name, the records that name them), whatever the batch size, and
decides by the rules of service/domain/identity.py:

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
from sqlalchemy import ColumnElement, Connection, false, func, select, update
from sqlalchemy.orm import Session

from service.domain.identity import Evidence, IdentityKeys, judge, own_ref_keys, value_hash
from service.store.tables import CrmLink, EntityType, IdentityDecision, IdentityRef, utcnow
from service.store.upserts import table_of

_LINKS = table_of(CrmLink)
_DECISIONS = table_of(IdentityDecision)
_REFS = table_of(IdentityRef)
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


def _live_customers() -> tuple[ColumnElement[bool], ...]:
    return (
        _LINKS.c.entity_type == EntityType.CUSTOMER.value,
        _LINKS.c.deleted_at.is_(None),
        _LINKS.c.crm_object != PLACEHOLDER,
    )


def _named(
    session: Session, refs: Iterable[str], kinds: Mapping[str, str]
) -> dict[str, list[_Holder]]:
    """Stored live customer records each ref key (`system:id`) names: records with that id in
    the connection called `system`, or in any connection of kind `system`."""
    wanted = set(refs)
    ids_by_connection: dict[str, set[str]] = defaultdict(set)
    for key in wanted:
        system, _, record_id = key.partition(":")
        for connection in {system} | {c for c, k in kinds.items() if k.lower() == system}:
            ids_by_connection[connection].add(record_id)
    found: dict[str, list[_Holder]] = defaultdict(list)
    for connection, ids in sorted(ids_by_connection.items()):
        for chunk in chunked(sorted(ids), _CHUNK):
            rows = session.connection().execute(
                select(_LINKS.c.entity_id, _LINKS.c.crm_id).where(
                    _LINKS.c.connection == connection,
                    _LINKS.c.crm_id.in_(chunk),
                    *_live_customers(),
                )
            )
            for person, crm_id in rows:
                for key in own_ref_keys(connection, kinds.get(connection), crm_id) & wanted:
                    found[key].append(_Holder(person, connection, crm_id))
    return found


def _naming(session: Session, keys: Iterable[str]) -> dict[str, list[_Holder]]:
    """Stored live customer records that name each key in their refs."""
    found: dict[str, list[_Holder]] = defaultdict(list)
    joined = _REFS.join(
        _LINKS,
        (_LINKS.c.connection == _REFS.c.connection) & (_LINKS.c.crm_id == _REFS.c.crm_id),
    )
    for chunk in chunked(sorted(set(keys)), _CHUNK):
        rows = session.connection().execute(
            select(_REFS.c.ref_key, _LINKS.c.entity_id, _LINKS.c.connection, _LINKS.c.crm_id)
            .select_from(joined)
            .where(_REFS.c.ref_key.in_(chunk), *_live_customers())
        )
        for key, person, connection, crm_id in rows:
            found[key].append(_Holder(person, connection, crm_id))
    return found


def _by_ref(
    keys: IdentityKeys,
    own: frozenset[str],
    named: Mapping[str, list[_Holder]],
    naming: Mapping[str, list[_Holder]],
    connection: str,
) -> dict[str, str] | None:
    """Person -> ref key for the persons references tie this record to, either way (its refs
    name their record, or their record's refs name it); None when a reference is ambiguous
    (several records of one connection name the same id). References within one connection
    link no one: two records of one person in one system are that system's duplicate."""
    persons: dict[str, str] = {}
    for key, holders in [*((k, named.get(k, [])) for k in sorted(keys.refs)),
                         *((k, naming.get(k, [])) for k in sorted(own))]:  # fmt: skip
        found = _persons(holders, connection, set())
        if found is None:
            return None
        persons.update(dict.fromkeys(sorted(found), key))
    return persons


def find_people(
    session: Session,
    connection: str,
    keys: Mapping[str, IdentityKeys],
    unplaced: Iterable[str],
    kinds: Mapping[str, str] | None = None,
) -> dict[str, Join]:
    """CRM id -> the person to join, for the `unplaced` records of a batch of `connection`.

    `keys` holds every customer record of the batch (CRM id -> keys): the batch's own records
    count when deciding whether a value is shared within the connection. `kinds` maps each
    connection to its connector's kind, so a ref naming a kind (`zalo:…`) finds its record.
    Every unplaced record is looked at, keyless ones too: another system may name it."""
    kinds = kinds or {}
    wanted = list(unplaced)
    if not wanted:
        return {}
    kind = kinds.get(connection)
    own = {crm_id: own_ref_keys(connection, kind, crm_id) for crm_id in wanted}
    named = _named(session, (r for k in keys.values() for r in k.refs), kinds)
    naming = _naming(session, (key for keys_ in own.values() for key in keys_))
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
        k = keys.get(crm_id, IdentityKeys())
        refs = _by_ref(k, own[crm_id], named, naming, connection)
        if refs is None:
            continue  # an ambiguous reference: left for a person to decide
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
        verdict = judge(k, emails or set(), phones or set(), refs)
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


def write_refs(conn: Connection, connection: str, refs: Mapping[str, frozenset[str]]) -> None:
    """Replace the stored refs of these customer records (CRM id -> their ref keys now)."""
    for chunk in chunked(sorted(refs), _CHUNK):
        conn.execute(
            _REFS.delete().where(_REFS.c.connection == connection, _REFS.c.crm_id.in_(chunk))
        )
    rows = [
        {"connection": connection, "crm_id": crm_id, "ref_key": key}
        for crm_id, keys in sorted(refs.items())
        for key in sorted(keys)
    ]
    if rows:
        conn.execute(_REFS.insert(), rows)


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
