"""HubSpot webhooks in: v3 signature and timestamp window, events turned into change notices.

HubSpot posts a JSON array of up to 100 events, possibly duplicated and out of order
(docs/crm-api-facts.md §3.11). Classic subscriptions name the object in the type
(``contact.creation``); the newer generic ones (``object.creation``, used for engagements such as
notes and calls) carry it in ``objectTypeId``. Property changes to the fields we push are our own
writes coming back and are ignored (loop prevention); everything else becomes a `Notice` to re-read
the record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from service.realtime.changes import Notice, SignatureError

__all__ = ["MAX_EVENTS", "SignatureError", "notices", "verify", "verify_v3"]

MAX_AGE_MS = 300_000  # HubSpot's own window for v3 signatures
MAX_EVENTS = 100  # HubSpot sends at most 100 events a delivery
# HubSpot decodes these escapes in the URI before signing (docs/crm-api-facts.md §3.11).
_DECODE = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
# Classic subscription type prefix -> CRM object type.
OBJECT_TYPES = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "ticket": "tickets",
}
# objectTypeId of generic ``object.*`` events -> CRM object type.
OBJECT_TYPE_IDS = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-5": "tickets",
    "0-19": "feedback_submissions",
    "0-46": "notes",
    "0-47": "meetings",
    "0-48": "calls",
    "0-49": "emails",
}
_DELETIONS = frozenset({"deletion", "privacyDeletion"})


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


def verify(
    secret: str, method: str, uri: str, headers: Mapping[str, str], body: bytes, now_ms: int
) -> None:
    """`verify_v3` on the request's own headers."""
    verify_v3(
        secret,
        method,
        uri,
        body,
        headers.get("x-hubspot-signature-v3", ""),
        headers.get("x-hubspot-request-timestamp", ""),
        now_ms,
    )


def notices(payload: Any, own_fields: frozenset[str]) -> tuple[list[Notice], int]:
    """The notices of a delivery and how many events were ignored; ValueError on a bad shape."""
    if (
        not isinstance(payload, list)
        or len(payload) > MAX_EVENTS
        or not all(isinstance(e, dict) for e in payload)
    ):
        raise ValueError(f"expected a JSON array of up to {MAX_EVENTS} event objects")
    found: list[Notice] = []
    ignored = 0
    for event in payload:
        kind = event.get("subscriptionType")
        prefix, _, action = (kind if isinstance(kind, str) else "").partition(".")
        if prefix == "object":
            object_type = OBJECT_TYPE_IDS.get(str(event.get("objectTypeId", "")))
        else:
            object_type = OBJECT_TYPES.get(prefix)
        # Ill-typed values are ignored one event at a time (the rest of the delivery still
        # counts): an id that is not a whole number never reaches a CRM read.
        object_id, event_id = _whole(event.get("objectId")), _token(event.get("eventId"))
        stamp = _whole(event.get("occurredAt", 0))
        own = action == "propertyChange" and event.get("propertyName") in own_fields
        if object_type is None or object_id is None or event_id is None or stamp is None:
            ignored += 1
            continue
        if not action or own:
            ignored += 1
            continue
        found.append(Notice(event_id, object_type, (str(object_id),), action in _DELETIONS, stamp))
    return found, ignored


def _whole(value: Any) -> int | None:
    """A non-negative whole number given as a JSON integer or a string of digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _token(value: Any) -> str | None:
    """An event id: a JSON integer or a non-empty string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value):
        return str(value)
    return None
