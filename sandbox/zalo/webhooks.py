"""The OA's event sender: one signed JSON event per POST, as Zalo delivers them.

Shape (docs/zalo.md "Webhooks"): `app_id`, `user_id_by_app`, `event_name`, `sender.id`,
`recipient.id`, `message` (`text`, `msg_id`, `attachments`) and `timestamp` — ids and the
timestamp (epoch ms) as strings. Header `X-ZEvent-Signature: mac=<lowercase hex
SHA-256(app_id + body + timestamp + OA secret key)>`, a plain hash (Zalo's Java SDK
`MacUtils.buildMac`). A redelivery sends the very same body again (same `msg_id`, same
signature). Queueing and retries are `sandbox.core.outbound`'s; timestamps are real time, which
receivers check against their own clock.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from sandbox.core.outbound import OutboundSender, Relay
from sandbox.zalo.config import WebhookSettings


def sign(app_id: str, body: str, timestamp: str, oa_secret_key: str) -> str:
    """The `X-ZEvent-Signature` value for a body."""
    material = f"{app_id}{body}{timestamp}{oa_secret_key}".encode()
    return "mac=" + hashlib.sha256(material).hexdigest()


def _render(
    settings: WebhookSettings, batch: list[dict[str, Any]], attempt: int
) -> tuple[str, dict[str, str]]:
    del attempt  # Zalo's retries resend the delivery unchanged
    event = batch[0]
    secret = settings.oa_secret_key.get_secret_value()
    return event["body"], {
        "Content-Type": "application/json",
        "User-Agent": "ZaloWebhook/1.0 (sandbox)",
        "X-ZEvent-Signature": sign(event["app_id"], event["body"], event["timestamp"], secret),
    }


class WebhookSender(Relay[WebhookSettings]):
    """Builds, signs and delivers OA events; remembers each body for redelivery."""

    def __init__(self, settings: WebhookSettings) -> None:
        self._out: OutboundSender[WebhookSettings] = OutboundSender(
            settings, _render, lambda e: int(e["seq"]), "zalo-webhooks", lambda e: [e["user_id"]]
        )
        self._bodies: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def send(self, user_id: str, event: dict[str, Any], key: str) -> dict[str, Any] | None:
        """Queue `event` (app id and timestamp added) under `key` (its msg_id, or a name for
        events without one); the full event, or None when no target is set."""
        made: list[dict[str, Any]] = []

        def build(settings: WebhookSettings, seq: int) -> dict[str, Any]:
            timestamp = str(int(time.time() * 1000))
            full = {"app_id": settings.app_id, **event, "timestamp": timestamp}
            body = json.dumps(full, ensure_ascii=False, separators=(",", ":"))
            queued = {"seq": seq, "body": body, "app_id": settings.app_id,
                      "timestamp": timestamp, "user_id": user_id}  # fmt: skip
            with self._lock:
                self._bodies[key] = queued
            made.append(full)
            return queued

        self._out.enqueue(build)
        return made[0] if made else None

    def redeliver(self, key: str) -> bool:
        """Send the delivery of `key` again, byte for byte; False when there is none."""
        with self._lock:
            queued = self._bodies.get(key)
        if queued is None:
            return False
        self._out.enqueue(lambda _settings, seq: {**queued, "seq": seq})
        return True

    def sent(self, key: str) -> tuple[str, dict[str, str]] | None:
        """The body and headers delivered for `key` (a test replays them)."""
        with self._lock:
            queued = self._bodies.get(key)
        return None if queued is None else _render(self.settings, [queued], 0)
