"""Migration 0010's data step: today's duplicate customers merged into persons by the rules a
sync applies from now on (service/domain/identity.py, service/store/identity_graph.py).

Before the identity graph every pulled contact or lead became its own customer, so a person in
two CRMs was two customers. This step
1. computes every stored customer record's match keys from its stored payload;
2. groups records by verified e-mail: a value held by two or more records *within one
   connection* is ambiguous and groups nothing (as are role addresses and bounced ones, which
   have no key); a group is the records of different connections sharing one address;
3. merges each group's customers into the customer of its earliest record (the lowest link id,
   the one pulled first), moving their records, history, scores and ledger rows
   (service/store/identity_moves.py), and writes one decision per moved record, decided by
   `migration`.
A merged person's stored profile is dropped; they are marked for rescoring at the next sync of
each connection they have a record in (service/store/rescore_marks.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from more_itertools import chunked
from sqlalchemy import Connection, bindparam, select, update

from service.domain.identity import CONFIDENCE, DecidedBy, IdentityKeys, Rule, keys_of
from service.store.identity_graph import PLACEHOLDER, Decision, record_decisions
from service.store.identity_moves import merge_people
from service.store.tables import CrmLink, EntityType, RescoreMark, utcnow
from service.store.upserts import table_of

_LINKS = table_of(CrmLink)
_MARKS = table_of(RescoreMark)
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class _Record:
    link_id: int
    person: str
    connection: str
    crm_object: str
    crm_id: str
    keys: IdentityKeys


def _records(conn: Connection) -> Iterator[_Record]:
    rows = conn.execute(
        select(
            _LINKS.c.id,
            _LINKS.c.entity_id,
            _LINKS.c.connection,
            _LINKS.c.crm_object,
            _LINKS.c.crm_id,
            _LINKS.c.payload,
        )
        .where(
            _LINKS.c.entity_type == EntityType.CUSTOMER.value,
            _LINKS.c.crm_object != PLACEHOLDER,
            _LINKS.c.deleted_at.is_(None),
        )
        .order_by(_LINKS.c.id)
    )
    for link_id, person, connection, crm_object, crm_id, payload in rows:
        data: dict[str, Any] = payload or {}
        attributes = data.get("attributes")
        keys = keys_of(
            _text(data.get("email")),
            _text(data.get("phone")),
            _text(data.get("language")),
            attributes if isinstance(attributes, dict) else None,
        )
        yield _Record(link_id, person, connection, crm_object, crm_id, keys)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def merge_duplicates(conn: Connection) -> int:
    """Fill the match keys and merge duplicate customers; returns the records moved."""
    records = list(_records(conn))
    for chunk in chunked([r for r in records if r.keys], _CHUNK):
        conn.execute(
            update(_LINKS)
            .where(_LINKS.c.id == bindparam("link_id"))
            .values(match_email=bindparam("email"), match_phone=bindparam("phone")),
            [{"link_id": r.link_id, "email": r.keys.email, "phone": r.keys.phone} for r in chunk],
        )
    groups: dict[str, list[_Record]] = defaultdict(list)
    for record in records:
        if record.keys.email:
            groups[record.keys.email].append(record)
    absorbed: dict[str, str] = {}
    decisions: list[Decision] = []
    for email, group in groups.items():
        connections = [r.connection for r in group]
        if len(group) < 2 or len(set(connections)) != len(connections):
            continue  # alone, or shared within a connection: ambiguous
        first = group[0]  # records are in link-id order
        for other in group[1:]:
            if other.person == first.person:
                continue
            rule = (
                Rule.EMAIL_AND_PHONE
                if other.keys.phone and other.keys.phone == first.keys.phone
                else Rule.EMAIL
            )
            absorbed[other.person] = first.person
            decisions.append(
                Decision(
                    first.person,
                    other.connection,
                    other.crm_object,
                    other.crm_id,
                    "link",
                    rule.value,
                    CONFIDENCE[rule],
                    DecidedBy.MIGRATION.value,
                    value=email,
                    previous_customer_id=other.person,
                )
            )
    merge_people(conn, absorbed)
    record_decisions(conn, decisions)
    _mark(conn, set(absorbed.values()))
    return len(decisions)


def _mark(conn: Connection, survivors: set[str]) -> None:
    """Merged persons are scored again at the next sync of each connection they have a record
    in: their profile was dropped, and each CRM holds the scores of part of them."""
    now = utcnow()
    for chunk in chunked(sorted(survivors), _CHUNK):
        rows = conn.execute(
            select(_LINKS.c.connection, _LINKS.c.entity_id)
            .where(
                _LINKS.c.entity_type == EntityType.CUSTOMER.value,
                _LINKS.c.entity_id.in_(chunk),
                _LINKS.c.crm_object != PLACEHOLDER,
                _LINKS.c.deleted_at.is_(None),
            )
            .distinct()
        ).all()
        if rows:
            conn.execute(
                _MARKS.insert(),
                [{"connection": c, "customer_id": p, "marked_at": now} for c, p in rows],
            )
