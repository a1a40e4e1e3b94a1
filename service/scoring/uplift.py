"""Did it work: the uplift of each playbook against comparable customers without the task.

An episode is one customer who matched a playbook at some moment: treated if the task was
created and done, control if it was not (held out, over the contact limit, in cooldown).
Each records an outcome before and a fixed time after (experience score, churn probability).
The estimate is a stratified difference in differences (the effect on the treated):
    uplift = sum_s n_t,s (mean change treated_s - mean change control_s) / sum_s n_t,s
over strata s of comparable customers (same playbook, same before-bucket), with
var = sum_s w_s^2 (var_t,s / n_t,s + var_c,s / n_c,s) and a normal interval. Strata without
both arms are dropped and counted, so the comparison is always like with like.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from enum import StrEnum

from pydantic import Field

from service.domain import DomainModel
from service.scoring.intervals import z_value
from service.scoring.version import SCORING_VERSION


class Outcome(StrEnum):
    """What an episode measures; for churn probability a negative change is good."""

    EXPERIENCE_SCORE = "experience_score"
    CHURN_PROBABILITY = "churn_probability"


class Episode(DomainModel):
    """One customer who matched a playbook, with the outcome before and after."""

    customer_id: str
    playbook: str
    treated: bool
    stratum: str = "all"
    before: float
    after: float


class UpliftEstimate(DomainModel):
    """The effect of a playbook on one outcome, with its uncertainty."""

    playbook: str
    outcome: Outcome
    uplift: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    std_error: float | None = None
    n_treated: int = Field(ge=0)
    n_control: int = Field(ge=0)
    strata_used: int = Field(ge=0)
    strata_dropped: int = Field(ge=0)
    sufficient: bool
    note: str = ""
    scoring_version: str = SCORING_VERSION


def before_bucket(value: float, *, width: float) -> str:
    """Stratum label for a before-value (e.g. score 40-50), so like is compared with like."""
    low = math.floor(value / width) * width
    return f"{low:g}-{low + width:g}"


def _var(xs: list[float]) -> float:
    return statistics.variance(xs) if len(xs) > 1 else 0.0


def playbook_uplift(
    episodes: Iterable[Episode],
    outcome: Outcome,
    *,
    min_per_arm: int = 20,
    confidence: float = 0.95,
) -> dict[str, UpliftEstimate]:
    """Uplift per playbook (change treated minus change control, stratified)."""
    cells: dict[str, dict[str, dict[bool, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: {True: [], False: []})
    )
    for e in episodes:
        if not (math.isfinite(e.before) and math.isfinite(e.after)):
            raise ValueError(f"episode of {e.customer_id} has a non-finite outcome")
        cells[e.playbook][e.stratum][e.treated].append(e.after - e.before)
    z = z_value(confidence)
    out: dict[str, UpliftEstimate] = {}
    for playbook, strata in sorted(cells.items()):
        usable = {s: arms for s, arms in strata.items() if arms[True] and arms[False]}
        n_t = sum(len(a[True]) for a in usable.values())
        n_c = sum(len(a[False]) for a in usable.values())
        base = {
            "playbook": playbook,
            "outcome": outcome,
            "n_treated": n_t,
            "n_control": n_c,
            "strata_used": len(usable),
            "strata_dropped": len(strata) - len(usable),
        }
        if n_t < min_per_arm or n_c < min_per_arm:
            out[playbook] = UpliftEstimate(
                **base,
                uplift=None,
                sufficient=False,
                note=(
                    f"too few comparable customers ({n_t} treated, {n_c} control; "
                    f"need {min_per_arm} each)"
                ),
            )
            continue
        effect = 0.0
        variance = 0.0
        for arms in usable.values():
            t, c = arms[True], arms[False]
            w = len(t) / n_t
            effect += w * (statistics.fmean(t) - statistics.fmean(c))
            variance += w * w * (_var(t) / len(t) + _var(c) / len(c))
        se = math.sqrt(variance)
        out[playbook] = UpliftEstimate(
            **base,
            uplift=effect,
            ci_low=effect - z * se,
            ci_high=effect + z * se,
            std_error=se,
            sufficient=True,
        )
    return out


def ranking_uplift(estimates: Mapping[str, UpliftEstimate]) -> dict[str, float]:
    """Measured churn-probability reductions as the playbook engine's uplift (share saved).

    Only sufficient estimates on churn probability are used; a playbook that made things worse
    gets 0, never a negative value that would rank doing harm as a saving.
    """
    return {
        p: max(0.0, -e.uplift)
        for p, e in estimates.items()
        if e.sufficient and e.uplift is not None and e.outcome is Outcome.CHURN_PROBABILITY
    }
