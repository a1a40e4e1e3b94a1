"""The webhook sender: batches subscribed change events and POSTs them, signed, to a URL.

Behaviour from docs/crm-api-facts.md §3.11: a JSON array of at most 100 events per request, headers
``X-HubSpot-Signature-v3`` + ``X-HubSpot-Request-Timestamp`` (and the v1 pair), retries with
``attemptNumber`` on connection errors, timeouts, 5xx and 429 (other 4xx answers are final), at
most 10 attempts. Queueing, retries, duplicates and reordering live in `sandbox.core.outbound`.

Contacts, companies, deals, tickets, products and line items have the classic subscription
types (``contact.creation``, ...). Engagements (notes, calls, e-mails, meetings, feedback) only
have HubSpot's newer generic object events: a subscription named ``note.creation`` here sends
``subscriptionType: "object.creation"`` with the type in ``objectTypeId`` ("0-46").
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from sandbox.core.outbound import Delivery, OutboundSender, Relay
from sandbox.hubspot.associations import AssociationChange
from sandbox.hubspot.config import WebhookSettings
from sandbox.hubspot.objects import ChangeEvent
from sandbox.hubspot.objecttypes import ObjectType
from sandbox.hubspot.signature import sign_v1, sign_v3
from sandbox.hubspot.timefmt import ms

__all__ = ["Delivery", "WebhookSender"]

# Object types classic webhook subscriptions exist for.
_CLASSIC = frozenset({"contact", "company", "deal", "ticket", "line_item", "product"})
# Object types only the generic ``object.*`` events cover (tasks are left out: we write them).
_GENERIC = frozenset({"note", "call", "email", "meeting", "feedback_submission"})


def _render(
    settings: WebhookSettings, batch: list[dict[str, Any]], attempt: int
) -> tuple[str, dict[str, str]]:
    events = [{**e, "attemptNumber": attempt} for e in batch]
    body = json.dumps(events, separators=(",", ":"))
    if settings.target_url is None:
        return body, {}
    secret = settings.client_secret.get_secret_value()
    timestamp = int(time.time() * 1000)
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)",
        "X-HubSpot-Signature": sign_v1(secret, body),
        "X-HubSpot-Signature-Version": "v1",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", settings.target_url, body, timestamp),
        "X-HubSpot-Request-Timestamp": str(timestamp),
    }


class WebhookSender(Relay[WebhookSettings]):
    """Collects events from the object service and delivers them from a background thread."""

    def __init__(self, settings: WebhookSettings, portal_id: int) -> None:
        self._portal_id = portal_id
        self._out: OutboundSender[WebhookSettings] = OutboundSender(
            settings,
            _render,
            lambda e: int(e["eventId"]),
            "hubspot-webhooks",
            lambda e: [str(e["objectId"])],
        )

    def listen(self, change: ChangeEvent) -> None:
        """Object-service listener: queue the event when a subscription covers it."""
        extra: dict[str, Any]
        if change.kind == "creation":
            extra = {"changeFlag": "NEW"}
        elif change.kind in ("deletion", "privacyDeletion"):
            extra = {"changeFlag": "DELETED"}
        elif change.kind == "merge":
            extra = {
                "primaryObjectId": change.object_id,
                "mergedObjectIds": list(change.merged_ids),
                "newObjectId": change.object_id,
            }
        else:
            extra = {"propertyName": change.property_name, "propertyValue": change.property_value}
        self._queue_event(
            change.object_type, change.kind, change.object_id, change.occurred_at, extra
        )

    def listen_association(self, change: AssociationChange) -> None:
        """Association-store listener: one ``associationChange`` event per side."""
        sides = (
            (change.from_type, change.from_id, change.to_type, change.to_id),
            (change.to_type, change.to_id, change.from_type, change.from_id),
        )
        for a, a_id, b, b_id in sides:
            extra = {
                "associationType": f"{a.singular.upper()}_TO_{b.singular.upper()}",
                "fromObjectId": a_id,
                "toObjectId": b_id,
                "associationRemoved": change.removed,
                "isPrimaryAssociation": change.kind.label == "Primary",
            }
            self._queue_event(a, "associationChange", a_id, change.at, extra)

    def _queue_event(
        self,
        otype: ObjectType,
        kind: str,
        object_id: int,
        at: datetime,
        extra: dict[str, Any],
    ) -> None:
        if otype.singular not in _CLASSIC and otype.singular not in _GENERIC:
            return
        name = f"{otype.singular}.{kind}"

        def build(settings: WebhookSettings, event_id: int) -> dict[str, Any] | None:
            names = sorted(settings.subscriptions)
            if name not in names:
                return None
            wanted = settings.property_filter.get(name)
            if wanted and extra.get("propertyName") not in wanted:
                return None
            generic = otype.singular in _GENERIC
            return {
                "eventId": event_id,
                "subscriptionId": 100_000 + names.index(name),
                "portalId": self._portal_id,
                "appId": settings.app_id,
                "occurredAt": ms(at),
                "subscriptionType": f"object.{kind}" if generic else name,
                **({"objectTypeId": otype.type_id} if generic else {}),
                "attemptNumber": 0,
                "objectId": object_id,
                "changeSource": "API",
                **extra,
            }

        self._out.enqueue(build)
