"""Ready-made group keys for `metric_by_group`: customer, touchpoint, channel, period, lookups."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum

from service.domain import SurveyResponse
from service.scoring.surveys import GroupKey


class Period(StrEnum):
    """Calendar buckets for period metrics (UTC)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


def by_customer(r: SurveyResponse) -> str:
    """Group answers by customer."""
    return r.customer_id


def by_touchpoint(r: SurveyResponse) -> str:
    """Group answers by touchpoint / journey stage ("unspecified" when the CRM gave none)."""
    return r.touchpoint or "unspecified"


def by_channel(r: SurveyResponse) -> str:
    """Group answers by the channel the survey was answered on."""
    return r.channel.value if r.channel else "unspecified"


def period_label(moment: datetime, period: Period) -> str:
    """The calendar period of a moment in UTC, e.g. "2026-Q3", "2026-W07" or "2026-11"."""
    t = moment.astimezone(UTC)
    if period is Period.DAY:
        return t.strftime("%Y-%m-%d")
    if period is Period.WEEK:
        iso = t.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if period is Period.MONTH:
        return t.strftime("%Y-%m")
    if period is Period.QUARTER:
        return f"{t.year}-Q{(t.month - 1) // 3 + 1}"
    return str(t.year)


def by_period(period: Period) -> GroupKey:
    """Group answers by calendar period in UTC, e.g. "2026-Q3" or "2026-W07"."""

    def key(r: SurveyResponse) -> str:
        return period_label(r.occurred_at, period)

    return key


def by_lookup(customer_to_group: Mapping[str, str | None]) -> GroupKey:
    """Group by an attribute of the customer: account, segment, owner (answers of unknown
    customers are dropped rather than lumped into a fake group)."""

    def key(r: SurveyResponse) -> str | None:
        return customer_to_group.get(r.customer_id)

    return key
