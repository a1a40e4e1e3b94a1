"""Kaplan-Meier survival for subscription customers (explicit cancellation).

BG/NBD assumes silent drop-out and is the wrong model when customers cancel a contract. For
them the risk is P(cancel within H days | still subscribed after t days) = 1 - S(t+H) / S(t),
with S the Kaplan-Meier estimate of the group (plan, contract type, ...).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from service.scoring.columns import F64


class SurvivalCurve(BaseModel):
    """A Kaplan-Meier step function: S(t) = survival[i] for times[i] <= t < times[i+1]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    times: tuple[float, ...]
    survival: tuple[float, ...]
    n: int = Field(ge=0)
    events: int = Field(ge=0)
    # The longest observed tenure: beyond it S is held flat, which understates late risk.
    max_time: float = Field(ge=0)


def kaplan_meier(durations: F64, cancelled: np.ndarray) -> SurvivalCurve:
    """Kaplan-Meier estimate from tenures (days) and whether each ended in a cancellation."""
    durations = np.asarray(durations, dtype=np.float64)
    cancelled = np.asarray(cancelled, dtype=bool)
    if len(durations) != len(cancelled):
        raise ValueError("durations and cancelled must have the same length")
    if len(durations) == 0:
        raise ValueError("Kaplan-Meier needs at least one customer")
    if np.any(durations < 0) or not np.all(np.isfinite(durations)):
        raise ValueError("durations must be finite and non-negative")
    event_times, deaths = np.unique(durations[cancelled], return_counts=True)
    # At risk at time t: everyone whose tenure is >= t (censored at t still counts at t).
    sorted_d = np.sort(durations)
    at_risk = len(durations) - np.searchsorted(sorted_d, event_times, side="left")
    surv = np.cumprod(1.0 - deaths / at_risk)
    return SurvivalCurve(
        times=tuple(float(t) for t in event_times),
        survival=tuple(float(s) for s in surv),
        n=len(durations),
        events=int(cancelled.sum()),
        max_time=float(durations.max()),
    )


def survival_at(curve: SurvivalCurve, t: F64) -> F64:
    """S(t) for an array of times."""
    times = np.asarray(curve.times)
    surv = np.concatenate([[1.0], np.asarray(curve.survival)])
    idx = np.searchsorted(times, np.asarray(t, dtype=np.float64), side="right")
    return np.asarray(surv[idx], dtype=np.float64)


def p_cancel_within(curve: SurvivalCurve, tenure_days: F64, horizon_days: float) -> F64:
    """P(cancel within `horizon_days` | subscribed for `tenure_days`) = 1 - S(t+H)/S(t)."""
    if horizon_days <= 0:
        raise ValueError("horizon must be positive")
    now = survival_at(curve, tenure_days)
    later = survival_at(curve, np.asarray(tenure_days) + horizon_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(now > 0, 1.0 - later / np.where(now > 0, now, 1.0), 1.0)
    return np.asarray(np.clip(p, 0.0, 1.0), dtype=np.float64)
