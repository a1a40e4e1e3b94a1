"""The webhook sender: Zendesk event webhooks, one signed JSON event a request.

A webhook created with `POST /api/v2/webhooks` subscribes to event types
(`zen:event-type:ticket.created`, `…ticket.comment_added`; ratings as
`…ticket.satisfaction_rating_changed`, see docs/zendesk.md); the store's changes to tickets
become events for every active webhook subscribed to their type, POSTed by the shared outbound
sender (sandbox.core.outbound) with Zendesk's signature headers. The signing timestamp is real
time (receivers check it against their own clock).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sandbox.core.outbound import Delivery, OutboundSender, Relay
from sandbox.zendesk.config import WebhookSettings
from sandbox.zendesk.signature import SIGNATURE, TIMESTAMP, sign
from sandbox.zendesk.store import ZendeskStore

__all__ = ["EVENT_TYPES", "Delivery", "WebhookSender"]

EVENT_TYPES = {
    "created": "zen:event-type:ticket.created",
    "comment_added": "zen:event-type:ticket.comment_added",
    "rating": "zen:event-type:ticket.satisfaction_rating_changed",
}


def _render(
    settings: WebhookSettings, batch: list[dict[str, Any]], attempt: int
) -> tuple[str, dict[str, str]]:
    (event,) = batch  # Zendesk posts one event a request
    body = json.dumps({k: v for k, v in event.items() if k != "_seq"}, separators=(",", ":"))
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "Zendesk Webhook (sandbox)",
        SIGNATURE: sign(settings.signing_secret.get_secret_value(), stamp, body.encode()),
        TIMESTAMP: stamp,
    }


class WebhookSender(Relay[WebhookSettings]):
    """Turns ticket changes into events for the subscribed webhooks and delivers them."""

    def __init__(self, settings: WebhookSettings, store: ZendeskStore, account_id: int) -> None:
        self._store = store
        self._account_id = account_id
        self._out: OutboundSender[WebhookSettings] = OutboundSender(
            settings,
            _render,
            lambda e: int(e["_seq"]),
            "zendesk-webhooks",
            lambda e: [str(e["detail"]["id"])],
        )
        store.listeners.append(self.listen)

    def _subscribed(self, event_type: str) -> bool:
        with self._store.lock:
            hooks = list(self._store.webhooks.values())
        return any(
            h["status"] == "active" and event_type in (h.get("subscriptions") or []) for h in hooks
        )

    def listen(self, kind: str, ticket: dict[str, Any], extra: dict[str, Any]) -> None:
        event_type = EVENT_TYPES.get(kind)
        if event_type is None or not self._subscribed(event_type):
            return
        now = self._store.now().strftime("%Y-%m-%dT%H:%M:%SZ")

        def build(settings: WebhookSettings, seq: int) -> dict[str, Any]:
            return {
                "_seq": seq,
                "account_id": self._account_id,
                "detail": {
                    k: (str(v) if k.endswith("id") and v is not None else v)
                    for k, v in ticket.items()
                    if k
                    in (
                        "id",
                        "status",
                        "priority",
                        "subject",
                        "requester_id",
                        "assignee_id",
                        "organization_id",
                        "created_at",
                        "updated_at",
                        "via",
                    )
                },
                "event": extra,
                "id": str(uuid.uuid4()),
                "subject": f"zen:ticket:{ticket['id']}",
                "time": now,
                "type": event_type,
                "zendesk_event_version": "2022-11-06",
            }

        self._out.enqueue(build)
