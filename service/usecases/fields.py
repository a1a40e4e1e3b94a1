"""The fields we own on a CRM record, computed from a customer's score and history.

These are the canonical names of the push mappings (`adapters/mapping/shipped/*/*.push.yaml`);
each CRM's writer maps them onto its own field names.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from service.domain import ChurnFlag, SurveyKind, negative_aspects
from service.ports import FieldValue
from service.scoring.churn.no_estimate import NO_ESTIMATE
from service.scoring.churn.signals import latest_complaint
from service.scoring.customer import CustomerScore
from service.store.records import Customers

RECENT = timedelta(days=90)
REASON_LENGTH = 255  # the CRM field's length (mappings/*/*.push.yaml)
TREND_SPLIT = timedelta(days=30)


def _latest(history: Customers, kind: SurveyKind) -> float | None:
    answers = sorted((s for s in history.surveys if s.kind is kind), key=lambda s: s.occurred_at)
    return answers[-1].value if answers else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _sentiment(history: Customers, as_of: datetime) -> tuple[float | None, str, str]:
    """(mean recent sentiment, trend word, most frequent negative aspect)."""
    recent = [i for i in history.interactions if i.sentiment and as_of - i.occurred_at <= RECENT]
    scores = [i.sentiment.score for i in recent if i.sentiment]
    newer = [
        i.sentiment.score for i in recent if i.sentiment and as_of - i.occurred_at <= TREND_SPLIT
    ]
    older = [
        i.sentiment.score for i in recent if i.sentiment and as_of - i.occurred_at > TREND_SPLIT
    ]
    trend = "stable"
    new_mean, old_mean = _mean(newer), _mean(older)
    if new_mean is not None and old_mean is not None:
        if new_mean - old_mean >= 0.2:
            trend = "improving"
        elif old_mean - new_mean >= 0.2:
            trend = "worsening"
    negatives = negative_aspects(recent)
    top = negatives.most_common(1)[0][0] if negatives else ""
    mean = _mean(scores)
    return (round(mean, 3) if mean is not None else None), trend, top


def churn_reason(churn: ChurnFlag | None, history: Customers, as_of: datetime) -> str | None:
    """Why the flag is up, in a short line CRM list views and automation can use: "complaint
    about delivery, no churn estimate: no purchases yet", "complaint about billing_payment,
    churn risk 64%", "churn risk 71%". None while the flag is down.

    Built from stable facts only (no "3 hours ago"), so a rescore with nothing new pushes
    nothing: the push ledger sees the same value."""
    if churn is None or not churn.flagged:
        return None
    parts: list[str] = []
    if any(d.name == "recent_complaint" for d in churn.drivers):
        complaint = latest_complaint(
            as_of, surveys=history.surveys, interactions=history.interactions
        )
        if complaint is not None and complaint.kind == "nps":
            parts.append(f"complaint: NPS {complaint.nps:g}")
        elif complaint is not None and complaint.topics:
            parts.append(f"complaint about {', '.join(complaint.topics)}")
        else:
            parts.append("complaint")
    if churn.probability is None:
        parts += [d.text[:1].lower() + d.text[1:] for d in churn.drivers if d.name == NO_ESTIMATE]
    elif churn.probability >= churn.threshold or not parts:
        parts.append(f"churn risk {churn.probability:.0%}")
    return ", ".join(parts)[:REASON_LENGTH]


def owned_fields(
    score: CustomerScore, history: Customers, as_of: datetime
) -> dict[str, FieldValue]:
    """Canonical field name -> value to push for one customer."""
    sentiment, trend, aspect = _sentiment(history, as_of)
    churn = score.churn
    tasks = score.actions.tasks
    experience = score.experience.score
    return {
        "experience_score": round(experience, 1) if experience is not None else None,
        "nps_class": score.nps_class.value if score.nps_class else None,
        "last_csat": _latest(history, SurveyKind.CSAT),
        "last_ces": _latest(history, SurveyKind.CES),
        "sentiment": sentiment,
        "sentiment_trend": trend,
        "top_negative_aspect": aspect or None,
        "churn_risk": round(churn.probability, 3)
        if churn and churn.probability is not None
        else None,
        "churn_flag": bool(churn and churn.flagged),
        "churn_reason": churn_reason(churn, history, as_of),
        "segment": score.loyalty_stage.value,
        "next_best_action": tasks[0].subject[:255] if tasks else None,
        "scored_at": as_of,
    }
