"""The record types the sandbox data generator streams and both CRM emulators load.

Every record is a frozen, slotted dataclass, so a stream of millions of them stays cheap and
nobody can mutate a record another consumer also holds.

Conventions shared by all records:

* ids are generator-neutral strings with a one-letter-or-two prefix per type and a zero-padded
  number (``"o0003"``, ``"c000123"``, ``"p000123-01"``); each emulator maps them onto its own id
  scheme (Salesforce 18-character ids, HubSpot numeric ids) when it loads the stream;
* datetimes are timezone-aware and in UTC; a person's local time zone is the IANA name in
  ``Person.timezone``;
* money is :class:`decimal.Decimal`, never float, so totals are exact and serialise without
  rounding noise; amounts carry the minor units of their currency (0 for VND, 2 otherwise);
* languages are BCP-47 primary tags: ``"vi"``, ``"zh"``, ``"et"``, ``"en"``;
* countries are ISO 3166-1 alpha-2 codes; currencies ISO 4217 codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeAlias

TransactionKind: TypeAlias = Literal["order", "opportunity"]
TransactionStatus: TypeAlias = Literal["won", "lost", "open"]
Channel: TypeAlias = Literal["email", "chat", "call", "meeting", "note", "review"]
Direction: TypeAlias = Literal["inbound", "outbound"]
SurveyKind: TypeAlias = Literal["nps", "csat", "ces"]
CaseStatus: TypeAlias = Literal["new", "working", "escalated", "closed"]
CasePriority: TypeAlias = Literal["low", "medium", "high"]


@dataclass(frozen=True, slots=True)
class Owner:
    """A member of staff (account manager, support agent) who owns companies and persons."""

    id: str
    first_name: str
    last_name: str
    email: str
    language: str


@dataclass(frozen=True, slots=True)
class Company:
    """A customer account. ``annual_revenue`` is in USD (``None`` when the CRM would not know)."""

    id: str
    name: str
    domain: str
    country: str
    industry: str
    owner_id: str
    created_at: datetime
    annual_revenue: Decimal | None


@dataclass(frozen=True, slots=True)
class Person:
    """A customer contact; ``is_lead`` marks one not yet converted (a Salesforce Lead).

    ``phone`` is international format with spaces, or ``""`` when the contact never gave one.
    """

    id: str
    company_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    language: str
    country: str
    timezone: str
    owner_id: str
    created_at: datetime
    is_lead: bool
    # Their user id at the shop's Zalo Official Account (a follower), or None
    # (sandbox/data/crossref.py): the Zalo emulator's follower id, kept by the CRMs too.
    zalo_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class LineItem:
    """One product line of a transaction; ``unit_price`` is in the transaction's currency."""

    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Transaction:
    """An order (e-commerce, always won) or an opportunity (B2B, won, lost or still open).

    ``amount`` equals the sum of ``quantity * unit_price`` over ``lines``.
    """

    id: str
    person_id: str
    company_id: str
    kind: TransactionKind
    amount: Decimal
    currency: str
    status: TransactionStatus
    occurred_at: datetime
    lines: tuple[LineItem, ...]


@dataclass(frozen=True, slots=True)
class Interaction:
    """One touch on the timeline: an email, chat, call note, meeting, internal note or review.

    ``text`` is in ``language`` (the customer's, except for occasional code-switching);
    ``owner_id`` is the staff member on our side of the touch.
    """

    id: str
    person_id: str
    company_id: str
    channel: Channel
    direction: Direction
    subject: str
    text: str
    language: str
    occurred_at: datetime
    owner_id: str


@dataclass(frozen=True, slots=True)
class CaseComment:
    """A comment on a support case, written by the customer or by staff."""

    text: str
    at: datetime
    by_customer: bool


@dataclass(frozen=True, slots=True)
class Case:
    """A support case (Salesforce Case, HubSpot ticket); ``closed_at`` is ``None`` while open."""

    id: str
    person_id: str
    company_id: str
    subject: str
    description: str
    status: CaseStatus
    priority: CasePriority
    opened_at: datetime
    closed_at: datetime | None
    comments: tuple[CaseComment, ...]


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """A survey answer: NPS 0-10, CSAT 1-5 or CES 1-7, with an optional free-text comment."""

    id: str
    person_id: str
    kind: SurveyKind
    score: int
    comment: str
    language: str
    touchpoint: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Truth:
    """The hidden ground truth about one person, written apart from the record stream.

    ``experience`` is in [0, 1] (0 = awful, 1 = delighted) and drives the polarity of the
    person's texts, their survey scores and whether they churn; ``churned_at`` is the moment
    they stopped buying (``None`` when ``churned`` is false); ``main_aspects`` are the aspects
    the person's texts talk about most, most prominent first.
    """

    person_id: str
    experience: float
    churned: bool
    churned_at: datetime | None
    main_aspects: tuple[str, ...]


Record: TypeAlias = Owner | Company | Person | Transaction | Interaction | Case | SurveyAnswer
"""Any record of the generated stream (everything but :class:`Truth`)."""

RECORD_TYPES: tuple[type[Record], ...] = (
    Owner,
    Company,
    Person,
    Transaction,
    Interaction,
    Case,
    SurveyAnswer,
)
