"""What the store already holds for one batch of pulled records, read in a few queries.

`RecordStore.upsert()` used to look up each record's link, the link of the customer it belongs to
and the customer's row one query at a time, and every query flushed the rows added before it:
three or four round trips per record, so a 10,000-customer pull (about 170,000 records) spent
most of its time waiting on the database. `LinkIndex.load()` reads the same rows for a whole batch
up front (in chunks that keep within SQLite's bound-parameter limit); the upsert then works on
these maps and keeps them current as it adds rows, so later records of the same batch see them,
as they used to see the flushed rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import tuple_
from sqlmodel import Session, SQLModel, col, select

from service.domain import Account, Customer, DomainModel, SourceRef
from service.store.tables import Account as AccountRow
from service.store.tables import CrmLink, EntityType
from service.store.tables import Customer as CustomerRow

# Keys per IN (...) list: two bound parameters each, far inside SQLite's 32,766.
_CHUNK = 500

_Row = TypeVar("_Row", bound=SQLModel)


def _chunks(items: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])


@dataclass
class LinkIndex:
    """The links, customers and accounts a batch touches, by the keys the upsert looks up."""

    # (CRM object, CRM id) -> the link of that CRM record.
    records: dict[tuple[str, str], CrmLink] = field(default_factory=dict)
    # CRM id -> a customer link with that CRM id (any object, placeholders "?" included).
    customers: dict[str, CrmLink] = field(default_factory=dict)
    customer_rows: dict[str, CustomerRow] = field(default_factory=dict)
    account_rows: dict[str, AccountRow] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, connection: str, records: Sequence[DomainModel]) -> LinkIndex:
        """Read the rows for `records` (each with a source)."""
        index = cls()
        keys = list(dict.fromkeys((_source(r).crm_object, _source(r).crm_id) for r in records))
        for chunk in _chunks(keys):
            for link in session.exec(
                select(CrmLink).where(
                    CrmLink.connection == connection,
                    tuple_(col(CrmLink.crm_object), col(CrmLink.crm_id)).in_(chunk),
                )
            ):
                index.records[(link.crm_object, link.crm_id)] = link
        # Customers are also found by CRM id alone: a contact pulled after its history takes over
        # the placeholder link that history made, and history names its customer by CRM id only.
        customer_ids = [
            _source(r).crm_id
            if isinstance(r, Customer)
            else str(getattr(r, "customer_id", None) or "")
            for r in records
        ]
        for chunk in _chunks([c for c in dict.fromkeys(customer_ids) if c]):
            for link in session.exec(
                select(CrmLink)
                .where(
                    CrmLink.connection == connection,
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    col(CrmLink.crm_id).in_(chunk),
                )
                .order_by(col(CrmLink.id))
            ):
                index.customers.setdefault(link.crm_id, link)
        customers: list[str] = []
        accounts: list[str] = []
        for record in records:
            if isinstance(record, Customer):
                found = index.existing(record, EntityType.CUSTOMER)
                customers += [found.entity_id] if found else []
            elif isinstance(record, Account):
                found = index.existing(record, EntityType.ACCOUNT)
                accounts += [found.entity_id] if found else []
        index.customer_rows = _rows(session, CustomerRow, customers)
        index.account_rows = _rows(session, AccountRow, accounts)
        return index

    def existing(self, record: DomainModel, kind: EntityType) -> CrmLink | None:
        """The stored link of a pulled record (a customer's placeholder link included)."""
        source = _source(record)
        link = self.records.get((source.crm_object, source.crm_id))
        if link is None and kind is EntityType.CUSTOMER:
            link = self.customers.get(source.crm_id)
        return link

    def added(self, link: CrmLink) -> None:
        """Note a link added in this batch, so its later records find it."""
        self.records[(link.crm_object, link.crm_id)] = link
        if link.entity_type == EntityType.CUSTOMER.value:
            self.customers.setdefault(link.crm_id, link)


def _source(record: DomainModel) -> SourceRef:
    source: SourceRef | None = getattr(record, "source", None)
    assert source is not None, "the upsert passes sourced records only"
    return source


def _rows(session: Session, table: type[_Row], ids: list[str]) -> dict[str, _Row]:
    found: dict[str, _Row] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        for row in session.exec(select(table).where(col(table.id).in_(chunk))):  # type: ignore[attr-defined]
            found[row.id] = row  # type: ignore[attr-defined]
    return found
