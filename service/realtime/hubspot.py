"""HubSpot webhooks in: v3 signature, timestamp window, de-duplication, record re-reads.

HubSpot posts a JSON array of up to 100 events, possibly duplicated and out of order
(crm-api-facts §3.11). Nothing in an event is trusted as data: each event only says *which*
record changed, and the record is read again by id (never through the lagging search), so order
does not matter and a duplicate costs at most one idempotent re-read. Deletions mark the record
deleted; a creation or change whose record is gone by the time we read it counts as a deletion.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_AGE_MS = 300_000  # HubSpot's own window for v3 signatures
# HubSpot decodes these escapes in the URI before signing (crm-api-facts §3.11).
_DECODE = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
# Subscription type prefix -> CRM object type.
OBJECT_TYPES = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "ticket": "tickets",
}


class SignatureError(ValueError):
    """The request is not from HubSpot (bad or stale signature)."""


def _decoded(uri: str) -> str:
    for escape, char in _DECODE.items():
        uri = uri.replace(escape, char).replace(escape.lower(), char)
    return uri


def verify_v3(
    secret: str, method: str, uri: str, body: bytes, signature: str, timestamp: str, now_ms: int
) -> None:
    """Raise `SignatureError` unless `signature` is HubSpot's v3 signature of this request."""
    if not timestamp.isdigit() or abs(now_ms - int(timestamp)) > MAX_AGE_MS:
        raise SignatureError("timestamp missing or outside the 5-minute window")
    message = method.encode() + _decoded(uri).encode() + body + timestamp.encode()
    expected = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature.encode()):
        raise SignatureError("signature does not match")


def malformed(event: Mapping[str, Any]) -> str | None:
    """Why `event` is not shaped like a HubSpot webhook event, or None when it is.

    HubSpot sends integers for `objectId`, `eventId` and `occurredAt` (epoch ms); anything else
    is not from HubSpot, so the whole delivery is refused before any of it is acted on.
    """
    if not isinstance(event.get("subscriptionType"), str):
        return "subscriptionType must be a string"
    for name, required in (("objectId", True), ("eventId", False), ("occurredAt", False)):
        value = event.get(name)
        if value is None and not required:
            continue
        # bool is an int subclass; a digit string is what some HubSpot tooling re-posts.
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and value.isdigit())
        ):
            return f"{name} must be an integer"
    return None


@dataclass(frozen=True)
class Changes:
    """What a delivery asks us to do: re-read these ids, mark those deleted (per object type)."""

    reread: dict[str, list[str]]
    deleted: dict[str, list[str]]
    duplicates: int
    ignored: int


class RecentIds:
    """The last N event ids seen by this process (HubSpot retries and duplicates deliveries)."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids[event_id] = None
            if len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return True


def plan(events: Iterable[Mapping[str, Any]], seen: RecentIds) -> Changes:
    """Group valid events by object type; the latest event per record decides (by occurredAt)."""
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    duplicates = ignored = 0
    for event in events:
        kind = str(event.get("subscriptionType", ""))
        prefix, _, action = kind.partition(".")
        object_type = OBJECT_TYPES.get(prefix)
        object_id = event.get("objectId")
        if object_type is None or object_id is None or not action:
            ignored += 1
            continue
        # Only an event id makes two events the same; without one nothing is a duplicate.
        event_id = event.get("eventId")
        if event_id is not None and not seen.first_time(str(event_id)):
            duplicates += 1
            continue
        when = int(event.get("occurredAt") or 0)
        key = (object_type, str(object_id))
        if key not in latest or when >= latest[key][0]:
            latest[key] = (when, action)
    reread: dict[str, list[str]] = {}
    deleted: dict[str, list[str]] = {}
    for (object_type, object_id), (_, action) in latest.items():
        target = deleted if action in {"deletion", "privacyDeletion"} else reread
        target.setdefault(object_type, []).append(object_id)
    return Changes(reread, deleted, duplicates, ignored)
