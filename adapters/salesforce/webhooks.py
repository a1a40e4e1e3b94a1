"""Salesforce change events in: Standard Webhooks signature, CDC events turned into notices.

Salesforce's Change Data Capture streams over the Pub/Sub API or CometD
(docs/crm-api-facts.md §2.11), which a service with only an HTTP endpoint cannot hold open; a relay
subscribes and forwards each event in its CometD JSON shape (``{"channel", "data": {"payload":
{"ChangeEventHeader": …}, "event": {"replayId"}}}``), signed with a shared secret the Standard
Webhooks way: HMAC-SHA256 over ``id.timestamp.body`` in ``webhook-signature``, a 5-minute timestamp
window, compared in constant time (`service.webhooks.signing.verify`, the scheme our own outbound
webhooks use).

Each header names the entity, the record ids, the change type and the commit timestamp; the
replay id is the event's identity for de-duplication. Updates that only touch the fields we push
are our own writes coming back and are ignored (loop prevention); gap events are re-read like
changes; an overflow event names no records and is left to the next batch sync.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

from service.realtime.changes import Notice, SecretError, SignatureError
from service.webhooks import signing

MAX_EVENTS = 100
_DELETES = frozenset({"DELETE", "GAP_DELETE"})
_CHANGES = frozenset({"CREATE", "UPDATE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_UNDELETE"})
# Audit fields every write touches: they never make an update someone else's.
_AUDIT = frozenset({"LastModifiedDate", "LastModifiedById", "SystemModstamp"})


def verify(
    secret: str, method: str, uri: str, headers: Mapping[str, str], body: bytes, now_ms: int
) -> None:
    """Raise `SignatureError` unless the relay signed this body with `secret` just now."""
    del method, uri  # the Standard Webhooks signature binds the id, timestamp and body only
    try:
        signing.verify(secret, headers, body, now=now_ms / 1000)
    except signing.SignatureError as error:
        raise SignatureError(str(error)) from None
    except binascii.Error:
        # The connection's secret is not a Standard Webhooks secret (whsec_ + base64).
        raise SecretError("the webhook secret is not a whsec_ secret") from None


def _parts(event: Any) -> tuple[str, Mapping[str, Any], Mapping[str, Any]] | None:
    """(replay id, ChangeEventHeader, payload), or None for an event without them."""
    data = event.get("data") if isinstance(event, dict) else None
    payload = data.get("payload") if isinstance(data, dict) else None
    header = payload.get("ChangeEventHeader") if isinstance(payload, dict) else None
    meta = data.get("event") if isinstance(data, dict) else None
    if not isinstance(header, dict) or not isinstance(meta, dict):
        return None
    replay = meta.get("replayId", meta.get("EventUuid"))
    return None if replay is None else (str(replay), header, payload)  # type: ignore[return-value]


def _ours(
    change: str, header: Mapping[str, Any], payload: Mapping[str, Any], own: frozenset[str]
) -> bool:
    """Whether the event reports our own write: an update of only the fields we push, or the
    creation of a record carrying a field only we set (the key of a task we created)."""
    if change == "UPDATE":
        changed = set(header.get("changedFields") or ()) - _AUDIT
        return bool(changed) and changed <= own
    if change == "CREATE":
        return any(payload.get(f) is not None for f in own)
    return False


def notices(payload: Any, own_fields: frozenset[str]) -> tuple[list[Notice], int]:
    """The notices of a delivery and how many events were ignored (malformed ones among them:
    the others still count); ValueError when the body is not an array of events."""
    if not isinstance(payload, list) or len(payload) > MAX_EVENTS:
        raise ValueError(f"expected a JSON array of up to {MAX_EVENTS} change events")
    found: list[Notice] = []
    ignored = 0
    for event in payload:
        parsed = _parts(event)
        if parsed is None:
            ignored += 1
            continue
        replay, header, fields = parsed
        change = str(header.get("changeType", ""))
        entity = header.get("entityName")
        ids = header.get("recordIds")
        if (
            change not in _DELETES | _CHANGES
            or not isinstance(entity, str)
            or not isinstance(ids, list)
            or _ours(change, header, fields, own_fields)
        ):
            ignored += 1
            continue
        try:
            stamp = int(header.get("commitTimestamp") or 0)
        except (TypeError, ValueError):
            ignored += 1
            continue
        found.append(Notice(replay, entity, tuple(map(str, ids)), change in _DELETES, stamp))
    return found, ignored
