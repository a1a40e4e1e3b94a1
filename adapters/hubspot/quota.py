"""HubSpot's rate-limit headers, read for the generic quota guard and pacer (adapters/quota.py,
adapters/pacing.py)."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.pacing import Window
from adapters.quota import Usage


def hubspot_usage(headers: Mapping[str, str]) -> Usage | None:
    """Usage from HubSpot's daily rate-limit headers (absent for OAuth apps and on search)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    daily = lowered.get("x-hubspot-ratelimit-daily")
    remaining = lowered.get("x-hubspot-ratelimit-daily-remaining")
    if daily is None or remaining is None or not daily.isdigit() or not remaining.isdigit():
        return None
    return Usage(int(daily) - int(remaining), int(daily))


def hubspot_window(headers: Mapping[str, str]) -> Window | None:
    """The rolling window a HubSpot answer states (`X-HubSpot-RateLimit-Max` per
    `X-HubSpot-RateLimit-Interval-Milliseconds`), if it states one (search answers do not)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    limit = lowered.get("x-hubspot-ratelimit-max", "")
    interval = lowered.get("x-hubspot-ratelimit-interval-milliseconds", "")
    if not limit.isdigit() or not interval.isdigit() or int(limit) < 1:
        return None
    return Window(int(limit), max(1, round(int(interval) / 1000)))
