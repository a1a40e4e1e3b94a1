"""What happened with a customer: interactions, survey answers, transactions and cases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from service.domain.base import AwareDatetime, DomainModel, NonEmptyStr, Sourced
from service.domain.limits import Amount, EventTime


class Channel(StrEnum):
    """Where an interaction took place."""

    EMAIL = "email"
    CHAT = "chat"
    CALL = "call"
    MEETING = "meeting"
    NOTE = "note"
    CASE = "case"
    REVIEW = "review"
    SOCIAL = "social"
    SURVEY = "survey"
    SMS = "sms"
    # Vietnam's most used messenger: the chats a Vietnamese business answers customers on.
    ZALO = "zalo"
    OTHER = "other"


class Direction(StrEnum):
    """Who started the interaction: the customer (inbound) or staff (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Polarity(StrEnum):
    """The sentiment label of a message or of one aspect in it."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class AspectSentiment(DomainModel):
    """The polarity of one aspect (delivery, price, staff, ...) mentioned in a message."""

    aspect: NonEmptyStr
    polarity: Polarity
    score: float = Field(default=0.0, ge=-1.0, le=1.0)


class SentimentSignal(DomainModel):
    """Sentiment of a message as produced by the sentiment layer (an input to scoring)."""

    score: float = Field(ge=-1.0, le=1.0)
    label: Polarity
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    aspects: tuple[AspectSentiment, ...] = ()
    language: str | None = None
    backend: str | None = None


class Interaction(Sourced):
    """One contact with a customer on any channel."""

    customer_id: NonEmptyStr
    channel: Channel
    direction: Direction = Direction.INBOUND
    occurred_at: EventTime
    subject: str | None = None
    text: str | None = None
    language: str | None = None
    sentiment: SentimentSignal | None = None


def negative_aspects(interactions: Iterable[Interaction]) -> Counter[str]:
    """How often each aspect was spoken of negatively in these interactions' sentiment."""
    return Counter(
        a.aspect
        for i in interactions
        if i.sentiment is not None
        for a in i.sentiment.aspects
        if a.polarity is Polarity.NEGATIVE
    )


class SurveyKind(StrEnum):
    """The survey metric an answer belongs to."""

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


# The conventional scales: NPS 0-10, CSAT 1-5, CES 1-7 (Gartner CES 2.0: 7 = "very easy").
DEFAULT_SCALES: dict[SurveyKind, tuple[int, int]] = {
    SurveyKind.NPS: (0, 10),
    SurveyKind.CSAT: (1, 5),
    SurveyKind.CES: (1, 7),
}


class SurveyResponse(Sourced):
    """One answer to an NPS, CSAT or CES question."""

    customer_id: NonEmptyStr
    kind: SurveyKind
    value: float
    # (low, high) of the answer scale; None means the conventional scale of `kind`.
    scale: tuple[int, int] | None = None
    touchpoint: str | None = None
    channel: Channel | None = None
    occurred_at: EventTime
    comment: str | None = None

    @property
    def bounds(self) -> tuple[int, int]:
        """The scale actually used: the given one or the conventional one for the kind."""
        return self.scale if self.scale is not None else DEFAULT_SCALES[self.kind]

    @model_validator(mode="after")
    def _value_on_scale(self) -> Self:
        low, high = self.bounds
        if high <= low:
            raise ValueError(f"scale {self.scale} is empty: high must exceed low")
        if self.kind is SurveyKind.NPS and (low, high) != (0, 10):
            raise ValueError("NPS is defined on 0-10 only")
        if not low <= self.value <= high:
            raise ValueError(f"{self.kind.value} value {self.value} is outside {low}-{high}")
        return self


class TransactionKind(StrEnum):
    """What a transaction record is in the CRM."""

    ORDER = "order"
    OPPORTUNITY = "opportunity"
    DEAL = "deal"
    RENEWAL = "renewal"


class TransactionStatus(StrEnum):
    """The outcome of a transaction; only won transactions count as purchases."""

    WON = "won"
    LOST = "lost"
    OPEN = "open"


class Transaction(Sourced):
    """An order, opportunity or deal."""

    customer_id: NonEmptyStr
    amount: Amount
    currency: str = Field(default="USD", min_length=3, max_length=3)
    occurred_at: EventTime
    kind: TransactionKind = TransactionKind.ORDER
    status: TransactionStatus = TransactionStatus.WON


class CasePriority(StrEnum):
    """Support case priority."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseStatus(StrEnum):
    """Support case state; closed and resolved both end the case."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Whether the case still waits for a resolution."""
        return self not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)


class Case(Sourced):
    """A support case (ticket)."""

    customer_id: NonEmptyStr
    opened_at: EventTime
    first_response_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    priority: CasePriority = CasePriority.NORMAL
    status: CaseStatus = CaseStatus.OPEN
    subject: str | None = None
    # How long resolution may take under the service level; None = the scoring default.
    target_resolution_hours: float | None = Field(default=None, gt=0)
    # Effort the customer went through that the times do not show, where the helpdesk counts
    # it (Zendesk ticket metrics): reopened after being solved, and hours waiting on the agents.
    # Kept and shown; not yet weighted in the effort score (no labelled data to weigh it on).
    reopens: int | None = Field(default=None, ge=0)
    requester_wait_hours: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _times_in_order(self) -> Self:
        for name in ("first_response_at", "closed_at"):
            moment = getattr(self, name)
            if moment is not None and moment < self.opened_at:
                raise ValueError(f"{name} is before opened_at")
        if not self.status.is_open and self.closed_at is None:
            raise ValueError(f"a {self.status.value} case needs closed_at")
        return self
