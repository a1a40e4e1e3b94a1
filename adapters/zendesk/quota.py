"""Zendesk's rate-limit headers, read for the shared pacer (adapters/pacing.py).

Every answer states the account's requests per minute in `X-Rate-Limit` and what is left in
`X-Rate-Limit-Remaining` (docs/zendesk.md "Rate limits"). Zendesk has no daily quota, so there is
no `Usage` for the quota guard; the incremental exports' own 10 a minute are stated nowhere and
come from the settings.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.pacing import Window

MINUTE = 60


def zendesk_window(headers: Mapping[str, str]) -> Window | None:
    """The account's window (`X-Rate-Limit` per minute), if the answer states one."""
    lowered = {k.lower(): v for k, v in headers.items()}
    limit = lowered.get("x-rate-limit", "")
    if not limit.isdigit() or int(limit) < 1:
        return None
    return Window(int(limit), MINUTE)


def remaining(headers: Mapping[str, str]) -> int | None:
    """`X-Rate-Limit-Remaining`: calls left in the current minute."""
    value = {k.lower(): v for k, v in headers.items()}.get("x-rate-limit-remaining", "")
    return int(value) if value.isdigit() else None
