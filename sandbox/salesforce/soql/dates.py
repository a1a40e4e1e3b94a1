"""SOQL date literals (TODAY, LAST_N_DAYS:n, ...) as half-open UTC ranges.

The sandbox org's time zone is UTC, so "today" starts at 00:00 UTC of the sandbox clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta


def _month_start(day: date, shift: int = 0) -> date:
    months = day.year * 12 + day.month - 1 + shift
    return date(months // 12, months % 12 + 1, 1)


def date_literal_range(word: str, n: int | None, now: datetime) -> tuple[date, date]:
    """[start, end) in days for the literal `word` (with argument `n`) at instant `now`."""
    today = now.date()
    day = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday
    simple: dict[str, tuple[date, date]] = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "THIS_WEEK": (week_start, week_start + 7 * day),
        "LAST_WEEK": (week_start - 7 * day, week_start),
        "NEXT_WEEK": (week_start + 7 * day, week_start + 14 * day),
        "THIS_MONTH": (_month_start(today), _month_start(today, 1)),
        "LAST_MONTH": (_month_start(today, -1), _month_start(today)),
        "NEXT_MONTH": (_month_start(today, 1), _month_start(today, 2)),
        "THIS_YEAR": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "LAST_YEAR": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
    }
    if word in simple:
        return simple[word]
    count = n or 0
    if word == "LAST_N_DAYS":
        return today - count * day, today + day
    if word == "NEXT_N_DAYS":
        return today + day, today + (count + 1) * day
    if word == "N_DAYS_AGO":
        return today - count * day, today - (count - 1) * day
    if word == "LAST_N_MONTHS":
        return _month_start(today, -count), _month_start(today)
    raise ValueError(f"unknown date literal {word}")
