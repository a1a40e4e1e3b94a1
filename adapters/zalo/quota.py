"""Zalo's rate-limit headers, read for the shared pacer (adapters/pacing.py).

Zalo limits requests per app per minute and states the limit in `X-RateLimit-Limit` (with
`X-RateLimit-Remain`; unverified: one guide, docs/zalo.md "Limits"). Without the header a call
goes unpaced and a `-32` is left to the retry layer.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.pacing import Window

MINUTE = 60


def zalo_window(headers: Mapping[str, str], share: float = 1.0) -> Window | None:
    """Our share of the per-minute window an answer states, or None when it states none."""
    lowered = {k.lower(): v for k, v in headers.items()}
    limit = lowered.get("x-ratelimit-limit", "")
    if not limit.isdigit() or int(limit) < 1:
        return None
    return Window(max(1, int(int(limit) * share)), MINUTE)
