"""Zendesk event webhooks in: signature and freshness, events turned into change notices.

Zendesk signs each delivery with base64(HMAC-SHA256(key=signing secret, timestamp + raw body))
in `X-Zendesk-Webhook-Signature`, the timestamp (ISO 8601) in
`X-Zendesk-Webhook-Signature-Timestamp` (docs/zendesk.md "Webhooks"); we also refuse a
timestamp more than 5 minutes from our clock, so a captured delivery cannot be replayed later.
One event per delivery (a JSON object, read as a list of one by `decode`): ticket created,
comment added and satisfaction rating events become notices to re-read the ticket, its
comments, the rating and the requester by id; nothing in the event is trusted as data. User
events about our own fields and `cem_*` tags are our writes coming back, and are ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.realtime.changes import Notice, SignatureError

MAX_AGE_MS = 300_000
MAX_EVENTS = 1  # Zendesk posts one event a request
PREFIX = "zen:event-type:"
OWN_TAG = "cem_"


def verify(
    secret: str, method: str, uri: str, headers: Mapping[str, str], body: bytes, now_ms: int
) -> None:
    """Raise `SignatureError` unless the delivery is signed with `secret` and fresh."""
    signature = headers.get("x-zendesk-webhook-signature", "")
    stamp = headers.get("x-zendesk-webhook-signature-timestamp", "")
    try:
        sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError("signature timestamp missing or not ISO 8601") from None
    if sent.tzinfo is None or abs(now_ms - int(sent.timestamp() * 1000)) > MAX_AGE_MS:
        raise SignatureError("signature timestamp outside the 5-minute window")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest), signature.encode()):
        raise SignatureError("signature does not match")


def decode(body: bytes) -> list[Any]:
    """One event a delivery: the JSON object as a list of one (ValueError when not JSON)."""
    parsed = json.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError("expected one JSON event object")
    return [parsed]


def _digits(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    return None


def _stamp(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp() * 1000) if moment.tzinfo else None


def _own_user_change(event: Mapping[str, Any], own_fields: frozenset[str]) -> bool:
    """A user event that only reports our own writes (our fields, our tags)."""
    change = event.get("event") if isinstance(event.get("event"), Mapping) else {}
    assert isinstance(change, Mapping)
    field = change.get("field")
    if isinstance(field, Mapping) and field.get("key") in own_fields:
        return True
    tags = [*(change.get("tags_added") or []), *(change.get("tags_removed") or [])]
    return bool(tags) and all(isinstance(t, str) and t.startswith(OWN_TAG) for t in tags)


def notices(payload: Any, own_fields: frozenset[str]) -> tuple[list[Notice], int]:
    """The notices of a delivery and how many events were ignored; ValueError on a bad shape."""
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise ValueError("expected a JSON array of one Zendesk event object (as decode reads it)")
    found: list[Notice] = []
    ignored = 0
    for event in payload:
        kind = str(event.get("type") or "").removeprefix(PREFIX)
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
        assert isinstance(detail, dict)
        change = event.get("event") if isinstance(event.get("event"), dict) else {}
        assert isinstance(change, dict)
        event_id = event.get("id")
        stamp = _stamp(event.get("time"))
        record_id = _digits(detail.get("id"))
        if not isinstance(event_id, str) or not event_id or stamp is None or record_id is None:
            ignored += 1
            continue
        reads: list[tuple[str, str, bool]] = []
        if kind.startswith("user."):
            if _own_user_change(event, own_fields):
                ignored += 1
                continue
            reads.append(("users", record_id, kind == "user.deleted"))
        elif kind in ("ticket.soft_deleted", "ticket.permanently_deleted"):
            reads.append(("tickets", record_id, True))
        elif kind.startswith("ticket."):
            reads.append(("tickets", record_id, False))
            if kind in ("ticket.created", "ticket.comment_added"):
                reads.append(("ticket_comments", record_id, False))
            if kind == "ticket.satisfaction_rating_changed":
                rating = change.get("satisfaction_rating")
                rating_id = _digits(rating.get("id")) if isinstance(rating, dict) else None
                if rating_id is not None:
                    reads.append(("satisfaction_ratings", rating_id, False))
            requester = _digits(detail.get("requester_id"))
            if kind == "ticket.created" and requester is not None:
                reads.append(("users", requester, False))
        else:
            ignored += 1
            continue
        found.extend(
            Notice(f"{event_id}:{object_type}", object_type, (object_id,), gone, stamp)
            for object_type, object_id, gone in reads
        )
    return found, ignored
