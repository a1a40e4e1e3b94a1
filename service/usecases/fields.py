"""The fields we own on a CRM record, computed from a customer's score and history.

These are the canonical names of the push mappings (`adapters/mapping/shipped/*/*.push.yaml`);
each CRM's writer maps them onto its own field names.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from service.domain import SurveyKind, negative_aspects
from service.ports import FieldValue
from service.scoring.customer import CustomerScore
from service.store.records import Customers

RECENT = timedelta(days=90)
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
        "churn_risk": round(churn.probability, 3) if churn else None,
        "churn_flag": bool(churn and churn.flagged),
        "segment": score.loyalty_stage.value,
        "next_best_action": tasks[0].subject[:255] if tasks else None,
        "scored_at": as_of,
    }
