"""The events subscribers can receive, and the envelope every delivery carries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import orjson
from pydantic_core import to_jsonable_python


class EventType(StrEnum):
    """What happened. Payloads are documented in docs/webhooks.md."""

    FLAG_RAISED = "flag.raised"
    FLAG_CLEARED = "flag.cleared"
    TASK_CREATED = "task.created"
    SCORE_CHANGED = "score.changed"


class EventSink(Protocol):
    """What the use cases call to announce an event (`WebhookOutbox` implements it)."""

    def emit(self, event_type: EventType | str, payload: Mapping[str, Any]) -> str:
        """Queue the event for every subscriber that wants it; returns the event id."""
        ...


def envelope(event_id: str, event_type: EventType, at: datetime, data: Mapping[str, Any]) -> str:
    """The JSON body of a delivery, fixed once so every retry sends the same bytes."""
    body = {
        "id": event_id,
        "type": event_type.value,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": to_jsonable_python(dict(data)),
    }
    return orjson.dumps(body).decode()
