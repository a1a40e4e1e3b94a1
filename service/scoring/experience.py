"""Experience score 0-100, vectorised over customers, with each factor's contribution.

score_i = 100 * sum_k w_k s_ik / W_i, with s_ik in 0..1 the factor subscores and W_i the sum of
the weights of the factors that had data for customer i. The contribution of factor k is
100 * w_k (s_ik - 0.5) / W_i, so `baseline (50) + sum of contributions == score` holds exactly,
and a factor at its neutral reading moves nothing. See data/experience_weights.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.scoring.caching import per_object
from service.scoring.columns import F64, I64, I64_MIN, EventColumns
from service.scoring.weights import FACTORS, ExperienceWeights

NEUTRAL = 0.5
BASELINE = 100.0 * NEUTRAL  # the score of a customer whose every factor is neutral


# These helpers run once per factor for a million customers and for one alike; for one customer
# numpy's fixed cost per call dominates, so each avoids calls that change no value (copies by
# `astype` of an array already of that dtype, Python-level wrappers such as np.nan_to_num).


def _sum(cust: I64, values: F64, n: int) -> F64:
    return np.bincount(cust, weights=values, minlength=n).astype(np.float64, copy=False)


def _count(cust: I64, mask: np.ndarray, n: int) -> I64:
    return np.bincount(cust[mask], minlength=n).astype(np.int64, copy=False)


def _decay(age_days: F64, half_life_days: float) -> F64:
    return np.power(0.5, np.maximum(age_days, 0.0) / half_life_days)


def _ratio(num: F64, den: F64) -> F64:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


_MAX = float(np.finfo(np.float64).max)


def _nan_to_zero(x: F64) -> F64:
    """np.nan_to_num(x) for a float array (NaN -> 0, +-inf -> +-max), without its Python-level
    checks, which cost more than the arithmetic on a short array; one temporary, clipped in
    place, so it is no slower on a long one either."""
    out = np.where(np.isnan(x), 0.0, x)
    np.minimum(out, _MAX, out=out)
    np.maximum(out, -_MAX, out=out)
    return out


@per_object
def _weight_array(w: ExperienceWeights) -> F64:
    """The factor weights as an array, once per weights object (read-only: it is shared)."""
    weights = np.asarray(w.weight_vector(), dtype=np.float64)
    weights.setflags(write=False)
    return weights


@dataclass(frozen=True, slots=True)
class ExperienceMatrix:
    """Scores for n customers: subscores/points/counts are (n, len(FACTORS)); NaN = no data."""

    score: F64
    points: F64
    subscores: F64
    counts: I64
    confidence: F64


def factor_subscores(cols: EventColumns, w: ExperienceWeights) -> tuple[F64, I64]:
    """Each customer's subscore (NaN when the factor had no data) and evidence count per factor."""
    n, f = cols.n, w.factors
    # Every column is assigned below, so no fill is needed.
    sub = np.empty((n, len(FACTORS)))
    cnt = np.empty((n, len(FACTORS)), dtype=np.int64)
    look = w.lookback_days

    s = cols.surveys
    m = s.age_days <= look
    d = _decay(s.age_days, f.surveys.half_life_days) * m
    sub[:, 0] = _ratio(_sum(s.cust, d * s.value01, n), _sum(s.cust, d, n))
    cnt[:, 0] = _count(s.cust, m, n)

    it = cols.interactions
    it_recent = it.age_days <= look
    has = ~np.isnan(it.sentiment) & it_recent
    d = _decay(it.age_days, f.sentiment.half_life_days) * it.confidence * has
    pos01 = (_nan_to_zero(it.sentiment) + 1.0) / 2.0
    sub[:, 1] = _ratio(_sum(it.cust, d * pos01, n), _sum(it.cust, d, n))
    cnt[:, 1] = _count(it.cust, has, n)

    # Aspects are judged only where there were analysed messages: silence is not praise.
    a = cols.aspects
    am = a.age_days <= look
    load = _sum(a.cust, _decay(a.age_days, f.negative_aspects.half_life_days) * am, n)
    sub[:, 2] = np.where(cnt[:, 1] > 0, np.exp(-load / f.negative_aspects.scale), np.nan)
    cnt[:, 2] = _count(a.cust, am, n)

    c = cols.cases
    recent = c.age_days <= look
    seen = c.is_open | recent
    overdue = np.maximum(0.0, c.age_days - c.target_hours / 24.0)
    per_case = f.open_cases.per_case * (1.0 + overdue / f.open_cases.overdue_scale_days)
    load = _sum(c.cust, per_case * c.is_open, n)
    sub[:, 3] = np.where(_count(c.cust, seen, n) > 0, np.exp(-load), np.nan)
    cnt[:, 3] = _count(c.cust, c.is_open, n)

    resp = ~np.isnan(c.response_hours) & recent
    reso = ~np.isnan(c.resolution_hours) & recent
    resp_ratio = np.minimum(
        1.0, f.service_times.response_target_hours / np.maximum(c.response_hours, 1e-9)
    )
    reso_ratio = np.minimum(1.0, c.target_hours / np.maximum(c.resolution_hours, 1e-9))
    total = _sum(c.cust, np.where(resp, resp_ratio, 0.0), n) + _sum(
        c.cust, np.where(reso, reso_ratio, 0.0), n
    )
    times = _count(c.cust, resp, n) + _count(c.cust, reso, n)
    sub[:, 4] = _ratio(total, times.astype(np.float64))
    cnt[:, 4] = times

    window = it.age_days <= f.contact_frequency.window_days
    contacts = _count(it.cust, window, n)
    active = _count(it.cust, it_recent, n) > 0
    sub[:, 5] = np.where(
        active, np.minimum(1.0, contacts / f.contact_frequency.target_contacts), np.nan
    )
    cnt[:, 5] = contacts

    p = cols.purchases
    last_day = np.full(n, I64_MIN)
    np.maximum.at(last_day, p.cust, p.day)
    bought = np.bincount(p.cust, minlength=n).astype(np.int64, copy=False)
    since = (cols.as_of_day - last_day).astype(np.float64)
    sub[:, 6] = np.where(bought > 0, _decay(since, f.purchase_recency.half_life_days), np.nan)
    cnt[:, 6] = bought
    return sub, cnt


def experience_matrix(cols: EventColumns, w: ExperienceWeights) -> ExperienceMatrix:
    """Experience scores, contributions and confidence for every customer in `cols`."""
    sub, cnt = factor_subscores(cols, w)
    weights = _weight_array(w)
    present = ~np.isnan(sub) & (weights > 0)
    wp = np.where(present, weights, 0.0)
    # np.add.reduce is what ndarray.sum calls, minus its Python-level wrapper.
    w_present = np.add.reduce(wp, axis=1)
    safe = np.where(w_present > 0, w_present, 1.0)[:, None]
    filled = np.where(present, sub, NEUTRAL)
    points = np.where(present, 100.0 * wp * (filled - NEUTRAL) / safe, np.nan)
    # Rebuild the score from the points so `baseline + sum(points) == score` holds to the last
    # bit the caller sees, rather than computing it separately and hoping the floats agree.
    # np.nansum(points, axis=1), without its Python-level overhead: the same NaN-to-0 then sum.
    score = np.where(
        w_present > 0,
        BASELINE + np.add.reduce(np.where(np.isnan(points), 0.0, points), axis=1),
        np.nan,
    )
    return ExperienceMatrix(
        # Mathematically already in 0..100; the clip only removes float dust like 100.0000001.
        score=np.clip(score, 0.0, 100.0),
        points=points,
        subscores=sub,
        counts=cnt,
        confidence=w_present / np.add.reduce(weights),
    )
