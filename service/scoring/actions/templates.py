"""Task text templates: `{signal}` placeholders filled from signals, nothing else.

Deliberately not `str.format`: playbooks are editable by admins, and format's attribute and
index access ("{x.__class__}") would reach into Python objects. Names may contain dots
(`negative_aspect_30d.delivery`) and are plain dictionary keys here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from service.scoring.actions.conditions import Signal

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_.]*)\}")


def placeholders(template: str) -> set[str]:
    """The signal names a template uses."""
    return set(PLACEHOLDER.findall(template))


def _show(value: Signal) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 10 or value.is_integer() else f"{value:.1f}"
    return str(value)


def render(template: str, values: Mapping[str, Signal]) -> str:
    """Fill placeholders; a missing value renders as "?" so a gap is visible, never a crash."""
    return PLACEHOLDER.sub(lambda m: _show(values.get(m.group(1), "?")) or "?", template)
