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
from sqlmodel import Session, col

from service.store.tables import CrmLink, Customer, EntityType, ScoreHistory


@dataclass(frozen=True)
class GroupedAnswer:
    """One survey answer (the fields reports read) with its customer's segment and owner."""

    crm_id: str
    customer_id: str
    value: float
    scale: tuple[int, int] | None
    touchpoint: str | None
    channel: str | None
    occurred_at: datetime
    segment: str | None
    owner: str | None


@dataclass(frozen=True)
class GroupedMessage:
    """The sentiment of one message with its channel, time, customer's segment and owner."""

    customer_id: str
    score: float
    label: str
    channel: str
    occurred_at: datetime
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

    def _window(self, kind: EntityType, start: datetime, end: datetime) -> list[Any]:
        return [
            col(CrmLink.entity_type) == kind.value,
            col(CrmLink.occurred_at) >= start,
            col(CrmLink.occurred_at) < end,
            col(CrmLink.deleted_at).is_(None),
        ]

    def answers(self, kind: str, start: datetime, end: datetime) -> list[GroupedAnswer]:
        """Live answers of one survey kind given in [start, end).

        Only the fields reports need are read out of the stored record, in SQL: decoding and
        revalidating whole records cost more than the statistics over them.
        """
        payload = col(CrmLink.payload)
        query = (
            sa_select(
                col(CrmLink.crm_id),
                col(CrmLink.customer_id),
                payload["value"].as_float(),
                payload["scale"],
                payload["touchpoint"].as_string(),
                payload["channel"].as_string(),
                col(CrmLink.occurred_at),
                col(Customer.segment),
                col(Customer.owner_ref),
            )
            .join(Customer, col(Customer.id) == col(CrmLink.customer_id))
            .where(*self._window(EntityType.SURVEY, start, end))
            .where(payload["kind"].as_string() == kind)
        )
        answers = []
        with Session(self._engine) as session:
            for row in session.execute(query):
                crm_id, customer_id, value, scale, touchpoint, channel, at, segment, owner = row
                if customer_id is None or value is None or at is None:
                    continue
                bounds = (int(scale[0]), int(scale[1])) if scale else None
                answers.append(
                    GroupedAnswer(
                        crm_id,
                        customer_id,
                        float(value),
                        bounds,
                        touchpoint,
                        channel,
                        at,
                        segment,
                        owner,
                    )
                )
        return answers

    def messages(self, start: datetime, end: datetime) -> list[GroupedMessage]:
        """Live messages sent in [start, end) that have a sentiment."""
        payload = col(CrmLink.payload)
        score = payload[("sentiment", "score")].as_float()
        query = (
            sa_select(
                col(CrmLink.customer_id),
                score,
                payload[("sentiment", "label")].as_string(),
                payload["channel"].as_string(),
                col(CrmLink.occurred_at),
                col(Customer.segment),
                col(Customer.owner_ref),
            )
            .join(Customer, col(Customer.id) == col(CrmLink.customer_id))
            .where(*self._window(EntityType.INTERACTION, start, end))
            .where(score.is_not(None))
        )
        with Session(self._engine) as session:
            return [
                GroupedMessage(customer_id, float(value), label, channel, at, segment, owner)
                for customer_id, value, label, channel, at, segment, owner in session.execute(query)
                if customer_id is not None and at is not None and label and channel
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
