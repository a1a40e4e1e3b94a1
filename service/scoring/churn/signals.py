"""Experience warnings shown beside a churn probability (never blended into it), and the one
experience signal that raises the flag by itself: a fresh complaint.

Without labels nobody knows how much a bad CSAT adds to churn odds, so these signals are shown
as plain, explainable facts next to the number (docs/churn.md, "Signals beside the number").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.domain import (
    Case,
    Direction,
    Interaction,
    Polarity,
    RiskDriver,
    SurveyKind,
    SurveyResponse,
)


def experience_warnings(
    as_of: datetime,
    *,
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    cases: Sequence[Case] = (),
    stale_case_days: float = 7.0,
    survey_drop: float = 0.3,
) -> tuple[str, ...]:
    """Short English warnings: survey drops, stale open cases, a run of negative messages."""
    out: list[str] = []
    for kind in SurveyKind:
        answers = sorted(
            (r for r in surveys if r.kind is kind and r.occurred_at <= as_of),
            key=lambda r: r.occurred_at,
        )
        if len(answers) >= 2:
            prev, last = answers[-2], answers[-1]
            low, high = last.bounds
            if (prev.value - last.value) / (high - low) >= survey_drop:
                out.append(f"{kind.value.upper()} fell from {prev.value:g} to {last.value:g}")
    stale = [
        c
        for c in cases
        if c.opened_at <= as_of - timedelta(days=stale_case_days)
        and (c.closed_at is None or c.closed_at > as_of)
    ]
    if stale:
        out.append(
            f"{len(stale)} open case{'s' if len(stale) > 1 else ''} older than "
            f"{stale_case_days:g} days"
        )
    recent = sorted(
        (i for i in interactions if i.sentiment is not None and i.occurred_at <= as_of),
        key=lambda i: i.occurred_at,
        reverse=True,
    )
    run = 0
    for i in recent:
        if i.sentiment is None or i.sentiment.label is not Polarity.NEGATIVE:
            break
        run += 1
    if run >= 2:
        out.append(f"negative sentiment in the last {run} messages")
    elif run == 1:
        out.append("the last message was negative")
    return tuple(out)


COMPLAINT_DAYS = 14.0
GENERAL_TOPIC = "general"  # a complaint naming none of the aspects we know


@dataclass(frozen=True, slots=True)
class Complaint:
    """The customer's latest word when it is a complaint: what it was, and what about.

    `topics` are the aspects the message spoke of negatively, the most negative clause first
    (an NPS answer has none); `topic` is the one a task answers: the first of them, or
    "general" for a negative message that names no aspect we know, or None for an NPS answer
    (the detractor playbook answers those).
    """

    id: str
    occurred_at: datetime
    kind: str  # "message" or "nps"
    channel: str  # the message's channel, or "nps"
    topics: tuple[str, ...] = ()
    nps: float | None = None

    @property
    def topic(self) -> str | None:
        """The aspect a task for this complaint answers (see the class docstring)."""
        if self.kind != "message":
            return None
        return self.topics[0] if self.topics else GENERAL_TOPIC


def latest_complaint(
    as_of: datetime,
    *,
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    within_days: float = COMPLAINT_DAYS,
) -> Complaint | None:
    """The customer's latest word, when it is a complaint made within `within_days`.

    A complaint is an inbound message whose sentiment is negative, or an NPS answer of 0-6. Only
    the latest inbound message or answer counts: a complaint followed by a happy message has
    been dealt with.
    """
    since = as_of - timedelta(days=within_days)
    messages = [
        i
        for i in interactions
        if i.direction is Direction.INBOUND
        and i.sentiment is not None
        and since <= i.occurred_at <= as_of
    ]
    answers = [r for r in surveys if r.kind is SurveyKind.NPS and since <= r.occurred_at <= as_of]
    latest_message = max(messages, key=lambda i: i.occurred_at, default=None)
    latest_answer = max(answers, key=lambda r: r.occurred_at, default=None)
    if latest_answer is not None and (
        latest_message is None or latest_answer.occurred_at >= latest_message.occurred_at
    ):
        if latest_answer.value > 6:
            return None
        return Complaint(
            latest_answer.id, latest_answer.occurred_at, "nps", "nps", nps=latest_answer.value
        )
    if latest_message is None or latest_message.sentiment is None:
        return None
    if latest_message.sentiment.label is not Polarity.NEGATIVE:
        return None
    negative = [
        (a.score, k, a.aspect)
        for k, a in enumerate(latest_message.sentiment.aspects)
        if a.polarity is Polarity.NEGATIVE
    ]
    # Most negative clause first; ties keep the message's order.
    topics = tuple(dict.fromkeys(aspect for _, _, aspect in sorted(negative)))
    return Complaint(
        latest_message.id,
        latest_message.occurred_at,
        "message",
        latest_message.channel.value,
        topics,
    )


def complaint_driver(as_of: datetime, complaint: Complaint) -> RiskDriver:
    """The complaint as the churn flag's leading driver, in words."""
    when = _ago(as_of, complaint.occurred_at)
    if complaint.kind == "nps":
        text = f"Answered NPS {complaint.nps:g} (a detractor) {when}"
    else:
        topic = f" about {', '.join(complaint.topics)}" if complaint.topics else ""
        channel = complaint.channel.replace("_", " ")
        text = f"Complained {when}: a negative {channel}{topic}"
    return RiskDriver(name="recent_complaint", text=text, impact=1.0)


def recent_complaint(
    as_of: datetime,
    *,
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    within_days: float = COMPLAINT_DAYS,
) -> RiskDriver | None:
    """The latest complaint (see `latest_complaint`) as a churn driver, or None.

    This is what raises the churn flag at once, whatever the purchase model says — and also
    when no model can judge the customer at all (see `risk.complaint_only_flag`): the moment a
    customer complains is the moment a save is still cheap.
    """
    complaint = latest_complaint(
        as_of, surveys=surveys, interactions=interactions, within_days=within_days
    )
    return complaint_driver(as_of, complaint) if complaint is not None else None


def _ago(as_of: datetime, moment: datetime) -> str:
    hours = max(0.0, (as_of - moment).total_seconds() / 3600)
    if hours < 1:
        return "within the hour"
    if hours < 48:
        return f"{hours:.0f} hours ago"
    return f"{hours / 24:.0f} days ago"
