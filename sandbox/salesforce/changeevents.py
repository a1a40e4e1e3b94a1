"""The change-event sender: Change Data Capture events for record writes, POSTed signed to a URL.

Salesforce publishes CDC events on `/data/<Object>ChangeEvent` channels, read over the Pub/Sub
API (gRPC + Avro) or CometD (docs/crm-api-facts.md §2.11); neither reaches a service that only has
an HTTP endpoint, so deployments run a small relay that subscribes and forwards. The sandbox plays
that relay: it delivers each event in its CometD JSON shape,

    {"channel": "/data/CaseChangeEvent",
     "data": {"schema": "...", "event": {"replayId": 17, "EventUuid": "..."},
              "payload": {"ChangeEventHeader": {"entityName": "Case", "recordIds": ["500…"],
                          "changeType": "CREATE", "commitTimestamp": 1700000000000,
                          "commitUser": "005…", "transactionKey": "…", "sequenceNumber": 1,
                          "changedFields": [...], ...}, "Subject": "…", ...}}}

as a JSON array of up to 100 events, signed the Standard Webhooks way (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``)
with the secret shared with the receiver. Like CDC it may repeat and reorder events (on demand)
and retries failed deliveries; `commitTimestamp` and `replayId` let receivers cope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from sandbox.core.outbound import Delivery, OutboundSender, Relay
from sandbox.salesforce.config import ChangeEventSettings
from sandbox.salesforce.responses import parse_datetime
from sandbox.salesforce.store import RecordChange

__all__ = ["ChangeEventSender", "Delivery", "sign"]

SCHEMA_ID = "cem-sandbox-cdc-1"
# Audit fields every write changes; CDC leaves them out of changedFields on updates.
_AUDIT = frozenset({"LastModifiedDate", "LastModifiedById", "SystemModstamp"})


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The Standard Webhooks ``webhook-signature`` value (``whsec_`` secrets hold base64 keys)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{message_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def _render(
    settings: ChangeEventSettings, batch: list[dict[str, Any]], attempt: int
) -> tuple[str, dict[str, str]]:
    body = json.dumps(batch, separators=(",", ":"), ensure_ascii=False)
    # One id per batch, the same on every retry, as Standard Webhooks asks.
    first = batch[0]["data"]["event"]["replayId"] if batch else 0
    message_id = f"msg_cdc_{first}_{len(batch)}"
    timestamp = int(time.time())
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "cem-sandbox Salesforce CDC relay",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(settings.secret.get_secret_value(), message_id, timestamp, body),
    }


class ChangeEventSender(Relay[ChangeEventSettings]):
    """Store listener turning committed writes into CDC events, delivered in the background."""

    def __init__(self, settings: ChangeEventSettings) -> None:
        self._commit = 10_000_000_000
        self._out: OutboundSender[ChangeEventSettings] = OutboundSender(
            settings,
            _render,
            lambda e: int(e["data"]["event"]["replayId"]),
            "salesforce-change-events",
            lambda e: [str(i) for i in e["data"]["payload"]["ChangeEventHeader"]["recordIds"]],
        )

    def listen(self, change: RecordChange) -> None:
        """Store listener (called inside the store lock, so events leave in commit order)."""
        self._commit += 1
        commit = self._commit
        at = parse_datetime(change.stamp)

        def build(settings: ChangeEventSettings, replay_id: int) -> dict[str, Any] | None:
            if change.obj.name not in settings.entities:
                return None
            changed = sorted(k for k in change.values if k not in _AUDIT)
            header = {
                "entityName": change.obj.name,
                "recordIds": [change.record_id],
                "changeType": change.change_type,
                "changeOrigin": "com/salesforce/api/rest/59.0",
                "transactionKey": str(uuid.uuid5(uuid.NAMESPACE_OID, str(commit))),
                "sequenceNumber": 1,
                "commitTimestamp": int(at.timestamp() * 1000),
                "commitNumber": commit,
                "commitUser": change.user_id,
                "changedFields": changed if change.change_type == "UPDATE" else [],
                "nulledFields": [k for k in changed if change.values[k] is None],
                "diffFields": [],
            }
            fields = {k: v for k, v in change.values.items() if v is not None}
            # Custom objects drop the final "c": Foo__c publishes on /data/Foo__ChangeEvent.
            name = change.obj.name
            channel = name[:-1] if name.endswith("__c") else name
            return {
                "channel": f"/data/{channel}ChangeEvent",
                "data": {
                    "schema": SCHEMA_ID,
                    "payload": {"ChangeEventHeader": header, **fields},
                    "event": {
                        "replayId": replay_id,
                        "EventUuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cdc:{replay_id}")),
                    },
                },
            }

        self._out.enqueue(build)
