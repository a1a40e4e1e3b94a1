"""HubSpot's timestamp formats: ISO-8601 UTC with milliseconds and ``Z``, and ms epochs."""

from __future__ import annotations

from datetime import UTC, date, datetime


def iso(at: datetime) -> str:
    """``2024-01-01T00:00:00.000Z``, the format of ``createdAt`` and datetime properties."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def ms(at: datetime) -> int:
    """Milliseconds since the epoch (webhook ``occurredAt``, signature timestamps)."""
    return int(at.timestamp() * 1000)


def parse_instant(value: object) -> datetime:
    """A datetime from what HubSpot accepts as input: ms epoch (int or digits) or ISO-8601.

    Raises ``ValueError`` with a readable message otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value) / 1000.0, UTC)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000.0, UTC)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid ISO-8601 date or a millisecond epoch") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: object) -> date:
    """A calendar date; HubSpot date properties hold midnight UTC (docs/crm-api-facts.md §3.2)."""
    return parse_instant(value).date()
