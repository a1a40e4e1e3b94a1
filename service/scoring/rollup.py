"""Account roll-up: a company's experience score from its contacts' scores, explained per contact.

account = 100 * sum_i v_i s_i / sum_i v_i, with s_i = contact score / 100 and
v_i = role weight x revenue weight x recency decay x the contact score's confidence.
Revenue weight is 1 + log10(1 + revenue) so a big buyer counts more without drowning the rest;
recency decays with the time since the contact was last active. The result is an
ExperienceProfile whose contributions are the contacts (factor "contact:<id>"), so
`explain_change` explains an account's movement in terms of people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.domain import ContactRole, Customer, ExperienceProfile, FactorContribution
from service.scoring.columns import days_before
from service.scoring.experience import BASELINE, NEUTRAL
from service.scoring.version import SCORING_VERSION


class RollupWeights(BaseModel):
    """How much each contact counts in its account's score."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: dict[ContactRole, float] = Field(
        default_factory=lambda: {
            ContactRole.DECISION_MAKER: 3.0,
            ContactRole.CHAMPION: 2.0,
            ContactRole.INFLUENCER: 1.5,
            ContactRole.BILLING: 1.0,
            ContactRole.USER: 1.0,
            ContactRole.OTHER: 1.0,
        }
    )
    half_life_days: float = Field(default=90.0, gt=0)


def account_profile(
    account_id: str,
    as_of: datetime,
    contacts: Sequence[tuple[Customer, ExperienceProfile]],
    *,
    revenue: Mapping[str, float] | None = None,
    last_active: Mapping[str, datetime] | None = None,
    weights: RollupWeights | None = None,
) -> ExperienceProfile:
    """Roll contact profiles up to their account.

    `revenue` and `last_active` are keyed by customer id; a contact missing from `last_active`
    is taken as active at its profile's `as_of`. Contacts without a score are left out.
    """
    w = weights or RollupWeights()
    revenue = revenue or {}
    last_active = last_active or {}
    rows: list[tuple[Customer, ExperienceProfile, float, float]] = []
    for customer, profile in contacts:
        if customer.id != profile.subject_id:
            raise ValueError(f"profile {profile.subject_id} paired with customer {customer.id}")
        if customer.account_id not in (None, account_id):
            raise ValueError(f"customer {customer.id} belongs to account {customer.account_id}")
        if profile.score is None or profile.confidence == 0:
            continue
        age = max(0.0, days_before(last_active.get(customer.id, profile.as_of), as_of))
        v = (
            w.role.get(customer.role, 1.0)
            * (1.0 + math.log10(1.0 + max(0.0, revenue.get(customer.id, 0.0))))
            * 0.5 ** (age / w.half_life_days)
            * profile.confidence
        )
        rows.append((customer, profile, v, age))
    total = sum(v for *_, v, _ in rows)
    if total <= 0:
        return ExperienceProfile(
            subject_id=account_id,
            as_of=as_of,
            score=None,
            confidence=0.0,
            input_counts={"contacts": len(contacts), "scored_contacts": 0},
            scoring_version=SCORING_VERSION,
        )
    contributions = []
    for customer, profile, v, age in rows:
        s = (profile.score or 0.0) / 100.0
        contributions.append(
            FactorContribution(
                factor=f"contact:{customer.id}",
                points=100.0 * v * (s - NEUTRAL) / total,
                subscore=s,
                weight=v,
                count=1,
                evidence=(
                    f"{customer.display_name or customer.id} ({customer.role.value}), "
                    f"score {profile.score:.0f}, last active {age:.0f} days ago"
                ),
            )
        )
    score = BASELINE + sum(c.points for c in contributions)
    mean_conf = sum(p.confidence for _, p, _, _ in rows) / len(rows)
    return ExperienceProfile(
        subject_id=account_id,
        as_of=as_of,
        score=min(100.0, max(0.0, score)),
        baseline=BASELINE,
        contributions=tuple(sorted(contributions, key=lambda c: -abs(c.points))),
        confidence=mean_conf,
        input_counts={"contacts": len(contacts), "scored_contacts": len(rows)},
        scoring_version=SCORING_VERSION,
    )
