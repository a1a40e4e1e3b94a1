"""What sentiment scoring returns: frozen result values shared by every backend and interface."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Label(StrEnum):
    """Three polar labels plus `unknown` for languages no backend supports."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    UNKNOWN = "unknown"


class Aspect(StrEnum):
    """The customer-experience topics a message can talk about."""

    DELIVERY = "delivery"
    PRICE = "price"
    PRODUCT_QUALITY = "product_quality"
    STAFF_SERVICE = "staff_service"
    WAIT_TIME = "wait_time"
    BILLING_PAYMENT = "billing_payment"
    RETURNS_REFUNDS = "returns_refunds"
    APP_WEBSITE = "app_website"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AspectSentiment(_Frozen):
    """One aspect a message mentions, with the polarity of the clause that mentions it."""

    aspect: Aspect
    label: Label
    score: float = Field(ge=-1.0, le=1.0)
    evidence: str = Field(description="The clause that mentions the aspect.")
    terms: tuple[str, ...] = Field(description="The aspect terms found in that clause.")


class SentenceScore(_Frozen):
    """The score of one sentence of a long text."""

    index: int = Field(ge=0)
    text: str
    label: Label
    score: float = Field(ge=-1.0, le=1.0)


class SentimentResult(_Frozen):
    """The sentiment of one text.

    `score` is in [-1, 1] (negative … positive); `confidence` in [0, 1] says how sure the backend
    is of `label`. `backend` names what produced the label (`e5-head`, `lexicon`, `vader`, or
    `none` for `unknown`); `evidence` lists the words or sentences that drove it.
    """

    label: Label
    score: float = Field(ge=-1.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    language: str = Field(description="ISO 639-1 code used for scoring, or `und`.")
    languages: tuple[str, ...] = Field(
        default=(), description="Every language detected, main one first (code-switching)."
    )
    language_confidence: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="How sure the language is: 1 for a hint, low when a short text could not "
        "be told apart and the customer's language (or the nearest configured one) was taken.",
    )
    backend: str
    evidence: tuple[str, ...] = ()
    aspects: tuple[AspectSentiment, ...] = ()
    sentences: tuple[SentenceScore, ...] = ()
    most_negative_sentence: str | None = None
    reason: str | None = Field(default=None, description="Why the label is `unknown`.")
    cached: bool = False
