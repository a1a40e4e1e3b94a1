"""Choosing the churn flag threshold from a stated target, never a magic number.

Three rules (docs/scoring.md, "Flag threshold"): a precision target on held-out data, a
capacity rule (top k per owner), and a cost rule (flag when p x save rate x value > contact
cost; valid only for calibrated probabilities). Hysteresis keeps flags from flapping.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from service.scoring.columns import F64

Bools = npt.NDArray[np.bool_]


class ThresholdChoice(BaseModel):
    """A threshold, the rule that chose it and what it achieves on the evaluation data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    threshold: float
    precision: float | None = None
    recall: float | None = None
    share_flagged: float | None = None
    met_target: bool = True
    note: str = ""


def threshold_for_precision(y_true: Bools, p: F64, target: float) -> ThresholdChoice:
    """The lowest threshold whose precision on (held-out) data reaches `target`.

    Lowest, because among thresholds meeting the precision target it flags the most churners.
    If no threshold reaches the target, the one with the best precision is returned and
    `met_target` is False, so the caller can say so instead of silently flagging nobody.
    """
    if not 0 < target <= 1:
        raise ValueError("target precision must be in (0, 1]")
    y = np.asarray(y_true, dtype=bool)
    p = np.asarray(p, dtype=np.float64)
    if len(y) == 0 or not y.any():
        raise ValueError("need held-out data with at least one positive")
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    # Only cut where the score changes, so tied customers are flagged together.
    last_of_tie = np.r_[ps[1:] != ps[:-1], True]
    precision = np.where(last_of_tie, tp / k, -1.0)
    ok = np.flatnonzero(precision >= target)
    met = len(ok) > 0
    i = int(ok[-1]) if met else int(np.argmax(precision))
    return ThresholdChoice(
        rule=f"precision >= {target:.2f}",
        threshold=float(ps[i]),
        precision=float(tp[i] / (i + 1)),
        recall=float(tp[i] / ys.sum()),
        share_flagged=float((i + 1) / len(ys)),
        met_target=met,
        note="" if met else f"no threshold reaches precision {target:.2f}; best shown",
    )


def threshold_for_cost(
    contact_cost: float, save_rate: float, customer_value: float
) -> ThresholdChoice:
    """Flag when p >= contact cost / (save rate x customer value)."""
    if contact_cost < 0 or not 0 < save_rate <= 1 or customer_value <= 0:
        raise ValueError("need contact_cost >= 0, 0 < save_rate <= 1 and customer_value > 0")
    t = contact_cost / (save_rate * customer_value)
    return ThresholdChoice(
        rule=f"cost: {contact_cost:g} / ({save_rate:g} x {customer_value:g})",
        threshold=min(1.0, t),
        met_target=t <= 1.0,
        note="" if t <= 1.0 else "contact costs more than any save is worth; nobody flagged",
    )


def top_k_per_owner(p: F64, owners: Sequence[str | None], k: int) -> Bools:
    """Flag each owner's k riskiest customers (capacity rule); unowned customers share a pool."""
    if k < 0:
        raise ValueError("k must be >= 0")
    p = np.asarray(p, dtype=np.float64)
    keys = np.array(["" if o is None else o for o in owners], dtype=object)
    flags = np.zeros(len(p), dtype=bool)
    for owner in np.unique(keys):
        idx = np.flatnonzero(keys == owner)
        flags[idx[np.argsort(-p[idx], kind="stable")[:k]]] = True
    return flags


def apply_hysteresis(p: F64, previously_flagged: Bools, *, high: float, low: float) -> Bools:
    """Raise a flag at p >= high, clear it only below low (low < high), else keep it."""
    if not 0 <= low < high <= 1:
        raise ValueError("need 0 <= low < high <= 1")
    p = np.asarray(p, dtype=np.float64)
    prev = np.asarray(previously_flagged, dtype=bool)
    return np.asarray((p >= high) | (prev & (p >= low)), dtype=bool)


class FlagPolicy(BaseModel):
    """How the churn flag is set when the CRM gives no churn labels: a capacity target.

    Without labels no precision can be measured, and P(no purchase in the horizon) >= 0.5 flags
    most occasional buyers (they rarely buy within any 90 days) — a flag on most records is one
    that automation rules and staff learn to ignore. So the stated target is the share of buyers
    the team can act on: the riskiest `share` are flagged, ties together.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    share: float = Field(default=0.10, gt=0, le=1)
    horizon_days: int = Field(default=90, gt=0)


def threshold_for_share(p: F64, share: float) -> ThresholdChoice:
    """The threshold that flags the riskiest `share` of `p` (NaNs ignored, ties flagged alike)."""
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    values = np.asarray(p, dtype=np.float64)
    values = np.sort(values[np.isfinite(values)])[::-1]
    rule = f"riskiest {share:.0%} of buyers"
    if len(values) == 0:
        return ThresholdChoice(rule=rule, threshold=1.0, met_target=False, note="no buyers")
    k = max(1, int(np.ceil(share * len(values))))
    # A threshold of 0 would flag everybody with no purchase model behind it; keep it positive.
    threshold = max(float(values[k - 1]), float(np.nextafter(0.0, 1.0)))
    flagged = float((values >= threshold).mean())
    return ThresholdChoice(rule=rule, threshold=threshold, share_flagged=flagged)
