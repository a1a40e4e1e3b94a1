"""What the store already holds for one batch of pulled records, read in a few queries.

`RecordStore.upsert()` used to look up each record's link and the link of the customer it
belongs to one query at a time: several round trips per record, so a 10,000-customer pull (about
170,000 records) spent most of its time waiting on the database. `LinkIndex.load()` reads the
same rows for a whole batch up front (in chunks that keep within SQLite's bound-parameter
limit), as plain `StoredLink` values rather than ORM objects (building those cost more than the
query); the upsert then works on these maps and keeps them current as it plans rows, so later
records of the same batch see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from more_itertools import chunked
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain import Customer, DomainModel, SourceRef
from service.store.tables import CrmLink, EntityType
from service.store.upserts import table_of

# CRM ids per IN (...) list, far inside SQLite's 32,766 bound parameters.
_CHUNK = 1000
_LINKS = table_of(CrmLink)


@dataclass(eq=False, slots=True)
class StoredLink:
    """What the upsert needs of one `crm_links` row: stored (`id` set) or planned in this batch
    (`id` None). Compared by identity: the upsert keys its planned rows by these."""

    id: int | None
    entity_type: str
    entity_id: str
    crm_object: str
    crm_id: str
    fingerprint: str | None = None
    deleted_at: datetime | None = None


_COLUMNS = (
    _LINKS.c.id,
    _LINKS.c.entity_type,
    _LINKS.c.entity_id,
    _LINKS.c.crm_object,
    _LINKS.c.crm_id,
    _LINKS.c.fingerprint,
    _LINKS.c.deleted_at,
)


@dataclass
class LinkIndex:
    """The links a batch touches, by the keys the upsert looks up."""

    # (CRM object, CRM id) -> the link of that CRM record.
    records: dict[tuple[str, str], StoredLink] = field(default_factory=dict)
    # CRM id -> a customer link with that CRM id (any object, placeholders "?" included).
    customers: dict[str, StoredLink] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, connection: str, records: Sequence[DomainModel]) -> LinkIndex:
        """Read the rows for `records` (each with a source)."""
        index = cls()
        wanted = {(_source(r).crm_object, _source(r).crm_id) for r in records}
        # Customers are also found by CRM id alone: a contact pulled after its history takes over
        # the placeholder link that history made, and history names its customer by CRM id only.
        customer_ids = {
            _source(r).crm_id
            if isinstance(r, Customer)
            else str(getattr(r, "customer_id", None) or "")
            for r in records
        } - {""}
        crm_ids = sorted({crm_id for _, crm_id in wanted} | customer_ids)
        # One query by CRM id alone (the (connection, crm_id) index), the object sorted out
        # here: a row-value IN over (object, id) pairs cost SQLite a plan per chunk and more.
        for chunk in chunked(crm_ids, _CHUNK):
            for row in session.connection().execute(
                select(*_COLUMNS)
                .where(_LINKS.c.connection == connection, _LINKS.c.crm_id.in_(chunk))
                .order_by(_LINKS.c.id)
            ):
                link = StoredLink(*row)
                if (link.crm_object, link.crm_id) in wanted:
                    index.records[(link.crm_object, link.crm_id)] = link
                if link.entity_type == EntityType.CUSTOMER.value and link.crm_id in customer_ids:
                    index.customers.setdefault(link.crm_id, link)
        return index

    def existing(self, record: DomainModel, kind: EntityType) -> StoredLink | None:
        """The stored link of a pulled record (a customer's placeholder link included)."""
        source = _source(record)
        link = self.records.get((source.crm_object, source.crm_id))
        if link is None and kind is EntityType.CUSTOMER:
            link = self.customers.get(source.crm_id)
        return link

    def added(self, link: StoredLink) -> None:
        """Note a link planned in this batch, so its later records find it."""
        self.records[(link.crm_object, link.crm_id)] = link
        if link.entity_type == EntityType.CUSTOMER.value:
            self.customers.setdefault(link.crm_id, link)


def _source(record: DomainModel) -> SourceRef:
    source: SourceRef | None = getattr(record, "source", None)
    assert source is not None, "the upsert passes sourced records only"
    return source
