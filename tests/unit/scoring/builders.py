"""Small builders for domain records in scoring tests (fixed as_of, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from service.domain import (
    AspectSentiment,
    Case,
    CaseStatus,
    Channel,
    Direction,
    Interaction,
    Polarity,
    SentimentSignal,
    SurveyKind,
    SurveyResponse,
    Transaction,
)

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
