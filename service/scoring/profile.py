"""One customer's explained experience profile, and why a score changed between two profiles."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from service.domain import (
    Case,
    ExperienceProfile,
    FactorContribution,
    Interaction,
    Polarity,
    SurveyResponse,
    Transaction,
    TransactionStatus,
    negative_aspects,
)
from service.domain.base import DomainModel
from service.scoring.columns import columns_from_kept, days_before
from service.scoring.experience import BASELINE, ExperienceMatrix, experience_matrix
from service.scoring.version import SCORING_VERSION
from service.scoring.weights import FACTORS, ExperienceWeights, default_weights

LABELS = {
    "surveys": "survey answers",
    "sentiment": "message sentiment",
    "negative_aspects": "negative topics",
    "open_cases": "open cases",
    "service_times": "response/resolution times",
    "contact_frequency": "contact frequency",
    "purchase_recency": "purchase recency",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _evidence(
    factor: str,
    as_of: datetime,
    w: ExperienceWeights,
    surveys: Sequence[SurveyResponse],
    interactions: Sequence[Interaction],
    cases: Sequence[Case],
    purchases: Sequence[Transaction],
    count: int,
) -> str:
    """A short English phrase naming the facts behind one factor (for staff and audit);
    `count` is the factor's evidence count from the experience matrix."""
    if factor == "surveys" and surveys:
        last = max(surveys, key=lambda r: r.occurred_at)
        age = days_before(last.occurred_at, as_of)
        return (
            f"{_plural(len(surveys), 'answer')}, latest {last.kind.value.upper()} "
            f"{last.value:g} ({age:.0f} days ago)"
        )
    if factor in ("sentiment", "negative_aspects"):
        scored = [i for i in interactions if i.sentiment is not None]
        if factor == "sentiment" and scored:
            neg = [i for i in scored if i.sentiment and i.sentiment.label is Polarity.NEGATIVE]
            if neg:
                channel, k = Counter(i.channel.value for i in neg).most_common(1)[0]
                return f"{_plural(k, 'negative ' + channel)} of {_plural(len(scored), 'message')}"
            return f"no negative messages among {len(scored)}"
        if factor == "negative_aspects" and scored:
            tally = negative_aspects(scored)
            if not tally:
                return "no negative topics"
            return "negative about " + ", ".join(f"{a} x{k}" for a, k in tally.most_common(3))
        return ""
    if factor == "open_cases":
        still_open = [c for c in cases if c.closed_at is None or c.closed_at > as_of]
        if not still_open:
            return "no open cases"
        # days_before is monotone, so the age of the first opened is the largest age.
        oldest = days_before(min(c.opened_at for c in still_open), as_of)
        return f"{_plural(len(still_open), 'open case')}, oldest open {oldest:.0f} days"
    if factor == "service_times":
        closed = [c for c in cases if c.closed_at is not None and c.closed_at <= as_of]
        if closed:
            hours = statistics.median(
                (c.closed_at - c.opened_at).total_seconds() / 3600 for c in closed if c.closed_at
            )
            return f"median resolution {hours:.0f} h over {_plural(len(closed), 'case')}"
        return "response times only"
    if factor == "contact_frequency":
        # The matrix counted the contacts in the window already (from the same ages).
        return f"{_plural(count, 'contact')} in {w.factors.contact_frequency.window_days:.0f} days"
    if factor == "purchase_recency" and purchases:
        age = days_before(max(t.occurred_at for t in purchases), as_of)
        return f"last purchase {age:.0f} days ago"
    return ""


def experience_profile(
    customer_id: str,
    as_of: datetime,
    *,
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    cases: Sequence[Case] = (),
    transactions: Sequence[Transaction] = (),
    weights: ExperienceWeights | None = None,
) -> ExperienceProfile:
    """Score one customer and explain the score factor by factor.

    Records of other customers and records after `as_of` are ignored, so the same call
    reproduces a past score exactly.
    """
    w = weights or default_weights()

    sv = [r for r in surveys if r.customer_id == customer_id and r.occurred_at <= as_of]
    it = [r for r in interactions if r.customer_id == customer_id and r.occurred_at <= as_of]
    tx = [
        t
        for t in transactions
        if t.customer_id == customer_id
        and t.occurred_at <= as_of
        and t.status is TransactionStatus.WON
    ]
    cs = [c for c in cases if c.customer_id == customer_id and c.opened_at <= as_of]
    return explained_profile(customer_id, as_of, sv, it, cs, tx, w)


def explained_profile(
    customer_id: str,
    as_of: datetime,
    sv: Sequence[SurveyResponse],
    it: Sequence[Interaction],
    cs: Sequence[Case],
    tx: Sequence[Transaction],
    w: ExperienceWeights,
) -> ExperienceProfile:
    """experience_profile for records already kept: all of this customer, none after `as_of`,
    and won transactions only (score_customer has filtered them once already)."""
    cols = columns_from_kept(
        [customer_id],
        as_of,
        surveys=sv,
        interactions=it,
        cases=cs,
        purchases=tx,
        default_target_hours=w.default_case_target_hours,
    )
    return profile_of(customer_id, as_of, sv, it, cs, tx, w, experience_matrix(cols, w), 0)


def profile_of(
    customer_id: str,
    as_of: datetime,
    sv: Sequence[SurveyResponse],
    it: Sequence[Interaction],
    cs: Sequence[Case],
    tx: Sequence[Transaction],
    w: ExperienceWeights,
    m: ExperienceMatrix,
    row: int,
) -> ExperienceProfile:
    """The explained profile of the customer at `row` of an experience matrix worked out for
    one customer or many at once (their records kept as for `explained_profile`)."""
    # The row as Python numbers at once (tolist gives the same values as float()/int() of
    # each element, for one numpy call instead of three per factor).
    points, subscores = m.points[row].tolist(), m.subscores[row].tolist()
    counts = m.counts[row].tolist()
    contributions = tuple(
        FactorContribution(
            factor=name,
            points=points[k],
            subscore=subscores[k],
            weight=weight,
            count=counts[k],
            evidence=_evidence(name, as_of, w, sv, it, cs, tx, counts[k]),
        )
        for k, (name, weight) in enumerate(zip(FACTORS, w.weight_vector(), strict=True))
        if not math.isnan(subscores[k]) and weight > 0
    )
    score = float(m.score[row])
    return ExperienceProfile(
        subject_id=customer_id,
        as_of=as_of,
        score=None if math.isnan(score) else score,
        baseline=BASELINE,
        contributions=contributions,
        confidence=float(m.confidence[row]),
        input_counts={
            "surveys": len(sv),
            "interactions": len(it),
            "cases": len(cs),
            "purchases": len(tx),
        },
        scoring_version=SCORING_VERSION,
    )


class FactorChange(DomainModel):
    """How much one factor's contribution moved between two profiles."""

    factor: str
    delta: float
    before: float
    after: float
    evidence: str


class ScoreChange(DomainModel):
    """The change between two scores of one subject, explained in factor terms."""

    subject_id: str
    delta: float
    factors: tuple[FactorChange, ...]
    text: str


def explain_change(
    before: ExperienceProfile, after: ExperienceProfile, *, min_points: float = 0.5
) -> ScoreChange:
    """Explain `after.score - before.score` factor by factor; the factor deltas sum to it.

    The score is a weighted mean, so a factor that appears or disappears re-weights all others.
    Differencing the contributions (centred on 50) would blame unchanged factors for that
    dilution. Instead each factor's share is centred on the *old* score S:
        delta_k = 100 * (w'_k (s'_k - S) / W' - w_k (s_k - S) / W)
    which sums exactly to the change (the second terms sum to 0, the first to S' - S), and is 0
    for a factor that stayed as it was and sat at the old score.

    Example text: "-12: message sentiment -8 (2 negative chats of 5 messages), open cases -4
    (1 open case, oldest open 9 days)".
    """
    if before.subject_id != after.subject_id:
        raise ValueError("explain_change compares two profiles of the same subject")
    if before.score is None or after.score is None:
        raise ValueError("both profiles need a score (one of them had no data)")
    old = before.score / 100.0
    w_before = sum(c.weight for c in before.contributions)
    w_after = sum(c.weight for c in after.contributions)
    names = [c.factor for c in after.contributions] + [
        c.factor for c in before.contributions if after.contribution(c.factor) is None
    ]
    changes = []
    for name in names:
        b, a = before.contribution(name), after.contribution(name)
        share_after = a.weight * (a.subscore - old) / w_after if a else 0.0
        share_before = b.weight * (b.subscore - old) / w_before if b else 0.0
        latest = a if a is not None else b
        changes.append(
            FactorChange(
                factor=name,
                delta=100.0 * (share_after - share_before),
                before=b.points if b else 0.0,
                after=a.points if a else 0.0,
                evidence=latest.evidence if latest is not None else "",
            )
        )
    changes.sort(key=lambda c: -abs(c.delta))
    delta = after.score - before.score
    parts = [
        f"{LABELS.get(c.factor, c.factor)} {c.delta:+.0f}"
        + (f" ({c.evidence})" if c.evidence else "")
        for c in changes
        if abs(c.delta) >= min_points
    ]
    text = f"{delta:+.0f}: " + (", ".join(parts) if parts else "no factor moved noticeably")
    return ScoreChange(subject_id=after.subject_id, delta=delta, factors=tuple(changes), text=text)
