"""Turning CRM field values into canonical values (and back), per the mapping's declared type.

Each CRM has its own conventions: Salesforce sends ISO datetimes with "+0000" and real JSON
numbers; HubSpot sends every property as a string, datetimes as ISO strings or epoch
milliseconds, and booleans as "true"/"false". Coercion absorbs them so the domain never sees them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

Scalar = str | int | float | bool | None

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", ""}


class CoercionError(ValueError):
    """A CRM value does not fit the declared type (the message names the type, not the value)."""


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        # HubSpot stores datetimes as epoch milliseconds in some properties and webhooks.
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        # Salesforce writes offsets as "+0000", which fromisoformat accepts from 3.11 on;
        # a trailing "Z" (HubSpot) is accepted as well.
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    else:
        raise CoercionError("expected a datetime")
    if parsed.tzinfo is None:
        # Both CRMs send UTC; a naive value here means a custom field without an offset.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CoercionError("expected a boolean")


def coerce(value: Any, kind: str, values: dict[str, Scalar] | None = None) -> Any:
    """Coerce one CRM value to the canonical type `kind`; `values` maps enum/picklist values."""
    if value is None or (isinstance(value, str) and value == "" and kind != "string"):
        return None
    if values is not None:
        key = str(value)
        if key not in values:
            raise CoercionError(f"value not in the mapping's value map ({len(values)} known)")
        return values[key]
    try:
        match kind:
            case "string" | "text" | "enum":
                return str(value)
            case "integer":
                return int(float(value)) if isinstance(value, str) else int(value)
            case "number":
                return float(value)
            case "boolean":
                return _boolean(value)
            case "datetime" | "epoch_ms":
                return _datetime(value)
            case "date":
                return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError) as error:
        if isinstance(error, CoercionError):
            raise
        raise CoercionError(f"expected {kind}") from None
    raise CoercionError(f"unknown type {kind}")
