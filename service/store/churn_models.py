"""The churn models each connection's `churn-train` job produced: card, use, bytes, curves.

The classifier is stored as bytes it serialised itself (`ChurnClassifier.to_bytes`) and only
ever loaded from this table: the database is inside the trust boundary. Nothing a caller sends
is ever unpickled. Bytes from another model format or scikit-learn version are not loaded: the
run then counts as having no model until the scheduled job retrains.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.scoring.churn.classifier import ChurnClassifier
from service.store.database import session_scope
from service.store.tables import ChurnModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredChurnModel:
    """One training run as the service reads it back."""

    connection: str
    trained_at: datetime
    in_use: bool
    reason: str
    card: dict[str, Any]
    survival: dict[str, Any]
    classifier: ChurnClassifier | None


class ChurnModelRepository:
    """Keep every training run; read the latest per connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(
        self,
        connection: str,
        trained_at: datetime,
        *,
        in_use: bool,
        reason: str,
        card: dict[str, Any],
        survival: dict[str, Any],
        classifier: ChurnClassifier | None,
    ) -> None:
        """Store one run (the newest run is the one scoring reads)."""
        blob = None if classifier is None else classifier.to_bytes()
        with session_scope(self._engine) as session:
            session.add(
                ChurnModel(
                    connection=connection,
                    trained_at=trained_at,
                    in_use=in_use,
                    reason=reason,
                    card=card,
                    survival=survival,
                    model=blob,
                )
            )

    def connections(self) -> list[str]:
        """Every connection that ever trained, by name."""
        with Session(self._engine) as session:
            rows = session.exec(select(ChurnModel.connection).distinct()).all()
        return sorted(str(r) for r in rows)

    def latest(self, connection: str, *, with_model: bool = True) -> StoredChurnModel | None:
        """The connection's newest run, or None when it never trained."""
        with Session(self._engine) as session:
            row = session.exec(
                select(ChurnModel)
                .where(ChurnModel.connection == connection)
                .order_by(col(ChurnModel.trained_at).desc(), col(ChurnModel.id).desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        classifier = None
        if with_model and row.model is not None:
            try:
                classifier = ChurnClassifier.from_bytes(row.model)
            except ValueError as error:
                log.warning("%s: stored churn model not loaded: %s", connection, error)
        return StoredChurnModel(
            connection=row.connection,
            trained_at=row.trained_at,
            in_use=row.in_use,
            reason=row.reason,
            card=dict(row.card or {}),
            survival=dict(row.survival or {}),
            classifier=classifier,
        )
