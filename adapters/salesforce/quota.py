"""Salesforce's API usage headers, read for the generic quota guard (adapters/quota.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from adapters.quota import Usage

# Salesforce reports the org's daily usage on ordinary responses: `Sforce-Limit-Info:
# api-usage=<used>/<max>` (simple-salesforce parses the same header into `sdk.api_usage`).
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


def salesforce_usage(headers: Mapping[str, str]) -> Usage | None:
    """Usage from a Salesforce response's `Sforce-Limit-Info` header, if present."""
    for name, value in headers.items():
        if name.lower() == "sforce-limit-info":
            match = _USAGE.search(value)
            if match:
                return Usage(int(match.group(1)), int(match.group(2)))
    return None
