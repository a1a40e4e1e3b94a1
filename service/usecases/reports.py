"""Reports: NPS, CSAT, CES, message sentiment and churn per segment, channel, touchpoint, owner
or calendar period, each group with its size and a confidence interval.

Survey metrics come from `service.scoring.surveys.metric_by_values` (NPS: normal
interval from the multinomial variance; CSAT and % easy: Wilson; CES mean: Student t).
Sentiment is the mean message score (-1..1, Student t) with the share of negative messages
(Wilson); churn is the share of customers flagged (Wilson) with their mean risk (Student t),
counting each customer once: their last scoring in the window (in each period, by period).
A group smaller than `min_n` is listed with its size, `sufficient: false` and no value.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from service.domain import DEFAULT_SCALES, Polarity, SurveyKind
from service.scoring.groupings import Period, period_label
from service.scoring.intervals import mean_interval, wilson_interval
from service.scoring.surveys import MetricName, SurveyMetric, metric_by_values
from service.store.reports import GroupedAnswer, GroupedMessage, GroupedScore, ReportRepository

UNSPECIFIED = "unspecified"  # the group of records without the grouped attribute


class ReportMetric(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    SENTIMENT = "sentiment"
    CHURN = "churn"


class GroupBy(StrEnum):
    SEGMENT = "segment"
    CHANNEL = "channel"
    TOUCHPOINT = "touchpoint"
    OWNER = "owner"
    PERIOD = "period"


class ReportPeriod(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


UNITS = {
    ReportMetric.NPS: "NPS, -100..100 (% promoters - % detractors)",
    ReportMetric.CSAT: "% satisfied (top-two-box)",
    ReportMetric.CES: "mean answer on the CES scale (1-7: 7 = very easy)",
    ReportMetric.SENTIMENT: "mean message sentiment, -1..1",
    ReportMetric.CHURN: "% of customers flagged at risk of churn",
}
# Groupings a metric's records do not carry (messages have no touchpoint; scorings neither).
UNSUPPORTED = {
    ReportMetric.SENTIMENT: {GroupBy.TOUCHPOINT},
    ReportMetric.CHURN: {GroupBy.CHANNEL, GroupBy.TOUCHPOINT},
}


class ReportError(ValueError):
    """The report cannot be made as asked (a grouping the metric lacks, mixed answer scales)."""


class Estimate(BaseModel):
    """A further number of a group with its interval."""

    model_config = ConfigDict(frozen=True)

    value: float
    ci_low: float
    ci_high: float


class ReportGroup(BaseModel):
    """One group of a report: its size, its value with the interval, or why it has none."""

    model_config = ConfigDict(frozen=True)

    group: str = Field(description="Segment, channel, touchpoint, owner id or period label.")
    n: int = Field(ge=0, description="Answers, scored messages or customers in the group.")
    sufficient: bool = Field(description="False when n < min_n: no value is given.")
    value: float | None = Field(description="The metric, in the report's unit.")
    ci_low: float | None = None
    ci_high: float | None = None
    counts: dict[str, int] = Field(
        default_factory=dict, description="Counts behind the value (promoters, flagged, ...)."
    )
    secondary: dict[str, Estimate] = Field(
        default_factory=dict,
        description="ces: pct_easy; sentiment: negative_pct; churn: mean_risk (0..1).",
    )
    note: str = ""


class Report(BaseModel):
    """A metric per group over a time window, plus the same metric over all groups."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    metric: ReportMetric
    unit: str
    group_by: GroupBy
    period: ReportPeriod | None = Field(description="The period length, for group_by=period.")
    start: datetime = Field(alias="from", description="Window start (inclusive).")
    end: datetime = Field(alias="to", description="Window end (exclusive).")
    confidence: float
    min_n: int
    overall: ReportGroup
    groups: list[ReportGroup]


Grouped = GroupedAnswer | GroupedMessage | GroupedScore


def _attribute(group_by: GroupBy, records: Iterable[Grouped]) -> dict[str, str]:
    pick: Callable[[Grouped], str | None] = (
        (lambda r: r.segment) if group_by is GroupBy.SEGMENT else (lambda r: r.owner)
    )
    return {r.customer_id: pick(r) or UNSPECIFIED for r in records}


def _from_metric(metric: SurveyMetric) -> ReportGroup:
    return ReportGroup(
        group=metric.group,
        n=metric.n,
        sufficient=metric.sufficient,
        value=metric.value,
        ci_low=metric.ci_low,
        ci_high=metric.ci_high,
        counts=metric.counts,
        note=metric.note,
    )


def _too_few(group: str, n: int, min_n: int) -> ReportGroup:
    return ReportGroup(
        group=group, n=n, sufficient=False, value=None, note=f"too few: {n} < {min_n}"
    )


def _survey_groups(
    metric: ReportMetric,
    rows: Sequence[GroupedAnswer],
    group_by: GroupBy,
    period: Period,
    min_n: int,
    confidence: float,
) -> tuple[ReportGroup, list[ReportGroup]]:
    lookup = _attribute(group_by, rows) if group_by in (GroupBy.SEGMENT, GroupBy.OWNER) else {}
    scale = DEFAULT_SCALES[SurveyKind(metric.value)]
    grouped: dict[tuple[str, tuple[int, int]], list[float]] = defaultdict(list)
    everyone: dict[tuple[str, tuple[int, int]], list[float]] = defaultdict(list)
    for row in rows:
        if group_by is GroupBy.CHANNEL:
            group = row.channel or UNSPECIFIED
        elif group_by is GroupBy.TOUCHPOINT:
            group = row.touchpoint or UNSPECIFIED
        elif group_by is GroupBy.PERIOD:
            group = period_label(row.occurred_at, period)
        else:
            group = lookup[row.customer_id]
        bounds = row.scale or scale
        grouped[(group, bounds)].append(row.value)
        everyone[("all", bounds)].append(row.value)
    name = {
        ReportMetric.NPS: MetricName.NPS,
        ReportMetric.CSAT: MetricName.CSAT,
        ReportMetric.CES: MetricName.CES_MEAN,
    }[metric]

    def compute(groups: dict[tuple[str, tuple[int, int]], list[float]]) -> list[ReportGroup]:
        try:
            main = metric_by_values(groups, name, min_answers=min_n, confidence=confidence)
            easy = (
                metric_by_values(
                    groups, MetricName.CES_EASY, min_answers=min_n, confidence=confidence
                )
                if metric is ReportMetric.CES
                else {}
            )
        except ValueError as error:  # answers on different scales in one group
            raise ReportError(str(error)) from None
        out = []
        for group, result in main.items():
            item = _from_metric(result)
            extra = easy.get(group)
            if extra is not None and extra.value is not None:
                share = Estimate(
                    value=extra.value, ci_low=extra.ci_low or 0.0, ci_high=extra.ci_high or 0.0
                )
                item = item.model_copy(update={"secondary": {"pct_easy": share}})
            out.append(item)
        return out

    overall = compute(everyone)
    return (overall[0] if overall else _too_few("all", 0, min_n)), compute(grouped)


def _sentiment_group(group: str, scores: Sequence[tuple[float, Polarity]], min_n: int,
                     confidence: float) -> ReportGroup:  # fmt: skip
    n = len(scores)
    if n < max(2, min_n):
        return _too_few(group, n, max(2, min_n))
    values = [s for s, _ in scores]
    mean = statistics.fmean(values)
    low, high = mean_interval(mean, statistics.stdev(values), n, -1.0, 1.0, confidence)
    tally = {p.value: sum(1 for _, label in scores if label is p) for p in Polarity}
    negative = tally[Polarity.NEGATIVE.value]
    neg_low, neg_high = wilson_interval(negative, n, confidence)
    return ReportGroup(
        group=group,
        n=n,
        sufficient=True,
        value=mean,
        ci_low=min(low, mean),
        ci_high=max(high, mean),
        counts={label: k for label, k in tally.items() if k},
        secondary={
            "negative_pct": Estimate(
                value=100.0 * negative / n, ci_low=100.0 * neg_low, ci_high=100.0 * neg_high
            )
        },
    )


def _sentiment_groups(
    rows: Sequence[GroupedMessage], group_by: GroupBy, period: Period, min_n: int,
    confidence: float,
) -> tuple[ReportGroup, list[ReportGroup]]:  # fmt: skip
    lookup = _attribute(group_by, rows) if group_by in (GroupBy.SEGMENT, GroupBy.OWNER) else {}
    groups: dict[str, list[tuple[float, Polarity]]] = defaultdict(list)
    everyone: list[tuple[float, Polarity]] = []
    for row in rows:
        label = Polarity(row.label)
        if label is Polarity.UNKNOWN:
            continue  # unsupported language: no score to count
        if group_by is GroupBy.CHANNEL:
            group = row.channel
        elif group_by is GroupBy.PERIOD:
            group = period_label(row.occurred_at, period)
        else:
            group = lookup[row.customer_id]
        groups[group].append((row.score, label))
        everyone.append((row.score, label))
    return _sentiment_group("all", everyone, min_n, confidence), [
        _sentiment_group(g, groups[g], min_n, confidence) for g in sorted(groups)
    ]


def _churn_group(group: str, scorings: Sequence[GroupedScore], min_n: int,
                 confidence: float) -> ReportGroup:  # fmt: skip
    n = len(scorings)
    if n < max(1, min_n):
        return _too_few(group, n, max(1, min_n))
    flagged = sum(1 for s in scorings if s.churn_flag)
    low, high = wilson_interval(flagged, n, confidence)
    risks = [s.churn_risk for s in scorings]
    mean = statistics.fmean(risks)
    sd = statistics.stdev(risks) if n > 1 else 0.0
    risk_low, risk_high = mean_interval(mean, sd, n, 0.0, 1.0, confidence)
    return ReportGroup(
        group=group,
        n=n,
        sufficient=True,
        value=100.0 * flagged / n,
        ci_low=100.0 * low,
        ci_high=100.0 * high,
        counts={"flagged": flagged, "not_flagged": n - flagged},
        secondary={
            "mean_risk": Estimate(
                value=mean, ci_low=min(risk_low, mean), ci_high=max(risk_high, mean)
            )
        },
    )


def _churn_groups(
    rows: Sequence[GroupedScore], group_by: GroupBy, period: Period, min_n: int,
    confidence: float,
) -> tuple[ReportGroup, list[ReportGroup]]:  # fmt: skip
    # Rows come oldest first, so the last one kept per key is the customer's latest scoring.
    latest = {row.customer_id: row for row in rows}
    if group_by is GroupBy.PERIOD:
        per_period = {(period_label(r.as_of, period), r.customer_id): r for r in rows}
        grouped: dict[str, list[GroupedScore]] = defaultdict(list)
        for (label, _), row in per_period.items():
            grouped[label].append(row)
    else:
        lookup = _attribute(group_by, rows)
        grouped = defaultdict(list)
        for row in latest.values():
            grouped[lookup[row.customer_id]].append(row)
    overall = _churn_group("all", list(latest.values()), min_n, confidence)
    return overall, [_churn_group(g, grouped[g], min_n, confidence) for g in sorted(grouped)]


def build_report(
    repository: ReportRepository,
    metric: ReportMetric,
    group_by: GroupBy,
    *,
    start: datetime,
    end: datetime,
    period: ReportPeriod = ReportPeriod.MONTH,
    min_n: int = 30,
    confidence: float = 0.95,
) -> Report:
    """One report over [start, end); `ReportError` when the metric cannot be grouped so."""
    if group_by in UNSUPPORTED.get(metric, set()):
        raise ReportError(f"{metric.value} cannot be grouped by {group_by.value}")
    calendar = Period(period.value)
    if metric is ReportMetric.CHURN:
        overall, groups = _churn_groups(
            repository.scorings(start, end), group_by, calendar, min_n, confidence
        )
    elif metric is ReportMetric.SENTIMENT:
        messages = repository.messages(start, end)
        overall, groups = _sentiment_groups(messages, group_by, calendar, min_n, confidence)
    else:
        answers = repository.answers(metric.value, start, end)
        overall, groups = _survey_groups(metric, answers, group_by, calendar, min_n, confidence)
    return Report(
        metric=metric,
        unit=UNITS[metric],
        group_by=group_by,
        period=period if group_by is GroupBy.PERIOD else None,
        start=start,
        end=end,
        confidence=confidence,
        min_n=min_n,
        overall=overall,
        groups=groups,
    )
