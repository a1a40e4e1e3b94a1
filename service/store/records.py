"""Pulled CRM records in canonical form, keyed by their source record, with change detection.

`upsert()` turns CRM ids into canonical ids (a contact's id becomes our customer id; an
interaction's `customer_id` is translated the same way), stores each record's canonical form and
reports which customers' histories really changed: a record whose fingerprint is unchanged (for
example one we just wrote our own fields onto) is not a change. `history()` rebuilds the domain
records of customers for scoring.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

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
from service.domain.identity import DecidedBy, IdentityKeys, identity_keys
from service.domain.locales import language_of_locale
from service.store.database import session_scope
from service.store.erasure import is_suppressed
from service.store.identity_graph import (
    PLACEHOLDER,
    Decision,
    Join,
    find_people,
    lock_identities,
    record_decisions,
    write_refs,
)
from service.store.identity_moves import merge_people
from service.store.linking import LinkIndex, StoredLink
from service.store.record_plan import Plan
from service.store.suppression import SuppressionList
from service.store.tables import CrmLink, EntityType, new_id, utcnow
from service.store.tables import Customer as CustomerRow
from service.store.upserts import table_of

_KINDS: dict[type[DomainModel], EntityType] = {
    Customer: EntityType.CUSTOMER,
    Account: EntityType.ACCOUNT,
    Owner: EntityType.OWNER,
    Interaction: EntityType.INTERACTION,
    SurveyResponse: EntityType.SURVEY,
    Transaction: EntityType.TRANSACTION,
    Case: EntityType.CASE,
}
_TEXT_FIELDS = ("text", "comment", "subject")
_LINKS = table_of(CrmLink)
# CRM ids per IN (...) list, inside SQLite's bound-parameter limit.
_ID_CHUNK = 1000


def fingerprint(record: DomainModel, data: dict[str, Any]) -> str:
    """The fingerprint of `record` from its JSON dump `data` (one dump serves the payload too).

    The hashed text must stay as it was (`json.dumps` with its default separators): every
    stored fingerprint was made that way, and another spelling would make every record look
    changed once after an upgrade."""
    hashed = {k: v for k, v in data.items() if k != "source"}
    if isinstance(record, Customer) and record.phone is None:
        # Fields added later leave the fingerprints of records without them as they were, so
        # an upgrade does not make every stored record look changed.
        hashed.pop("phone", None)
    return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()


def _when(record: DomainModel) -> Any:
    return getattr(record, "occurred_at", None) or getattr(record, "opened_at", None)


@dataclass
class Customers:
    """One customer's history as domain records with canonical ids."""

    customer: Customer
    crm_account_id: str | None = None
    surveys: list[SurveyResponse] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Payload:
    """What the readers of stored records take of a link row."""

    crm_id: str
    customer_id: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class UpsertReport:
    stored: int
    unchanged: int
    changed_customers: frozenset[str]


@dataclass
class _Batch:
    """One upsert's plan, index and identity decisions."""

    plan: Plan
    index: LinkIndex
    keys: dict[str, IdentityKeys]
    joins: dict[str, Join]
    merged: dict[str, str] = field(default_factory=dict)  # placeholder person -> person
    decisions: list[Decision] = field(default_factory=list)
    # CRM id -> the ref keys of each customer record written (their stored refs are replaced).
    refs: dict[str, frozenset[str]] = field(default_factory=dict)

    def join(self, link: StoredLink | None, crm_object: str, crm_id: str) -> str | None:
        """The person a customer record joins (None: it stays or becomes its own person)."""
        found = self.joins.pop(crm_id, None)
        if found is None:
            return None
        if link is not None:  # a placeholder: its person is merged in after the write
            self.merged[link.entity_id] = found.person
        self.decisions.append(
            Decision(
                found.person,
                self.plan.connection,
                crm_object,
                crm_id,
                "link",
                found.evidence.rule.value,
                found.evidence.confidence,
                DecidedBy.AUTO.value,
                value=found.evidence.value,
            )
        )
        return found.person


class RecordStore:
    """Canonical records pulled from the CRMs."""

    def __init__(
        self,
        engine: Engine,
        *,
        keep_text: bool = False,
        suppressions: SuppressionList | None = None,
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        self._engine = engine
        self._keep_text = keep_text
        self._suppressions = suppressions or SuppressionList(engine)
        # Connection -> its connector's kind: a record's refs may name a kind (`zalo:…`).
        self._kinds = dict(kinds or {})

    def _link(
        self, session: Session, connection: str, crm_id: str, kinds: Iterable[EntityType]
    ) -> CrmLink | None:
        return session.exec(
            select(CrmLink).where(
                CrmLink.connection == connection,
                CrmLink.crm_id == crm_id,
                col(CrmLink.entity_type).in_([k.value for k in kinds]),
            )
        ).first()

    def _canonical_customer(self, session: Session, connection: str, crm_id: str) -> str:
        """Our id for a CRM contact/lead id (a placeholder link when it is not pulled yet)."""
        link = self._link(session, connection, crm_id, [EntityType.CUSTOMER])
        if link is not None:
            return link.entity_id
        customer = CustomerRow()
        session.add(customer)
        session.add(
            CrmLink(
                entity_type=EntityType.CUSTOMER.value,
                entity_id=customer.id,
                connection=connection,
                crm_object="?",  # filled in when the contact itself is pulled
                crm_id=crm_id,
            )
        )
        session.flush()
        return customer.id

    def upsert(self, connection: str, records: Sequence[DomainModel]) -> UpsertReport:
        changed: set[str] = set()
        unchanged = 0
        # Erased customers stay erased: their CRM records still come in, and are skipped.
        suppressed = self._suppressions.matcher(connection)
        live: list[DomainModel] = []
        for record in records:
            if record.source is None:  # type: ignore[attr-defined]
                continue
            if is_suppressed(record, suppressed):
                unchanged += 1
                continue
            live.append(record)
        suppressed.upgrade()
        with session_scope(self._engine) as session:
            # Every row the batch needs, read in a few queries; the rows to write are planned
            # in memory and go out in one statement per table (service/store/upserts.py).
            # The person each new customer record is (service/store/identity_graph.py).
            keys = {
                r.source.crm_id: identity_keys(r)
                for r in live
                if isinstance(r, Customer) and r.source is not None
            }
            if keys:
                lock_identities(session.connection())
            index = LinkIndex.load(session, connection, live)
            unplaced = [
                crm_id
                for crm_id in keys
                if (found := index.customers.get(crm_id)) is None or found.crm_object == PLACEHOLDER
            ]
            joins = find_people(session, connection, keys, unplaced, self._kinds)
            batch = _Batch(plan=Plan(connection, utcnow()), index=index, keys=keys, joins=joins)
            for record in live:
                if not self._plan(batch, record, changed):
                    unchanged += 1
            batch.plan.write(session)
            # Placeholders whose contact joined a person: their history goes to that person.
            merge_people(session.connection(), batch.merged)
            record_decisions(session.connection(), batch.decisions)
            write_refs(session.connection(), connection, batch.refs)
        changed = {batch.merged.get(c, c) for c in changed}
        return UpsertReport(len(records) - unchanged, unchanged, frozenset(changed))

    def _plan(self, batch: _Batch, record: DomainModel, changed: set[str]) -> bool:
        """Plan the rows of one record; False when it is unchanged (nothing to write)."""
        plan, index = batch.plan, batch.index
        kind = _KINDS[type(record)]
        source = record.source  # type: ignore[attr-defined]
        link = index.existing(record, kind)
        data = record.model_dump(mode="json")
        print_ = fingerprint(record, data)
        if link is not None and link.fingerprint == print_ and link.deleted_at is None:
            return False
        customer_id: str | None = None
        entity_id = link.entity_id if link else new_id()
        keys: IdentityKeys | None = None
        if kind is EntityType.CUSTOMER:
            keys = batch.keys.get(source.crm_id)
            batch.refs[source.crm_id] = keys.refs if keys else frozenset()
            person = batch.join(link, source.crm_object, source.crm_id)
            if link is None and person is not None:
                entity_id = person
            plan.customer(person or entity_id, record)  # type: ignore[arg-type]
            customer_id = person or entity_id
        elif kind is EntityType.ACCOUNT:
            plan.account(entity_id, record)  # type: ignore[arg-type]
        else:
            crm_customer = getattr(record, "customer_id", None)
            if crm_customer:
                customer_id = self._customer_of(plan, str(crm_customer), index)
        if link is None:
            link = StoredLink(None, kind.value, entity_id, source.crm_object, source.crm_id)
        if not self._keep_text:
            for name in _TEXT_FIELDS:
                data.pop(name, None)
        plan.link(
            link,
            crm_object=source.crm_object,
            customer_id=customer_id,
            occurred_at=_when(record),
            fingerprint=print_,
            payload=data,
            keys=keys,
        )
        index.added(link)
        if customer_id:
            changed.add(customer_id)
        return True

    def _customer_of(self, plan: Plan, crm_id: str, index: LinkIndex) -> str:
        """`_canonical_customer` on the batch's index: a placeholder when not pulled yet."""
        link = index.customers.get(crm_id)
        if link is not None:
            return link.entity_id
        customer_id = new_id()
        plan.placeholder_customer(customer_id)
        # "?": filled in when the contact itself is pulled.
        placeholder = StoredLink(None, EntityType.CUSTOMER.value, customer_id, "?", crm_id)
        plan.link(
            placeholder,
            crm_object="?",
            customer_id=None,
            occurred_at=None,
            fingerprint=None,
            payload=None,
        )
        index.added(placeholder)
        return customer_id

    def mark_deleted(self, connection: str, crm_object: str, crm_ids: Sequence[str]) -> set[str]:
        """Deleted in the CRM: kept out of scoring from now on; returns affected customers."""
        affected: set[str] = set()
        if not crm_ids:
            return affected
        with session_scope(self._engine) as session:
            # One UPDATE a batch; RETURNING (SQLite 3.35+, PostgreSQL) names the customers.
            for start in range(0, len(crm_ids), _ID_CHUNK):
                affected.update(
                    customer_id
                    for (customer_id,) in session.connection().execute(
                        update(_LINKS)
                        .where(
                            _LINKS.c.connection == connection,
                            _LINKS.c.crm_object == crm_object,
                            _LINKS.c.crm_id.in_(list(crm_ids[start : start + _ID_CHUNK])),
                        )
                        .values(deleted_at=utcnow())
                        .returning(_LINKS.c.customer_id)
                    )
                    if customer_id
                )
        return affected

    def exists(self, connection: str, crm_object: str, crm_id: str) -> bool:
        with Session(self._engine) as session:
            found = session.exec(
                select(CrmLink.id).where(
                    CrmLink.connection == connection,
                    CrmLink.crm_object == crm_object,
                    CrmLink.crm_id == crm_id,
                )
            ).first()
            return found is not None

    def is_erased(self, connection: str, crm_id: str) -> bool:
        """True when the CRM contact/lead `crm_id` belongs to a customer erased on request."""
        matcher = self._suppressions.matcher(connection)
        found = matcher.matches(crm_id)
        matcher.upgrade()
        return found

    def known_customer(self, connection: str, crm_id: str) -> str | None:
        """Our customer id for a CRM contact/lead id we hold the record of, else None (unlike
        `customer_for`, never a placeholder)."""
        with Session(self._engine) as session:
            link = self._link(session, connection, crm_id, [EntityType.CUSTOMER])
            if link is None or link.crm_object == "?" or link.deleted_at is not None:
                return None
            return link.entity_id

    def customer_for(self, connection: str, crm_id: str) -> str:
        """Our customer id for a CRM contact/lead id (a placeholder when not pulled yet)."""
        with session_scope(self._engine) as session:
            return self._canonical_customer(session, connection, crm_id)

    def customer_languages(self, connection: str, crm_ids: Iterable[str]) -> dict[str, str]:
        """CRM contact/lead id -> the language its customer record gives, for those that give
        one (sentiment takes it as the prior of the customer's messages)."""
        ids = list(crm_ids)
        if not ids:
            return {}
        with Session(self._engine) as session:
            rows = session.exec(
                select(CrmLink.crm_id, CustomerRow.language)
                .join(CustomerRow, col(CustomerRow.id) == col(CrmLink.entity_id))
                .where(
                    CrmLink.connection == connection,
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    col(CrmLink.crm_id).in_(ids),
                    col(CustomerRow.language).is_not(None),
                )
            ).all()
        return {crm_id: language for crm_id, language in rows if language}

    def customer_ids(self, connection: str) -> set[str]:
        """Every customer of `connection` not deleted (what a resumed sync rescores)."""
        with Session(self._engine) as session:
            rows = session.exec(
                select(CrmLink.entity_id).where(
                    CrmLink.connection == connection,
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    col(CrmLink.deleted_at).is_(None),
                )
            )
            return set(rows)

    def crm_ids(self, connection: str, customer_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """customer id -> (CRM object, CRM id) of the contact/lead in `connection`."""
        with Session(self._engine) as session:
            links = session.exec(
                select(CrmLink).where(
                    CrmLink.connection == connection,
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    col(CrmLink.entity_id).in_(list(customer_ids)),
                    col(CrmLink.deleted_at).is_(None),
                )
            )
            return {
                link.entity_id: (link.crm_object, link.crm_id)
                for link in links
                if link.crm_object != "?"
            }

    def crm_keys(self) -> dict[str, str]:
        """customer id -> the smallest "<connection>/<CRM object>/<CRM id>" of their records: an
        order of persons that is the same in every database holding the same CRM data (our
        customer ids are random per database)."""
        query = (
            select(
                _LINKS.c.entity_id,
                func.min(_LINKS.c.connection + "/" + _LINKS.c.crm_object + "/" + _LINKS.c.crm_id),
            )
            .where(_LINKS.c.entity_type == EntityType.CUSTOMER.value)
            .group_by(_LINKS.c.entity_id)
        )
        with self._engine.connect() as conn:
            return {row[0]: row[1] for row in conn.execute(query)}

    def _payloads(
        self, connection: str | None, kind: EntityType, crm_ids: Iterable[str] | None
    ) -> list[_Payload]:
        # Plain rows, not ORM objects (as `history`): a purchase model's fit reads every
        # transaction (None: of every connection).
        query = select(_LINKS.c.crm_id, _LINKS.c.customer_id, _LINKS.c.payload).where(
            _LINKS.c.entity_type == kind.value,
            _LINKS.c.deleted_at.is_(None),
            _LINKS.c.payload.is_not(None),
        )
        if connection is not None:
            query = query.where(_LINKS.c.connection == connection)
        if crm_ids is not None:
            query = query.where(_LINKS.c.crm_id.in_(list(crm_ids)))
        # A stable order (see `history`), so float sums over the purchases come out the same.
        query = query.order_by(_LINKS.c.id)
        with Session(self._engine) as session:
            return [_Payload(*row) for row in session.connection().execute(query)]

    def transactions(self, connection: str | None = None) -> list[Transaction]:
        """Every stored transaction of a connection (None: of every connection), with canonical
        customer ids (persons)."""
        return [
            Transaction.model_validate({**link.payload, "customer_id": link.customer_id})
            for link in self._payloads(connection, EntityType.TRANSACTION, None)
            if link.customer_id
        ]

    def owners(self, connection: str) -> dict[str, Owner]:
        """Staff of a connection by their CRM id (their language decides the tasks' language).

        An owner whose CRM gives no language (HubSpot owners have no locale) is taken to work
        in the language most of their customers write in: staff are hired for their market, so
        a book of Vietnamese customers is most likely served by a Vietnamese speaker. A mapped
        language always wins.
        """
        owners = {
            link.crm_id: Owner.model_validate(link.payload)
            for link in self._payloads(connection, EntityType.OWNER, None)
        }
        unknown = [crm_id for crm_id, owner in owners.items() if owner.language is None]
        if not unknown:
            return owners
        books: dict[str, Counter[str]] = {crm_id: Counter() for crm_id in unknown}
        with Session(self._engine) as session:
            rows = session.exec(
                select(CustomerRow.owner_ref, CustomerRow.language, func.count())
                .where(col(CustomerRow.owner_ref).in_(unknown))
                .where(col(CustomerRow.language).is_not(None))
                .group_by(col(CustomerRow.owner_ref), col(CustomerRow.language))
            ).all()
        for owner_ref, language, count in rows:
            primary = language_of_locale(language)
            if owner_ref is not None and primary:
                books[owner_ref][primary] += count
        for crm_id, book in books.items():
            if book:
                language = book.most_common(1)[0][0]
                owners[crm_id] = owners[crm_id].model_copy(update={"language": language})
        return owners

    def accounts(self, connection: str, crm_ids: Iterable[str]) -> dict[str, Account]:
        """Accounts by their CRM id."""
        return {
            link.crm_id: Account.model_validate(link.payload)
            for link in self._payloads(connection, EntityType.ACCOUNT, crm_ids)
        }

    def history(
        self, customer_ids: Iterable[str], connection: str | None = None
    ) -> dict[str, Customers]:
        """The stored history of each customer (deleted records left out), canonical ids.

        A person's history is that of every CRM record linked to them, in every connection.
        Their customer record (owner, account, language, contract) is the one of `connection`
        when they have one there (its owner and account ids are that CRM's, which a push to it
        needs), else the one pulled first."""
        ids = list(customer_ids)
        result: dict[str, Customers] = {}
        with Session(self._engine) as session:
            # In the order the records were first stored (pull order), not the table's physical
            # order: an update moves a row on PostgreSQL, and scoring breaks ties by position
            # (the most frequent negative aspect), so a run that re-pulled a record scored the
            # same history differently (the 10,000-customer quota run, docs/faults.md).
            # Plain rows, not ORM objects: only the payloads are needed, and building an
            # object per record cost more than reading it.
            links = [
                (EntityType(kind), customer_id, payload, source)
                for start in range(0, len(ids), _ID_CHUNK)
                for kind, customer_id, payload, source in session.connection().execute(
                    select(
                        _LINKS.c.entity_type,
                        _LINKS.c.customer_id,
                        _LINKS.c.payload,
                        _LINKS.c.connection,
                    )
                    .where(
                        _LINKS.c.customer_id.in_(ids[start : start + _ID_CHUNK]),
                        _LINKS.c.deleted_at.is_(None),
                        _LINKS.c.payload.is_not(None),
                    )
                    .order_by(_LINKS.c.id)
                )
            ]
        preferred: set[str] = set()  # persons whose record of `connection` is taken
        for kind, customer_id, payload, source in links:
            if kind is EntityType.CUSTOMER and customer_id not in preferred:
                own = source == connection
                if customer_id in result and not own:
                    continue
                # Canonical ids replace the CRM's: ours for the customer; the account's CRM id
                # is not a canonical account id, so it is left out of the scoring input.
                data = {**payload, "id": customer_id}
                crm_account = data.pop("account_id", None)
                result[customer_id] = Customers(
                    Customer.model_validate(data), crm_account_id=crm_account
                )
                if own:
                    preferred.add(customer_id)
        for kind, customer_id, payload, _ in links:
            bucket = result.get(customer_id)
            if bucket is None or kind is EntityType.CUSTOMER:
                continue
            data = {**payload, "customer_id": customer_id}
            if kind is EntityType.SURVEY:
                bucket.surveys.append(SurveyResponse.model_validate(data))
            elif kind is EntityType.INTERACTION:
                bucket.interactions.append(Interaction.model_validate(data))
            elif kind is EntityType.CASE:
                bucket.cases.append(Case.model_validate(data))
            elif kind is EntityType.TRANSACTION:
                bucket.transactions.append(Transaction.model_validate(data))
        return result
