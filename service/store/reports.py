"""What the report endpoints aggregate: records of one kind in a time window, each with the
customer attributes reports group by (segment, owner), read in one query per report.

The window is half-open, [start, end), on the record's own time (answered, sent, scored), and
uses ix_crm_links_type_time / ix_score_history_customer_time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from service.store.tables import CrmLink, Customer, EntityType, ScoreHistory


@dataclass(frozen=True)
class GroupedRecord:
    """One stored canonical record with its customer's segment and owner."""

    customer_id: str
    payload: dict[str, Any]
    segment: str | None
    owner: str | None


@dataclass(frozen=True)
class GroupedScore:
    """One scoring of a customer (churn risk and flag) with its customer's segment and owner."""

    customer_id: str
    as_of: datetime
    churn_risk: float
    churn_flag: bool
    segment: str | None
    owner: str | None


class ReportRepository:
    """Window reads for the survey, sentiment and churn reports."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def records(
        self, kind: EntityType, start: datetime, end: datetime, *, survey_kind: str | None = None
    ) -> list[GroupedRecord]:
        """Live records of `kind` that occurred in [start, end); surveys of one kind only."""
        query = (
            select(CrmLink.customer_id, CrmLink.payload, Customer.segment, Customer.owner_ref)
            .join(Customer, col(Customer.id) == col(CrmLink.customer_id))
            .where(
                CrmLink.entity_type == kind.value,
                col(CrmLink.occurred_at) >= start,
                col(CrmLink.occurred_at) < end,
                col(CrmLink.deleted_at).is_(None),
            )
        )
        if survey_kind is not None:
            query = query.where(col(CrmLink.payload)["kind"].as_string() == survey_kind)
        with Session(self._engine) as session:
            return [
                GroupedRecord(customer_id, dict(payload), segment, owner)
                for customer_id, payload, segment, owner in session.exec(query)
                if customer_id is not None and payload is not None
            ]

    def scorings(self, start: datetime, end: datetime) -> list[GroupedScore]:
        """Scorings in [start, end) that have a churn risk, oldest first."""
        # Six columns: more than sqlmodel's typed select() takes, so SQLAlchemy's own.
        query = (
            sa_select(
                col(ScoreHistory.customer_id),
                col(ScoreHistory.as_of),
                col(ScoreHistory.churn_risk),
                col(ScoreHistory.churn_flag),
                col(Customer.segment),
                col(Customer.owner_ref),
            )
            .join(Customer, col(Customer.id) == col(ScoreHistory.customer_id))
            .where(
                col(ScoreHistory.as_of) >= start,
                col(ScoreHistory.as_of) < end,
                col(ScoreHistory.churn_risk).is_not(None),
            )
            .order_by(col(ScoreHistory.as_of), col(ScoreHistory.id))
        )
        with Session(self._engine) as session:
            return [
                GroupedScore(customer_id, as_of, float(risk), bool(flag), segment, owner)
                for customer_id, as_of, risk, flag, segment, owner in session.execute(query)
                if risk is not None
            ]
