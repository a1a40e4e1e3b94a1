"""Score history: one row per scoring of a customer, with each factor's contribution."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, insert
from sqlmodel import Session, col, func, select

from service.scoring.customer import CustomerScore
from service.store.database import session_scope
from service.store.profiles import write_latest
from service.store.tables import Customer as CustomerRow
from service.store.tables import ScoreHistory
from service.store.upserts import table_of


class ScoreHistoryRepository:
    """Append scorings; read the latest per customer."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, scores: Iterable[CustomerScore]) -> int:
        """Append the scorings and, in the same transaction, make them each customer's latest
        (the columns lists filter on and the full profile: service/store/profiles.py)."""
        scores = list(scores)
        rows = [
            {
                "customer_id": score.customer_id,
                "as_of": score.as_of,
                "experience_score": score.experience.score,
                "nps_class": score.nps_class.value if score.nps_class else None,
                "churn_risk": score.churn.probability if score.churn else None,
                "churn_flag": bool(score.churn and score.churn.flagged),
                "contributions": {
                    c.factor: round(c.points, 3) for c in score.experience.contributions
                },
                "scoring_version": score.scoring_version,
            }
            for score in scores
        ]
        with session_scope(self._engine) as session:
            write_latest(session, scores)
            if rows:
                # One executemany, not an ORM object per scoring (a sync writes thousands).
                session.connection().execute(insert(table_of(ScoreHistory)), rows)
        return len(rows)

    def segments(self) -> dict[str, int]:
        """How many scored customers are in each loyalty stage (the segment pushed to CRMs)."""
        with Session(self._engine) as session:
            rows = session.exec(
                select(CustomerRow.segment, func.count())
                .where(col(CustomerRow.segment).is_not(None))
                .group_by(col(CustomerRow.segment))
            ).all()
        return {str(segment): int(count) for segment, count in rows}

    def latest(self, customer_ids: Iterable[str] | None = None) -> dict[str, ScoreHistory]:
        """The most recent scoring of each customer (all customers when None)."""
        with Session(self._engine) as session:
            query = select(ScoreHistory).order_by(col(ScoreHistory.as_of), col(ScoreHistory.id))
            if customer_ids is not None:
                query = query.where(col(ScoreHistory.customer_id).in_(list(customer_ids)))
            return {row.customer_id: row for row in session.exec(query)}
