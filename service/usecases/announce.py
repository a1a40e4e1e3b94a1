"""Outbound events for webhook subscribers: flags raised or cleared, scores that moved, tasks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from service.domain import ActionTask
from service.scoring.customer import CustomerScore
from service.store.tables import ScoreHistory
from service.webhooks.events import EventSink, EventType

SCORE_STEP = 5.0  # experience points a score must move to be announced (noise stays quiet)


def announce_scores(
    events: EventSink | None,
    connection: str,
    previous: Mapping[str, ScoreHistory],
    scores: Iterable[CustomerScore],
) -> int:
    """Emit flag.raised / flag.cleared / score.changed against each customer's last scoring."""
    if events is None:
        return 0
    sent = 0
    for score in scores:
        before = previous.get(score.customer_id)
        flagged = bool(score.churn and score.churn.flagged)
        was_flagged = bool(before and before.churn_flag)
        if flagged != was_flagged and (before is not None or flagged):
            churn = score.churn
            events.emit(
                EventType.FLAG_RAISED if flagged else EventType.FLAG_CLEARED,
                {
                    "connection": connection,
                    "customer_id": score.customer_id,
                    "probability": churn.probability if churn else None,
                    "horizon_days": churn.horizon_days if churn else None,
                    "drivers": [d.text for d in churn.drivers] if churn else [],
                    "as_of": score.as_of.isoformat(),
                },
            )
            sent += 1
        new, old = score.experience.score, before.experience_score if before else None
        if new is not None and old is not None and abs(new - old) >= SCORE_STEP:
            top = sorted(score.experience.contributions, key=lambda c: abs(c.points), reverse=True)
            events.emit(
                EventType.SCORE_CHANGED,
                {
                    "connection": connection,
                    "customer_id": score.customer_id,
                    "previous": round(old, 1),
                    "score": round(new, 1),
                    "top_contributions": {c.factor: round(c.points, 1) for c in top[:3]},
                    "as_of": score.as_of.isoformat(),
                },
            )
            sent += 1
    return sent


def announce_tasks(
    events: EventSink | None,
    connection: str,
    tasks: Iterable[ActionTask],
    crm_ids: Mapping[str, str],
    customers: Mapping[str, str],
) -> None:
    """Emit task.created for tasks the CRM confirmed."""
    if events is None:
        return
    for task in tasks:
        key = task.idempotency_key
        events.emit(
            EventType.TASK_CREATED,
            {
                "connection": connection,
                "customer_id": customers.get(key),
                "playbook": task.playbook,
                "reason": task.reason,
                "crm_task_id": crm_ids.get(key),
                "due_at": task.due_at.isoformat(),
                "idempotency_key": key,
            },
        )
