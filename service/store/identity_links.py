"""A person's records and the manual decisions on them: what `/v1/customers/{id}/identity` reads
and writes.

A manual decision is final for the records it moves: the automatic matching only places records
that have no person yet (service/store/identity_graph.py), so a record split out by hand is
never joined back by a later sync, and one merged by hand is never taken out. Each decision is
written to the identity log with `decided_by` = `key:<API key id>`.

Refused (as `IdentityConflictError`, with a reason the API shows):
- linking a person to themselves, or a record already theirs;
- a merge that would give the person two live records in one connection (that CRM's duplicates:
  merge them in the CRM, which the next sync brings here);
- splitting the person's only record out (it would leave a person with no record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, or_, select

from service.domain.identity import CONFIDENCE, DecidedBy, Rule
from service.store.database import session_scope
from service.store.identity import phone_digits
from service.store.identity_graph import PLACEHOLDER, Decision, record_decisions
from service.store.identity_moves import merge_people, move_record
from service.store.tables import CrmLink, EntityType, IdentityDecision, new_id, utcnow
from service.store.tables import Customer as CustomerRow
from service.store.upserts import table_of

_LINKS = table_of(CrmLink)
_DECISIONS = table_of(IdentityDecision)
_CUSTOMERS = table_of(CustomerRow)
LINK = "link"
UNLINK = "unlink"
# A record without a decision founded its person: the first record seen of them.
FOUNDER = "first_record"


class UnknownPersonError(LookupError):
    """No customer with that id (or an erased one)."""


class UnknownRecordError(LookupError):
    """No such CRM customer record (or not one of this person's)."""


class IdentityConflictError(ValueError):
    """The decision would break a rule of the graph (the message says which)."""


@dataclass(frozen=True)
class RecordOfPerson:
    """One CRM record of a person and why it is theirs."""

    link_id: int
    connection: str
    crm_object: str
    crm_id: str
    deleted: bool
    rule: str
    confidence: float
    decided_by: str
    decided_at: datetime


@dataclass(frozen=True)
class LoggedDecision:
    """One row of the identity log about the person (no matched value: only its rule)."""

    action: str
    connection: str
    crm_object: str
    crm_id: str
    customer_id: str
    previous_customer_id: str | None
    rule: str
    confidence: float
    decided_by: str
    decided_at: datetime


_LOGGED = tuple(LoggedDecision.__dataclass_fields__)


@dataclass(frozen=True)
class Identity:
    customer_id: str
    records: list[RecordOfPerson]
    decisions: list[LoggedDecision]


@dataclass(frozen=True)
class _Link:
    id: int
    person: str
    connection: str
    crm_object: str
    crm_id: str
    deleted: bool
    linked_at: datetime
    payload: dict[str, Any] | None


def _links(conn: Connection, *where: Any) -> list[_Link]:
    rows = conn.execute(
        select(
            _LINKS.c.id,
            _LINKS.c.entity_id,
            _LINKS.c.connection,
            _LINKS.c.crm_object,
            _LINKS.c.crm_id,
            _LINKS.c.deleted_at.is_not(None),
            _LINKS.c.linked_at,
            _LINKS.c.payload,
        )
        .where(_LINKS.c.entity_type == EntityType.CUSTOMER.value, *where)
        .order_by(_LINKS.c.id)
    )
    return [_Link(*row) for row in rows]


def _of(conn: Connection, person: str) -> list[_Link]:
    return _links(conn, _LINKS.c.entity_id == person)


def _live_connections(links: list[_Link]) -> set[str]:
    return {x.connection for x in links if not x.deleted and x.crm_object != PLACEHOLDER}


def _manual(
    person: str, link: _Link, decided_by: str, action: str, previous: str | None
) -> Decision:
    return Decision(
        person,
        link.connection,
        link.crm_object,
        link.crm_id,
        action,
        Rule.MANUAL.value,
        CONFIDENCE[Rule.MANUAL],
        decided_by,
        previous_customer_id=previous,
    )


class IdentityRepository:
    """Reads a person's records with their reasons; merges and splits by hand."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def identity(self, person: str) -> Identity:
        with self._engine.connect() as conn:
            links = _of(conn, person)
            exists = conn.execute(select(_CUSTOMERS.c.id).where(_CUSTOMERS.c.id == person))
            if not links and exists.first() is None:
                raise UnknownPersonError(person)
            rows = conn.execute(
                select(_DECISIONS)
                .where(
                    or_(
                        _DECISIONS.c.customer_id == person,
                        _DECISIONS.c.previous_customer_id == person,
                    )
                )
                .order_by(_DECISIONS.c.id)
            ).mappings()
            decisions = [LoggedDecision(**{name: r[name] for name in _LOGGED}) for r in rows]
        latest = {
            (d.connection, d.crm_object, d.crm_id): d
            for d in decisions
            if d.action == LINK and d.customer_id == person
        }
        records = []
        for link in links:
            why = latest.get((link.connection, link.crm_object, link.crm_id))
            records.append(
                RecordOfPerson(
                    link_id=link.id,
                    connection=link.connection,
                    crm_object=link.crm_object,
                    crm_id=link.crm_id,
                    deleted=link.deleted,
                    rule=why.rule if why else FOUNDER,
                    confidence=why.confidence if why else 1.0,
                    decided_by=why.decided_by if why else DecidedBy.AUTO.value,
                    decided_at=why.decided_at if why else link.linked_at,
                )
            )
        return Identity(person, records, decisions)

    def merge_person(self, person: str, other: str, decided_by: str) -> None:
        """Merge the person `other` (all their records, history and scores) into `person`."""
        if other == person:
            raise IdentityConflictError("a person cannot be linked to themselves")
        with session_scope(self._engine) as session:
            conn = session.connection()
            mine, theirs = self._known(conn, person), self._known(conn, other)
            self._one_per_connection(mine, theirs)
            merge_people(conn, {other: person})
            record_decisions(
                conn, [_manual(person, link, decided_by, LINK, other) for link in theirs]
            )

    def merge_record(
        self, person: str, connection: str, crm_object: str, crm_id: str, decided_by: str
    ) -> str:
        """Move one CRM customer record (with its history there) into `person`; returns the
        person it came from (gone when it was their only record)."""
        with session_scope(self._engine) as session:
            conn = session.connection()
            mine = self._known(conn, person)
            found = _links(
                conn,
                _LINKS.c.connection == connection,
                _LINKS.c.crm_object == crm_object,
                _LINKS.c.crm_id == crm_id,
            )
            if not found:
                raise UnknownRecordError(f"no {crm_object} {crm_id} pulled from {connection}")
            (link,) = found
            if link.person == person:
                raise IdentityConflictError("the record is already this person's")
            self._one_per_connection(mine, [link])
            source = _of(conn, link.person)
            if len(source) == 1:
                merge_people(conn, {link.person: person})
            else:
                move_record(conn, connection, crm_object, crm_id, link.person, person)
            record_decisions(conn, [_manual(person, link, decided_by, LINK, link.person)])
            return link.person

    def split(self, person: str, link_id: int, decided_by: str) -> str:
        """Move the record `link_id` out of `person` into a new person of its own; returns the
        new person's id."""
        with session_scope(self._engine) as session:
            conn = session.connection()
            mine = self._known(conn, person)
            link = next((x for x in mine if x.id == link_id), None)
            if link is None:
                raise UnknownRecordError(f"record {link_id} is not one of this person's")
            if len(mine) == 1:
                raise IdentityConflictError("the person's only record cannot be unlinked")
            fresh = new_id()
            data = link.payload or {}
            now = utcnow()
            conn.execute(
                _CUSTOMERS.insert().values(
                    id=fresh,
                    display_name=str(data.get("display_name") or "")[:255],
                    email=data.get("email"),
                    phone=phone_digits(data.get("phone")),
                    language=data.get("language"),
                    owner_ref=data.get("owner_id"),
                    created_at=now,
                    updated_at=now,
                )
            )
            move_record(conn, link.connection, link.crm_object, link.crm_id, person, fresh)
            record_decisions(conn, [_manual(fresh, link, decided_by, UNLINK, person)])
            return fresh

    @staticmethod
    def _known(conn: Connection, person: str) -> list[_Link]:
        links = _of(conn, person)
        if not links:
            raise UnknownPersonError(person)
        return links

    @staticmethod
    def _one_per_connection(mine: list[_Link], theirs: list[_Link]) -> None:
        shared = _live_connections(mine) & _live_connections(theirs)
        if shared:
            raise IdentityConflictError(
                "the person already has a record in "
                + ", ".join(sorted(shared))
                + ": merge the two records in that CRM (a person has one record per connection)"
            )
