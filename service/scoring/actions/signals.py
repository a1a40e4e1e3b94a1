"""The signals playbooks read: one flat mapping per customer, built from scores and events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from service.domain import (
    Case,
    ChurnFlag,
    Customer,
    ExperienceProfile,
    Interaction,
    SurveyKind,
    SurveyResponse,
    Transaction,
    TransactionStatus,
    negative_aspects,
)
from service.scoring.actions.conditions import Signal
from service.scoring.churn.signals import latest_complaint
from service.scoring.columns import days_before
from service.scoring.segments import nps_class

ASPECT_PREFIX = "negative_aspect_30d."

KNOWN_SIGNALS = frozenset(
    {
        "customer_id",
        "customer_name",
        "as_of_week",
        "as_of_month",
        "experience_score",
        "experience_confidence",
        "last_nps",
        "last_nps_id",
        "last_nps_days_ago",
        "nps_class",
        "open_cases",
        "case_id",
        "case_subject",
        "case_days_open",
        "case_overdue_hours",
        "churn_probability",
        "churn_pct",
        "churn_flagged",
        "churn_segment",
        "horizon_days",
        "p_alive",
        "p_alive_drop",
        "purchase_gap_ratio",
        "usual_gap_weeks",
        "weeks_since_purchase",
        "customer_value",
        "loyalty_stage",
        "complaint_topic",
        "complaint_id",
        "complaint_channel",
    }
)
"""Every signal name a playbook may use (plus `negative_aspect_30d.<aspect>`)."""


def customer_signals(
    customer: Customer,
    as_of: datetime,
    *,
    profile: ExperienceProfile | None = None,
    flag: ChurnFlag | None = None,
    previous_flag: ChurnFlag | None = None,
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    cases: Sequence[Case] = (),
    transactions: Sequence[Transaction] = (),
    customer_value: float | None = None,
    loyalty_stage: str | None = None,
    default_case_target_hours: float = 72.0,
) -> dict[str, Signal]:
    """Signals of one customer at `as_of` (events after `as_of` are ignored)."""
    utc = as_of.astimezone(UTC)
    iso = utc.isocalendar()
    s: dict[str, Signal] = {
        "customer_id": customer.id,
        "customer_name": customer.display_name or customer.id,
        "as_of_week": f"{iso.year}-W{iso.week:02d}",
        "as_of_month": utc.strftime("%Y-%m"),
        "customer_value": customer_value if customer_value is not None else customer.lifetime_value,
        "loyalty_stage": loyalty_stage,
    }
    if profile is not None:
        s["experience_score"] = profile.score
        s["experience_confidence"] = profile.confidence
    nps_answers = [r for r in surveys if r.kind is SurveyKind.NPS and r.occurred_at <= as_of]
    if nps_answers:
        last = max(nps_answers, key=lambda r: r.occurred_at)
        s["last_nps"] = last.value
        s["last_nps_id"] = last.id
        s["last_nps_days_ago"] = int(days_before(last.occurred_at, as_of))
        s["nps_class"] = nps_class(last.value).value
    # What the customer's latest word complains about, if it is a complaint: the topic
    # playbooks answer it ("delivery", ..., or "general" for no known aspect).
    complaint = latest_complaint(as_of, surveys=surveys, interactions=interactions)
    if complaint is not None and complaint.topic is not None:
        s["complaint_topic"] = complaint.topic
        s["complaint_id"] = complaint.id
        s["complaint_channel"] = complaint.channel.replace("_", " ")
    window = as_of - timedelta(days=30)
    tally = negative_aspects(i for i in interactions if window <= i.occurred_at <= as_of)
    s.update({ASPECT_PREFIX + aspect: k for aspect, k in tally.items()})
    still_open = [
        c for c in cases if c.opened_at <= as_of and (c.closed_at is None or c.closed_at > as_of)
    ]
    s["open_cases"] = len(still_open)
    if still_open:

        def overdue(c: Case) -> float:
            target = c.target_resolution_hours or default_case_target_hours
            return days_before(c.opened_at, as_of) * 24.0 - target

        worst = max(still_open, key=overdue)
        s["case_id"] = worst.id
        s["case_subject"] = worst.subject or worst.id
        s["case_days_open"] = int(days_before(worst.opened_at, as_of))
        s["case_overdue_hours"] = max(0, round(overdue(worst)))
    if flag is not None:
        s["churn_probability"] = flag.probability
        s["churn_pct"] = round(100 * flag.probability) if flag.probability is not None else None
        s["churn_flagged"] = flag.flagged
        s["churn_segment"] = flag.segment.value
        s["horizon_days"] = flag.horizon_days
        s["p_alive"] = flag.p_alive
        if (
            previous_flag is not None
            and previous_flag.p_alive is not None
            and flag.p_alive is not None
        ):
            s["p_alive_drop"] = previous_flag.p_alive - flag.p_alive
    days = sorted(
        {
            t.occurred_at.astimezone(UTC).date()
            for t in transactions
            if t.status is TransactionStatus.WON and t.occurred_at <= as_of
        }
    )
    if len(days) >= 2:
        gap_weeks = (days[-1] - days[0]).days / (len(days) - 1) / 7.0
        since_weeks = (utc.date() - days[-1]).days / 7.0
        s["usual_gap_weeks"] = round(gap_weeks)
        s["weeks_since_purchase"] = round(since_weeks)
        s["purchase_gap_ratio"] = since_weeks / gap_weeks if gap_weeks > 0 else None
    return s
