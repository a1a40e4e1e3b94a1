"""Survey metrics: NPS, CSAT and CES for any grouping, with intervals and period trends.

Definitions (as published by their owners):
- NPS (Bain/Reichheld): 0-10 answers; promoters 9-10, passives 7-8, detractors 0-6;
  NPS = %promoters - %detractors, in -100..100.
- CSAT: % satisfied, i.e. top-two-box by default (4 or 5 on 1-5); other scales configurable.
- CES (Gartner CES 2.0, 1-7 "the company made it easy"): the mean, and % easy (5-7 by default).
A group with fewer answers than `min_answers` gets `value=None` and `sufficient=False`
instead of a number nobody should act on.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum

from pydantic import Field

from service.domain import DomainModel, SurveyKind, SurveyResponse
from service.scoring.intervals import (
    mean_interval,
    nps_interval,
    nps_variance,
    two_sided_p,
    wilson_interval,
    z_value,
)
from service.scoring.version import SCORING_VERSION

DEFAULT_MIN_ANSWERS = 30


class MetricName(StrEnum):
    """The number a SurveyMetric reports."""

    NPS = "nps"
    CSAT = "csat_pct_satisfied"
    CES_MEAN = "ces_mean"
    CES_EASY = "ces_pct_easy"


class SurveyMetric(DomainModel):
    """One metric for one group, with its interval and sample size."""

    metric: MetricName
    group: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float = 0.95
    n: int = Field(ge=0)
    sufficient: bool
    # Answer counts behind the value (promoters/passives/detractors, satisfied, easy, ...).
    counts: dict[str, int] = Field(default_factory=dict)
    # Standard error of `value` (same units), kept so two periods can be compared.
    std_error: float | None = None
    note: str = ""
    scoring_version: str = SCORING_VERSION


def _insufficient(metric: MetricName, group: str, n: int, min_answers: int) -> SurveyMetric:
    return SurveyMetric(
        metric=metric,
        group=group,
        value=None,
        n=n,
        sufficient=False,
        note=f"too few answers: {n} < {min_answers}",
    )


def _checked(values: Sequence[float], low: float, high: float, what: str) -> None:
    for v in values:
        if not (math.isfinite(v) and low <= v <= high):
            raise ValueError(f"{what} answer {v} is outside {low}-{high}")


def nps(
    values: Sequence[float],
    *,
    group: str = "all",
    min_answers: int = DEFAULT_MIN_ANSWERS,
    confidence: float = 0.95,
) -> SurveyMetric:
    """Net Promoter Score of 0-10 answers with a normal interval from the multinomial variance."""
    _checked(values, 0, 10, "NPS")
    n = len(values)
    if n < max(1, min_answers):
        return _insufficient(MetricName.NPS, group, n, min_answers)
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    low, high = nps_interval(promoters, detractors, n, confidence)
    return SurveyMetric(
        metric=MetricName.NPS,
        group=group,
        value=100.0 * (promoters - detractors) / n,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        n=n,
        sufficient=True,
        counts={
            "promoters": promoters,
            "passives": n - promoters - detractors,
            "detractors": detractors,
        },
        std_error=100.0 * math.sqrt(nps_variance(promoters, detractors, n)),
    )


def _share(
    metric: MetricName,
    values: Sequence[float],
    threshold: float,
    *,
    group: str,
    min_answers: int,
    confidence: float,
    label: str,
) -> SurveyMetric:
    n = len(values)
    if n < max(1, min_answers):
        return _insufficient(metric, group, n, min_answers)
    hits = sum(1 for v in values if v >= threshold)
    low, high = wilson_interval(hits, n, confidence)
    p = hits / n
    return SurveyMetric(
        metric=metric,
        group=group,
        value=100.0 * p,
        ci_low=100.0 * low,
        ci_high=100.0 * high,
        confidence=confidence,
        n=n,
        sufficient=True,
        counts={label: hits, "other": n - hits},
        std_error=100.0 * math.sqrt(p * (1 - p) / n),
    )


def csat(
    values: Sequence[float],
    *,
    scale: tuple[int, int] = (1, 5),
    satisfied_from: float | None = None,
    group: str = "all",
    min_answers: int = DEFAULT_MIN_ANSWERS,
    confidence: float = 0.95,
) -> SurveyMetric:
    """CSAT as % satisfied (top-two-box unless `satisfied_from` says otherwise), Wilson interval."""
    low, high = scale
    _checked(values, low, high, "CSAT")
    threshold = high - 1 if satisfied_from is None else satisfied_from
    return _share(
        MetricName.CSAT,
        values,
        threshold,
        group=group,
        min_answers=min_answers,
        confidence=confidence,
        label="satisfied",
    )


def ces_easy(
    values: Sequence[float],
    *,
    scale: tuple[int, int] = (1, 7),
    easy_from: float | None = None,
    group: str = "all",
    min_answers: int = DEFAULT_MIN_ANSWERS,
    confidence: float = 0.95,
) -> SurveyMetric:
    """CES as % easy (top-three-box, 5-7 on 1-7, unless `easy_from` is given), Wilson interval."""
    low, high = scale
    _checked(values, low, high, "CES")
    threshold = high - 2 if easy_from is None else easy_from
    return _share(
        MetricName.CES_EASY,
        values,
        threshold,
        group=group,
        min_answers=min_answers,
        confidence=confidence,
        label="easy",
    )


def ces_mean(
    values: Sequence[float],
    *,
    scale: tuple[int, int] = (1, 7),
    group: str = "all",
    min_answers: int = DEFAULT_MIN_ANSWERS,
    confidence: float = 0.95,
) -> SurveyMetric:
    """CES as the mean answer with a Student-t interval clipped to the scale."""
    low, high = scale
    _checked(values, low, high, "CES")
    n = len(values)
    if n < max(2, min_answers):
        return _insufficient(MetricName.CES_MEAN, group, n, max(2, min_answers))
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    ci_low, ci_high = mean_interval(mean, sd, n, low, high, confidence)
    return SurveyMetric(
        metric=MetricName.CES_MEAN,
        group=group,
        value=mean,
        ci_low=min(ci_low, mean),
        ci_high=max(ci_high, mean),
        confidence=confidence,
        n=n,
        sufficient=True,
        std_error=sd / math.sqrt(n),
    )


GroupKey = Callable[[SurveyResponse], str | None]
"""Maps an answer to its group (None drops it): customer, account, touchpoint, period, ..."""


def metric_by_group(
    responses: Iterable[SurveyResponse],
    metric: MetricName,
    key: GroupKey,
    *,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    confidence: float = 0.95,
) -> dict[str, SurveyMetric]:
    """Compute one metric for every group `key` defines, from answers of the matching kind."""
    kind = {
        MetricName.NPS: SurveyKind.NPS,
        MetricName.CSAT: SurveyKind.CSAT,
        MetricName.CES_MEAN: SurveyKind.CES,
        MetricName.CES_EASY: SurveyKind.CES,
    }[metric]
    groups: dict[tuple[str, tuple[int, int]], list[float]] = defaultdict(list)
    for r in responses:
        if r.kind is not kind:
            continue
        g = key(r)
        if g is not None:
            groups[(g, r.bounds)].append(r.value)
    return metric_by_values(groups, metric, min_answers=min_answers, confidence=confidence)


def metric_by_values(
    groups: Mapping[tuple[str, tuple[int, int]], Sequence[float]],
    metric: MetricName,
    *,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    confidence: float = 0.95,
) -> dict[str, SurveyMetric]:
    """One metric per group from answer values already grouped by (group, answer scale).

    The core of `metric_by_group`, for callers that hold plain values (a report over a year of
    stored answers need not build a SurveyResponse per answer). A group on two scales is refused.
    """
    scales_by_group: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for g, scale in groups:
        scales_by_group[g].add(scale)
    mixed = sorted(g for g, s in scales_by_group.items() if len(s) > 1)
    if mixed:
        # Averaging a 1-5 and a 1-10 CSAT would be meaningless; the caller must split them.
        raise ValueError(f"groups mix answer scales: {', '.join(mixed[:5])}")
    out: dict[str, SurveyMetric] = {}
    for (g, scale), values in sorted(groups.items()):
        if metric is MetricName.NPS:
            out[g] = nps(values, group=g, min_answers=min_answers, confidence=confidence)
        elif metric is MetricName.CSAT:
            out[g] = csat(
                values, scale=scale, group=g, min_answers=min_answers, confidence=confidence
            )
        elif metric is MetricName.CES_MEAN:
            out[g] = ces_mean(
                values, scale=scale, group=g, min_answers=min_answers, confidence=confidence
            )
        else:
            out[g] = ces_easy(
                values, scale=scale, group=g, min_answers=min_answers, confidence=confidence
            )
    return out


class Trend(DomainModel):
    """The change of one metric between two periods and whether it is significant."""

    metric: MetricName
    group: str
    before: float | None
    after: float | None
    delta: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    significant: bool = False
    note: str = ""


def trend(before: SurveyMetric, after: SurveyMetric, *, alpha: float = 0.05) -> Trend:
    """Compare two periods of one metric with a two-sample z test on the difference.

    Uses each period's own standard error (unpooled), which is the test the NPS literature uses
    for the promoter-detractor difference and is conservative for proportions.
    """
    if before.metric is not after.metric:
        raise ValueError(f"cannot compare {before.metric} with {after.metric}")
    base = {"metric": after.metric, "group": after.group, "before": before.value}
    if before.value is None or after.value is None:
        return Trend(**base, after=after.value, delta=None, note="too few answers to compare")
    delta = after.value - before.value
    se = math.hypot(before.std_error or 0.0, after.std_error or 0.0)
    if se == 0.0:
        # Both periods unanimous: any difference is exact, no sampling doubt to test.
        return Trend(**base, after=after.value, delta=delta, p_value=None, significant=delta != 0.0)
    z = z_value(1.0 - alpha)
    p = two_sided_p(delta / se)
    return Trend(
        **base,
        after=after.value,
        delta=delta,
        ci_low=delta - z * se,
        ci_high=delta + z * se,
        p_value=p,
        significant=p < alpha,
    )
