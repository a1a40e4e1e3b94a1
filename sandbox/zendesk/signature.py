"""Zendesk's webhook signature: base64(HMAC-SHA256(key=signing secret, timestamp + raw body)),
no separator, in `X-Zendesk-Webhook-Signature`, the timestamp in
`X-Zendesk-Webhook-Signature-Timestamp` (docs/zendesk.md "Webhooks")."""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
