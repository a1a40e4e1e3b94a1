"""An in-memory `RecordRepository` (service/usecases/repositories.py) for use-case tests whose
point is not the database; `tests/service/test_record_fake.py` holds it to `RecordStore`.

Persons are linked by verified e-mail only (`service.domain.identity.email_key`, unique across
the other connections, one record per person and connection); the identity graph's other rules
are the database's and are tested there.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.domain import (
    Account,
    Case,
    Customer,
    DomainModel,
    Interaction,
    Owner,
    SurveyResponse,
    Transaction,
)
from service.domain.identity import identity_keys
from service.store.records import _TEXT_FIELDS, Customers, UpsertReport
from service.store.tables import new_id

PLACEHOLDER = "?"
_HISTORY = (SurveyResponse, Interaction, Case, Transaction)


@dataclass
class _Link:
    kind: type[DomainModel]
    entity_id: str  # the person, for customer records; the record's own id otherwise
    customer_id: str | None
    record: DomainModel | None
    order: int
    deleted: bool = False


class InMemoryRecords:
    """`RecordRepository` on dicts."""

    def __init__(self, *, keep_text: bool = False) -> None:
        self._keep_text = keep_text
        self._links: dict[tuple[str, str, str], _Link] = {}
        # The person's language as their row sums it up: the last one a record of theirs gave.
        self._languages: dict[str, str] = {}
        self._order = itertools.count()
        self.erased: set[tuple[str, str]] = set()

    # -- writing --------------------------------------------------------------------------

    def upsert(self, connection: str, records: Sequence[DomainModel]) -> UpsertReport:
        changed: set[str] = set()
        unchanged = 0
        for record in records:
            source = getattr(record, "source", None)
            if source is None:
                continue
            key = (connection, source.crm_object, source.crm_id)
            link = self._links.get(key)
            if link is not None and link.record == record and not link.deleted:
                unchanged += 1
                continue
            if isinstance(record, Customer):
                person = self._place(connection, key, record, link)
                changed.add(person)
            elif isinstance(record, _HISTORY):
                person = self.customer_for(connection, str(record.customer_id))
                self._put(key, type(record), link.entity_id if link else new_id(), person, record)
                changed.add(person)
            else:
                self._put(key, type(record), link.entity_id if link else new_id(), None, record)
        return UpsertReport(len(records) - unchanged, unchanged, frozenset(changed))

    def _put(
        self,
        key: tuple[str, str, str],
        kind: type[DomainModel],
        entity_id: str,
        customer_id: str | None,
        record: DomainModel | None,
    ) -> None:
        old = self._links.get(key)
        order = old.order if old else next(self._order)
        self._links[key] = _Link(kind, entity_id, customer_id, record, order)

    def _place(
        self, connection: str, key: tuple[str, str, str], record: Customer, link: _Link | None
    ) -> str:
        """The person of a customer record: its own, a placeholder's, or one matched by e-mail."""
        if link is not None:
            if record.language:
                self._languages[link.entity_id] = record.language
            self._put(key, Customer, link.entity_id, link.entity_id, record)
            return link.entity_id
        placeholder_key = (connection, PLACEHOLDER, key[2])
        placeholder = self._links.pop(placeholder_key, None)
        person = self._match(connection, record) or (
            placeholder.entity_id if placeholder else new_id()
        )
        if placeholder is not None and placeholder.entity_id != person:
            for other in self._links.values():  # the placeholder's history joins the person
                if other.customer_id == placeholder.entity_id:
                    other.customer_id = person
        self._put(key, Customer, person, person, record)
        if record.language:
            self._languages[person] = record.language
        if placeholder is not None:
            self._links[key].order = placeholder.order
        return person

    def _match(self, connection: str, record: Customer) -> str | None:
        email = identity_keys(record).email
        if email is None:
            return None
        holders = {
            (c, link.entity_id)
            for (c, obj, _), link in self._live(Customer)
            if obj != PLACEHOLDER and isinstance(link.record, Customer)
            and identity_keys(link.record).email == email
        }  # fmt: skip
        mine = [p for c, p in holders if c == connection]
        persons = {p for c, p in holders if c != connection}
        if mine or len(persons) != 1:
            return None  # shared within the connection, or ambiguous
        (person,) = persons
        taken = any(
            c == connection and link.entity_id == person and obj != PLACEHOLDER
            for (c, obj, _), link in self._live(Customer)
        )
        return None if taken else person

    def mark_deleted(self, connection: str, crm_object: str, crm_ids: Sequence[str]) -> set[str]:
        affected: set[str] = set()
        for crm_id in crm_ids:
            link = self._links.get((connection, crm_object, crm_id))
            if link is not None:
                link.deleted = True
                if link.customer_id:
                    affected.add(link.customer_id)
        return affected

    # -- reading --------------------------------------------------------------------------

    def _live(self, kind: type[DomainModel]) -> list[tuple[tuple[str, str, str], _Link]]:
        return sorted(
            ((k, v) for k, v in self._links.items() if v.kind is kind and not v.deleted),
            key=lambda item: item[1].order,
        )

    def _customer_link(self, connection: str, crm_id: str) -> _Link | None:
        for (c, _obj, i), link in self._links.items():
            if c == connection and i == crm_id and link.kind is Customer:
                return link
        return None

    def exists(self, connection: str, crm_object: str, crm_id: str) -> bool:
        return (connection, crm_object, crm_id) in self._links

    def is_erased(self, connection: str, crm_id: str) -> bool:
        return (connection, crm_id) in self.erased

    def known_customer(self, connection: str, crm_id: str) -> str | None:
        link = self._customer_link(connection, crm_id)
        if link is None or link.record is None or link.deleted:
            return None
        return link.entity_id

    def customer_for(self, connection: str, crm_id: str) -> str:
        link = self._customer_link(connection, crm_id)
        if link is not None:
            return link.entity_id
        person = new_id()
        self._put((connection, PLACEHOLDER, crm_id), Customer, person, person, None)
        return person

    def customer_languages(self, connection: str, crm_ids: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for crm_id in crm_ids:
            link = self._customer_link(connection, crm_id)
            if link is not None and link.entity_id in self._languages:
                found[crm_id] = self._languages[link.entity_id]
        return found

    def customer_ids(self, connection: str) -> set[str]:
        return {link.entity_id for (c, _, _), link in self._live(Customer) if c == connection}

    def crm_ids(self, connection: str, customer_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        wanted = set(customer_ids)
        return {
            link.entity_id: (obj, crm_id)
            for (c, obj, crm_id), link in self._live(Customer)
            if c == connection and obj != PLACEHOLDER and link.entity_id in wanted
        }

    def crm_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for (c, obj, crm_id), link in self._links.items():
            if link.kind is Customer:
                key = f"{c}/{obj}/{crm_id}"
                keys[link.entity_id] = min(keys.get(link.entity_id, key), key)
        return keys

    def transactions(self, connection: str | None = None) -> list[Transaction]:
        return [
            link.record.model_copy(update={"customer_id": link.customer_id})
            for (c, _, _), link in self._live(Transaction)
            if isinstance(link.record, Transaction) and link.customer_id
            and connection in (None, c)
        ]  # fmt: skip

    def owners(self, connection: str) -> dict[str, Owner]:
        # Owners with a language only: the database store also infers one from their customers.
        return {
            crm_id: link.record
            for (c, _, crm_id), link in self._live(Owner)
            if c == connection and isinstance(link.record, Owner)
        }

    def accounts(self, connection: str, crm_ids: Iterable[str]) -> dict[str, Account]:
        wanted = set(crm_ids)
        return {
            crm_id: link.record
            for (c, _, crm_id), link in self._live(Account)
            if c == connection and crm_id in wanted and isinstance(link.record, Account)
        }

    def history(
        self, customer_ids: Iterable[str], connection: str | None = None
    ) -> dict[str, Customers]:
        wanted = set(customer_ids)
        result: dict[str, Customers] = {}
        preferred: set[str] = set()
        for (c, _, _), link in self._live(Customer):
            person, record = link.entity_id, link.record
            if person not in wanted or not isinstance(record, Customer) or person in preferred:
                continue
            own = c == connection
            if person in result and not own:
                continue
            result[person] = Customers(
                record.model_copy(update={"id": person, "account_id": None}),
                crm_account_id=record.account_id,
            )
            if own:
                preferred.add(person)
        history = sorted(
            (v for v in self._links.values() if v.kind in _HISTORY and not v.deleted),
            key=lambda link: link.order,
        )
        for link in history:
            bucket = result.get(link.customer_id or "")
            if bucket is None or link.record is None:
                continue
            kept = {} if self._keep_text else dict.fromkeys(_TEXT_FIELDS)
            fields = {k: v for k, v in kept.items() if k in type(link.record).model_fields}
            record = link.record.model_copy(update={"customer_id": link.customer_id, **fields})
            if isinstance(record, SurveyResponse):
                bucket.surveys.append(record)
            elif isinstance(record, Interaction):
                bucket.interactions.append(record)
            elif isinstance(record, Case):
                bucket.cases.append(record)
            elif isinstance(record, Transaction):
                bucket.transactions.append(record)
        return result
