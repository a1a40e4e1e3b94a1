"""Reports over HTTP: `GET /v1/reports/{metric}` for nps, csat, ces, sentiment and churn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from service.api.deps import ClockDep, ReadKey, ReportsDep
from service.api.problems import ProblemError, invalid_field
from service.api.schemas.reports import ReportOut
from service.usecases.reports import (
    UNSUPPORTED,
    GroupBy,
    ReportError,
    ReportMetric,
    ReportPeriod,
    build_report,
)

router = APIRouter(prefix="/v1", tags=["reports"])

DEFAULT_WINDOW = timedelta(days=365)


def _utc(moment: datetime | None) -> datetime | None:
    # A time without an offset is taken as UTC, the zone every stored time is in.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get(
    "/reports/{metric}",
    summary="Report a metric by group",
    description=(
        "NPS, CSAT (% satisfied), CES (mean, with % easy), message sentiment (mean -1..1, "
        "with % negative) or churn (% of customers flagged, with their mean risk) per "
        "`group_by` over the window [`from`, `to`) (default: the year before now), each group "
        "with n and a confidence interval (NPS: normal interval from the multinomial variance; "
        "shares: Wilson; means: Student t). Groups with fewer than `min_n` are listed with "
        "`sufficient: false` and no value, never hidden. Customers without the grouped "
        "attribute form the group `unspecified`. Churn counts each customer's last scoring in "
        "the window (per period with `group_by=period`); it has no channel or touchpoint, "
        "sentiment no touchpoint (422)."
    ),
    responses={409: {"description": "Answers on different scales in one group"}},
)
def get_report(
    metric: Annotated[ReportMetric, Path(description="nps, csat, ces, sentiment or churn")],
    _: ReadKey,
    reports: ReportsDep,
    clock: ClockDep,
    group_by: GroupBy = GroupBy.SEGMENT,
    period: Annotated[
        ReportPeriod, Query(description="Period length for group_by=period (UTC calendar).")
    ] = ReportPeriod.MONTH,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    min_n: Annotated[int, Query(ge=1, le=100_000)] = 30,
    confidence: Annotated[float, Query(ge=0.5, le=0.999)] = 0.95,
) -> ReportOut:
    if group_by in UNSUPPORTED.get(metric, set()):
        raise invalid_field("query.group_by", f"{metric.value} has no {group_by.value}")
    until = _utc(end) or clock.now()
    since = _utc(start) or until - DEFAULT_WINDOW
    if since >= until:
        raise invalid_field("query.from", "from must be before to")
    try:
        report = build_report(
            reports,
            metric,
            group_by,
            start=since,
            end=until,
            period=period,
            min_n=min_n,
            confidence=confidence,
        )
    except ReportError as error:
        raise ProblemError(409, str(error), kind="mixed-answer-scales") from None
    return ReportOut.model_validate(report, from_attributes=True)
