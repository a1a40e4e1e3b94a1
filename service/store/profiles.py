"""Customers as the read API sees them: the latest scoring kept on each customer, lists with
filters and keyset paging, and everything one profile or one account roll-up needs.

`write_latest` runs in the transaction that appends to `score_history` (ScoreHistoryRepository),
so every path that scores customers (sync, real-time events, rescoring) keeps lists current.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from more_itertools import chunked
from sqlalchemy import Engine, and_, bindparam, exists, update
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select

from service.scoring.customer import CustomerScore
from service.store.paging import Page, Sort, keyset_page
from service.store.tables import (
    Account,
    CrmLink,
    Customer,
    CustomerProfile,
    EntityType,
    ScoreHistory,
    TaskLedger,
    utcnow,
)
from service.store.upserts import table_of, upsert_rows

SORTABLE: dict[str, InstrumentedAttribute[Any]] = {
    "experience_score": col(Customer.experience_score),  # type: ignore[dict-item]
    "churn_risk": col(Customer.churn_risk),  # type: ignore[dict-item]
    "updated_at": col(Customer.updated_at),  # type: ignore[dict-item]
    "display_name": col(Customer.display_name),  # type: ignore[dict-item]
}
# Sort fields that may be NULL (customers not scored yet): those rows come last.
NULLABLE_SORTS = frozenset({"experience_score", "churn_risk"})
DEFAULT_SORT = Sort("updated_at", descending=True)
_CUSTOMERS = table_of(Customer)
# The latest scoring's columns on a customer's row.
_LATEST = (
    "experience_score",
    "churn_risk",
    "churn_flag",
    "nps_class",
    "segment",
    "scored_at",
    "updated_at",
)
_CHUNK = 500  # ids per IN (...) list: well under every database's parameter limit


def profile_document(score: CustomerScore) -> dict[str, Any]:
    """What `customer_profiles.profile` holds for one scoring (JSON-ready)."""
    return {
        "experience": score.experience.model_dump(mode="json"),
        "churn": score.churn.model_dump(mode="json") if score.churn else None,
        "churn_note": score.churn_note,
        "loyalty_stage": score.loyalty_stage.value,
        "nps_class": score.nps_class.value if score.nps_class else None,
        "planned_actions": [
            {
                "playbook": t.playbook,
                "reason": t.reason,
                "subject": t.subject,
                "why": t.why,
                "priority": t.priority.value,
                "due_at": t.due_at.isoformat(),
                "language": t.language,
            }
            for t in score.actions.tasks
        ],
    }


def write_latest(session: Session, scores: Sequence[CustomerScore]) -> None:
    """Keep each customer's newest scoring on its row and its full profile beside it.

    A scoring older than the one already kept (a late retry) changes nothing. Set-based: one
    UPDATE of the customers and one upsert of the profiles for all of them (an ORM object per
    customer and profile cost more than the statements; service/store/upserts.py).
    """
    by_id = {s.customer_id: s for s in scores}
    now = utcnow()
    connection = session.connection()
    fresh: list[CustomerScore] = []
    for ids in chunked(sorted(by_id), _CHUNK):
        for customer_id, scored_at in connection.execute(
            select(_CUSTOMERS.c.id, _CUSTOMERS.c.scored_at).where(_CUSTOMERS.c.id.in_(ids))
        ):
            score = by_id[customer_id]
            if scored_at is None or scored_at <= score.as_of:
                fresh.append(score)
    if not fresh:
        return
    connection.execute(
        update(_CUSTOMERS)
        .where(_CUSTOMERS.c.id == bindparam("customer_id"))
        # Bound names must differ from the columns' in an executemany UPDATE.
        .values({c: bindparam(f"new_{c}") for c in _LATEST}),
        [
            {
                "customer_id": s.customer_id,
                "new_experience_score": s.experience.score,
                "new_churn_risk": s.churn.probability if s.churn else None,
                "new_churn_flag": bool(s.churn.flagged) if s.churn else None,
                "new_nps_class": s.nps_class.value if s.nps_class else None,
                "new_segment": s.loyalty_stage.value,
                "new_scored_at": s.as_of,
                "new_updated_at": now,
            }
            for s in fresh
        ],
    )
    upsert_rows(
        session,
        table_of(CustomerProfile),
        [
            {
                "customer_id": s.customer_id,
                "as_of": s.as_of,
                "scoring_version": s.scoring_version,
                "profile": profile_document(s),
            }
            for s in fresh
        ],
        key=["customer_id"],
        update=["as_of", "scoring_version", "profile"],
    )


@dataclass(frozen=True)
class CustomerFilter:
    """Filters of `GET /v1/customers`; None means "any". Ranges are inclusive."""

    segments: tuple[str, ...] = ()
    owner: str | None = None
    language: str | None = None
    nps_class: str | None = None
    flagged: bool | None = None
    min_score: float | None = None
    max_score: float | None = None
    min_risk: float | None = None
    max_risk: float | None = None
    scored: bool | None = None


@dataclass(frozen=True)
class CustomerRecord:
    """One CRM record behind a customer."""

    connection: str
    crm_object: str
    crm_id: str
    payload: dict[str, Any]


def _live_customer() -> Any:
    """Customers with at least one CRM record not deleted there (ix_crm_links_entity)."""
    return exists().where(
        and_(
            col(CrmLink.entity_type) == EntityType.CUSTOMER.value,
            col(CrmLink.entity_id) == col(Customer.id),
            col(CrmLink.deleted_at).is_(None),
        )
    )


class ProfileRepository:
    """Reads for the customers and accounts API."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def page(
        self, where: CustomerFilter, *, sort: Sort, cursor: str | None, limit: int
    ) -> Page[Customer]:
        """A page of live customers (`BadCursorError` for a cursor of another sort)."""
        query = select(Customer).where(_live_customer())
        if where.segments:
            query = query.where(col(Customer.segment).in_(where.segments))
        if where.owner is not None:
            query = query.where(Customer.owner_ref == where.owner)
        if where.language is not None:
            query = query.where(Customer.language == where.language)
        if where.nps_class is not None:
            query = query.where(Customer.nps_class == where.nps_class)
        if where.flagged is not None:
            query = query.where(Customer.churn_flag == where.flagged)
        if where.scored is not None:
            scored = col(Customer.scored_at)
            query = query.where(scored.is_not(None) if where.scored else scored.is_(None))
        bounds = (
            (col(Customer.experience_score), where.min_score, where.max_score),
            (col(Customer.churn_risk), where.min_risk, where.max_risk),
        )
        for column, low, high in bounds:
            if low is not None:
                query = query.where(column >= low)
            if high is not None:
                query = query.where(column <= high)
        with Session(self._engine, expire_on_commit=False) as session:
            return keyset_page(
                session,
                query,
                sort=sort,
                columns=SORTABLE,
                id_column=col(Customer.id),
                cursor=cursor,
                limit=limit,
                nullable=sort.field in NULLABLE_SORTS,
            )

    def customer(self, customer_id: str) -> Customer | None:
        """A live customer by id (None when unknown or deleted in every CRM)."""
        with Session(self._engine) as session:
            return session.exec(
                select(Customer).where(Customer.id == customer_id, _live_customer())
            ).first()

    def profile(self, customer_id: str) -> CustomerProfile | None:
        with Session(self._engine) as session:
            return session.get(CustomerProfile, customer_id)

    def profiles(self, customer_ids: Iterable[str]) -> dict[str, CustomerProfile]:
        ids = sorted(set(customer_ids))
        found: dict[str, CustomerProfile] = {}
        with Session(self._engine) as session:
            for chunk in chunked(ids, _CHUNK):
                query = select(CustomerProfile).where(col(CustomerProfile.customer_id).in_(chunk))
                found.update({p.customer_id: p for p in session.exec(query)})
        return found

    def score_history(self, customer_id: str, limit: int) -> list[ScoreHistory]:
        """The newest `limit` scorings of a customer, newest first."""
        with Session(self._engine) as session:
            query = (
                select(ScoreHistory)
                .where(ScoreHistory.customer_id == customer_id)
                .order_by(col(ScoreHistory.as_of).desc(), col(ScoreHistory.id).desc())
                .limit(limit)
            )
            return list(session.exec(query))

    def open_tasks(self, customer_ids: Iterable[str]) -> list[TaskLedger]:
        """Our open next-best-action tasks of the customers, oldest first."""
        ids = sorted(set(customer_ids))
        rows: list[TaskLedger] = []
        with Session(self._engine) as session:
            for chunk in chunked(ids, _CHUNK):
                rows.extend(
                    session.exec(
                        select(TaskLedger).where(
                            col(TaskLedger.customer_id).in_(chunk), TaskLedger.state == "open"
                        )
                    )
                )
        return sorted(rows, key=lambda t: (t.created_at, t.id or 0))

    def records(self, customer_id: str) -> list[CustomerRecord]:
        """The live CRM contact/lead records of a customer (one per connection)."""
        with Session(self._engine) as session:
            links = session.exec(
                select(CrmLink).where(
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    CrmLink.entity_id == customer_id,
                    col(CrmLink.deleted_at).is_(None),
                )
            )
            return [
                CustomerRecord(link.connection, link.crm_object, link.crm_id, link.payload or {})
                for link in links
                if link.crm_object != "?"
            ]

    def account(self, account_id: str) -> tuple[Account, list[CustomerRecord]] | None:
        """An account and its live CRM records, or None when unknown or deleted everywhere."""
        with Session(self._engine, expire_on_commit=False) as session:
            account = session.get(Account, account_id)
            if account is None:
                return None
            links = session.exec(
                select(CrmLink).where(
                    CrmLink.entity_type == EntityType.ACCOUNT.value,
                    CrmLink.entity_id == account_id,
                    col(CrmLink.deleted_at).is_(None),
                )
            ).all()
        if not links:
            return None
        records = [
            CustomerRecord(link.connection, link.crm_object, link.crm_id, link.payload or {})
            for link in links
        ]
        return account, records

    def contacts(self, accounts: Sequence[CustomerRecord]) -> list[tuple[Customer, CrmLink]]:
        """The live customers whose CRM record names one of these account records.

        Customers hold their account as the CRM's id inside the stored canonical record, so
        they are matched per connection on that id (one query per connection of the account).
        """
        found: list[tuple[Customer, CrmLink]] = []
        with Session(self._engine, expire_on_commit=False) as session:
            for record in accounts:
                rows = session.exec(
                    select(Customer, CrmLink)
                    .join(CrmLink, col(CrmLink.entity_id) == col(Customer.id))
                    .where(
                        CrmLink.entity_type == EntityType.CUSTOMER.value,
                        CrmLink.connection == record.connection,
                        col(CrmLink.deleted_at).is_(None),
                        col(CrmLink.payload)["account_id"].as_string() == record.crm_id,
                    )
                    .order_by(col(Customer.id))
                )
                found.extend((customer, link) for customer, link in rows)
        return found

    def accounts_of(self, records: Sequence[CustomerRecord]) -> list[str]:
        """Our ids of the accounts a customer's CRM records name (live accounts only)."""
        ids: set[str] = set()
        with Session(self._engine) as session:
            for record in records:
                crm_account = record.payload.get("account_id")
                if not crm_account:
                    continue
                found = session.exec(
                    select(CrmLink.entity_id).where(
                        CrmLink.entity_type == EntityType.ACCOUNT.value,
                        CrmLink.connection == record.connection,
                        CrmLink.crm_id == str(crm_account),
                        col(CrmLink.deleted_at).is_(None),
                    )
                )
                ids.update(found)
        return sorted(ids)
