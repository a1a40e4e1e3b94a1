"""Small builders for domain records in scoring tests (fixed as_of, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import numpy as np

from service.domain import (
    AspectSentiment,
    Case,
    CaseStatus,
    Channel,
    Customer,
    Direction,
    Interaction,
    Polarity,
    SentimentSignal,
    SurveyKind,
    SurveyResponse,
    Transaction,
)
from service.scoring.churn.features import History

AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
_ids = count(1)


def ago(days: float) -> datetime:
    """A moment `days` before AS_OF."""
    return AS_OF - timedelta(days=days)


def survey(
    value: float,
    days: float = 0,
    kind: SurveyKind = SurveyKind.NPS,
    customer: str = "c1",
    **kw: object,
) -> SurveyResponse:
    return SurveyResponse(
        id=f"s{next(_ids)}",
        customer_id=customer,
        kind=kind,
        value=value,
        occurred_at=ago(days),
        **kw,
    )


def message(
    score: float,
    days: float = 0,
    *,
    customer: str = "c1",
    channel: Channel = Channel.CHAT,
    aspects: tuple[str, ...] = (),
    confidence: float = 1.0,
) -> Interaction:
    label = (
        Polarity.NEGATIVE
        if score < -0.05
        else Polarity.POSITIVE
        if score > 0.05
        else Polarity.NEUTRAL
    )
    return Interaction(
        id=f"i{next(_ids)}",
        customer_id=customer,
        channel=channel,
        direction=Direction.INBOUND,
        occurred_at=ago(days),
        sentiment=SentimentSignal(
            score=score,
            label=label,
            confidence=confidence,
            aspects=tuple(
                AspectSentiment(aspect=a, polarity=Polarity.NEGATIVE, score=-0.8) for a in aspects
            ),
        ),
    )


def open_case(days_open: float, *, customer: str = "c1", target_hours: float | None = None) -> Case:
    return Case(
        id=f"k{next(_ids)}",
        customer_id=customer,
        opened_at=ago(days_open),
        target_resolution_hours=target_hours,
    )


def closed_case(
    days_ago: float,
    hours_to_close: float,
    *,
    customer: str = "c1",
    target_hours: float | None = None,
) -> Case:
    opened = ago(days_ago)
    return Case(
        id=f"k{next(_ids)}",
        customer_id=customer,
        opened_at=opened,
        closed_at=opened + timedelta(hours=hours_to_close),
        status=CaseStatus.CLOSED,
        target_resolution_hours=target_hours,
    )


def purchase(days: float, amount: float = 50.0, *, customer: str = "c1") -> Transaction:
    return Transaction(
        id=f"t{next(_ids)}", customer_id=customer, amount=amount, occurred_at=ago(days)
    )


def unhappy_stop_buying(
    customers: int = 300, seed: int = 0
) -> tuple[list[Customer], History, list[datetime]]:
    """Simulated ground truth for classifier tests: unhappy customers (low NPS, negative chats)
    mostly stop buying in the 60 days after each of three snapshots (300, 200, 100 days ago).
    Customers, their history, and the snapshot times."""
    rng = np.random.default_rng(seed)
    people, surveys, msgs, buys = [], [], [], []
    for i in range(customers):
        cid = f"c{i}"
        people.append(Customer(id=cid))
        unhappy = rng.random() < 0.4
        for snap_days in (300, 200, 100):
            seen = snap_days + 5
            nps = int(rng.integers(0, 5) if unhappy else rng.integers(7, 11))
            surveys.append(survey(nps, days=seen, customer=cid))
            msgs.append(message(-0.7 if unhappy else 0.5, days=seen + 1, customer=cid))
            buys.append(purchase(seen + 20, customer=cid))
            # Happy customers buy in the following window; unhappy ones mostly do not.
            if not unhappy or rng.random() < 0.2:
                buys.append(purchase(snap_days - 30, customer=cid))
    snaps = [AS_OF - timedelta(days=d) for d in (300, 200, 100)]
    return people, History(surveys=surveys, interactions=msgs, transactions=buys), snaps
