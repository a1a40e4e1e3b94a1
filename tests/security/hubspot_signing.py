"""HubSpot v3 request signatures over raw bytes, for tests that sign what they send.

(`sandbox.hubspot.signature.sign_v3` signs text bodies; these tests also sign bodies that are
not UTF-8, to prove they are refused after the signature check, not because of it.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def signed_headers(
    secret: str, method: str, url: str, body: bytes, timestamp_ms: int | None = None
) -> dict[str, str]:
    """The headers HubSpot would send with `body` posted to `url` at `timestamp_ms` (now)."""
    stamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    message = method.encode() + url.encode() + body + stamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return {
        "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
        "Content-Type": "application/json",
    }
