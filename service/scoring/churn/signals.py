"""Experience warnings shown beside a churn probability (never blended into it).

Without labels nobody knows how much a bad CSAT adds to churn odds, so these signals are shown
as plain, explainable facts next to the number, as docs/churn-resources.md section 5A.5 says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from service.domain import Case, Interaction, Polarity, SurveyKind, SurveyResponse


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
