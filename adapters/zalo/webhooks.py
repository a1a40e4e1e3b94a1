"""Zalo OA events in: the `mac=` signature, a freshness window, events turned into notices.

Zalo POSTs one JSON event per request (docs/zalo.md "Webhooks"):
`{"app_id", "user_id_by_app", "event_name", "sender": {"id"}, "recipient": {"id"},
"message": {"text", "msg_id"}, "timestamp": "1699003881354"}`, ids and the timestamp (epoch ms)
as strings. It is signed with `X-ZEvent-Signature: mac=<hex>`, the lowercase hex SHA-256 of
`app_id + raw body + timestamp + OA secret key` — a plain hash of the concatenation, not an
HMAC (Zalo's Java SDK `MacUtils.buildMac`). `app_id` and `timestamp` are the body's own fields,
so the body is parsed to check it, and the exact received bytes are hashed.

Zalo wants its 200 within 2 seconds: nothing here calls Zalo. A notice names the follower to
re-read; a message event re-reads that user's recent conversation (`messages` by user id) and
profile. `event_id` is the message's `msg_id`, which a redelivery repeats, so a redelivery is a
duplicate. The OA's own sends (`oa_send_*`, and the received/seen receipts of them) are ignored:
cem-bridge sends nothing, and staff replies arrive with the next pull.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from service.realtime.changes import Notice, SignatureError

__all__ = ["MAX_AGE_MS", "SignatureError", "check_app", "decode", "mac", "notices", "verify"]

FOLLOWERS, MESSAGES = "followers", "messages"
# How old (or how far ahead) a delivery's `timestamp` may be. Zalo resends a delivery that was
# not answered 200 (sources differ on the schedule: docs/zalo.md), so the window is wide enough
# for the first hours of retries; a replayed delivery can only make us re-read what Zalo has,
# and its `msg_id` makes it a duplicate.
MAX_AGE_MS = 2 * 3600 * 1000
_USER_MESSAGES = frozenset(
    f"user_send_{kind}"
    for kind in (
        "text", "image", "link", "audio", "video", "sticker", "location", "file", "gif",
        "business_card",
    )
)  # fmt: skip
_PROFILE_EVENTS = frozenset({"follow", "unfollow", "user_submit_info"})


def mac(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Zalo's `mac`: lowercase hex SHA-256 of app id + body + timestamp + OA secret key."""
    material = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(material).hexdigest()


def _fields(body: bytes) -> tuple[str, str]:
    """The body's `app_id` and `timestamp`, which the signature covers."""
    try:
        event = json.loads(body)
    except ValueError:
        raise SignatureError("the body is not a Zalo event") from None
    if not isinstance(event, dict):
        raise SignatureError("the body is not a Zalo event")
    app_id, timestamp = event.get("app_id"), event.get("timestamp")
    if not isinstance(app_id, str | int) or not isinstance(timestamp, str | int):
        raise SignatureError("app_id or timestamp missing")
    return str(app_id), str(timestamp)


def verify(
    secret: str, method: str, uri: str, headers: Mapping[str, str], body: bytes, now_ms: int
) -> None:
    """Raise `SignatureError` unless the delivery carries Zalo's `mac` for this OA secret key
    and its timestamp is within `MAX_AGE_MS` of now."""
    given = headers.get("x-zevent-signature", "").strip()
    if not given.startswith("mac="):
        raise SignatureError("X-ZEvent-Signature missing")
    app_id, timestamp = _fields(body)
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureError("timestamp is not epoch milliseconds")
    if abs(now_ms - int(timestamp)) > MAX_AGE_MS:
        raise SignatureError("timestamp outside the freshness window")
    expected = mac(app_id, body, timestamp, secret)
    if not hmac.compare_digest(expected, given.removeprefix("mac=").lower()):
        raise SignatureError("signature does not match")


def sender(settings: Any, body: bytes) -> None:
    """`WebhookSource.sender`: the verified delivery is from the connection's app."""
    app_id = getattr(settings, "client_id", None)
    if app_id:
        check_app(body, str(app_id))


def check_app(body: bytes, app_id: str) -> None:
    """`SignatureError` unless a verified delivery is from the connection's app (`CLIENT_ID`).

    The mac binds the body's `app_id` to the OA secret key; this adds that the app is the one
    the connection was set up with (a second app posting to the wrong connection)."""
    if _fields(body)[0] != app_id:
        raise SignatureError("the event is for another Zalo app")


def decode(body: bytes) -> list[Any]:
    """The delivery as the list of events the service counts: Zalo posts one object."""
    event = json.loads(body)
    if not isinstance(event, dict):
        raise ValueError("a Zalo delivery is one JSON object")
    return [event]


def _id(value: Any) -> str | None:
    """A Zalo id: a string of digits (ids exceed 2^53, so never a float), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    return None


def _user(event: Mapping[str, Any]) -> str | None:
    for holder in ("follower", "sender"):
        part = event.get(holder)
        if isinstance(part, Mapping) and (found := _id(part.get("id"))) is not None:
            return found
    return None


def notices(payload: Any, own_fields: frozenset[str]) -> tuple[list[Notice], int]:
    """The notices of a delivery and how many events were ignored; ValueError on a bad shape."""
    del own_fields  # nothing of ours is written to Zalo, so nothing of ours comes back
    if not isinstance(payload, list) or len(payload) != 1 or not isinstance(payload[0], dict):
        raise ValueError("expected an array of one Zalo event object (as `decode` makes it)")
    event = payload[0]
    name = event.get("event_name")
    user = _user(event)
    stamp = _id(event.get("timestamp"))
    if not isinstance(name, str) or user is None or stamp is None:
        return [], 1
    at = int(stamp)
    if name in _USER_MESSAGES:
        message = event.get("message")
        msg_id = message.get("msg_id") if isinstance(message, Mapping) else None
        if not isinstance(msg_id, str) or not msg_id:
            return [], 1
        return [
            Notice(f"{msg_id}:profile", FOLLOWERS, (user,), False, at),
            Notice(msg_id, MESSAGES, (user,), False, at),
        ], 0
    if name in _PROFILE_EVENTS:
        return [Notice(f"{name}:{user}:{stamp}", FOLLOWERS, (user,), False, at)], 0
    return [], 1  # the OA's own sends and receipts, anonymous chats, tags
