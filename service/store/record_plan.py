"""The rows one batch of pulled records writes, planned in memory and written set-based.

`RecordStore.upsert()` decides record by record what changed (service/store/records.py); this
holds the outcome as plain column dicts and writes it in one statement per table
(service/store/upserts.py): customers and accounts upserted by id, links by their CRM record
(`connection, crm_object, crm_id`). A link keeps its id when it is updated, so `history()`,
which orders by id, still sees records in the order they were first pulled; new links get their
ids in the order they were planned, as the ORM's flush gave them.

One exception to the upsert by CRM record: a contact pulled after its history takes over the
placeholder link (`crm_object` "?") that history made, which changes that row's key; stored
placeholders are therefore updated by id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from service.domain import Account, Customer
from service.domain.identity import IdentityKeys
from service.store.identity import phone_digits
from service.store.linking import StoredLink
from service.store.tables import Account as AccountRow
from service.store.tables import CrmLink
from service.store.tables import Customer as CustomerRow
from service.store.upserts import table_of, upsert_rows

_LINKS = table_of(CrmLink)
_CUSTOMERS = table_of(CustomerRow)
_ACCOUNTS = table_of(AccountRow)
# What a pulled record changes on its stored link (never its id, entity or first-link time).
_LINK_UPDATES = (
    "crm_object",
    "customer_id",
    "occurred_at",
    "fingerprint",
    "deleted_at",
    "payload",
    "match_email",
    "match_phone",
)
_CUSTOMER_UPDATES = ("display_name", "email", "phone", "language", "owner_ref", "updated_at")
# A person's row sums up their records: one record that gives no language, e-mail or phone (a
# second CRM, a chat follower) leaves what another gave.
_CUSTOMER_KEPT = ("email", "phone", "language")
_ACCOUNT_UPDATES = ("name", "domain", "updated_at")


class Plan:
    """Rows to write for one batch of one connection, at one moment `now`."""

    def __init__(self, connection: str, now: datetime) -> None:
        self.connection = connection
        self.now = now
        # Keyed by link identity: a record seen twice in a batch plans its row once, in the
        # place it was first planned.
        self._links: dict[StoredLink, dict[str, Any]] = {}
        # Stored links whose key changes (placeholders taken over): updated by their id.
        self._moved: dict[StoredLink, int] = {}
        self._customers: dict[str, dict[str, Any]] = {}
        self._accounts: dict[str, dict[str, Any]] = {}

    def customer(self, entity_id: str, record: Customer) -> None:
        self._customers[entity_id] = self._customer_row(
            entity_id,
            display_name=record.display_name[:255],
            email=record.email,
            phone=phone_digits(record.phone),
            language=record.language,
            owner_ref=record.owner_id,
        )

    def placeholder_customer(self, entity_id: str) -> None:
        """A customer known only by their history so far (their contact not pulled yet)."""
        self._customers[entity_id] = self._customer_row(
            entity_id, display_name="", email=None, phone=None, language=None, owner_ref=None
        )

    def _customer_row(self, entity_id: str, **values: Any) -> dict[str, Any]:
        return {"id": entity_id, **values, "created_at": self.now, "updated_at": self.now}

    def account(self, entity_id: str, record: Account) -> None:
        self._accounts[entity_id] = {
            "id": entity_id,
            "name": record.name[:255],
            "domain": record.domain,
            "created_at": self.now,
            "updated_at": self.now,
        }

    def link(
        self,
        link: StoredLink,
        *,
        crm_object: str,
        customer_id: str | None,
        occurred_at: datetime | None,
        fingerprint: str | None,
        payload: dict[str, Any] | None,
        keys: IdentityKeys | None = None,
    ) -> None:
        """Plan `link`'s row with these values (`keys`: a customer record's identity keys);
        `link` itself is updated to match, so later records of the batch compare with what will
        be stored."""
        previous = self._links.get(link)
        self._links[link] = {
            "entity_type": link.entity_type,
            "entity_id": link.entity_id,
            "connection": self.connection,
            "crm_object": crm_object,
            "crm_id": link.crm_id,
            "linked_at": previous["linked_at"] if previous else self.now,
            "customer_id": customer_id,
            "occurred_at": occurred_at,
            "fingerprint": fingerprint,
            "deleted_at": None,
            "payload": payload,
            "match_email": keys.email if keys else None,
            "match_phone": keys.phone if keys else None,
        }
        if link.id is not None and crm_object != link.crm_object:
            self._moved[link] = link.id
        link.crm_object = crm_object
        link.fingerprint = fingerprint
        link.deleted_at = None

    def write(self, session: Session) -> None:
        """Write every planned row: one statement per table (a second for taken-over
        placeholders)."""
        upsert_rows(
            session,
            _CUSTOMERS,
            list(self._customers.values()),
            key=["id"],
            update=_CUSTOMER_UPDATES,
            keep=_CUSTOMER_KEPT,
        )
        upsert_rows(
            session, _ACCOUNTS, list(self._accounts.values()), key=["id"], update=_ACCOUNT_UPDATES
        )
        keyed = [row for link, row in self._links.items() if link not in self._moved]
        upsert_rows(
            session,
            _LINKS,
            keyed,
            key=["connection", "crm_object", "crm_id"],
            update=_LINK_UPDATES,
        )
        if self._moved:
            session.connection().execute(
                update(_LINKS)
                .where(_LINKS.c.id == bindparam("link_id"))
                # Bound names must differ from the columns' in an executemany UPDATE.
                .values({c: bindparam(f"new_{c}") for c in _LINK_UPDATES}),
                [
                    {"link_id": id_, **{f"new_{c}": self._links[link][c] for c in _LINK_UPDATES}}
                    for link, id_ in self._moved.items()
                ],
            )
