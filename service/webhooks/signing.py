"""Signing deliveries, compatible with the Standard Webhooks specification (standardwebhooks.com).

- the secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those bytes;
- the signed content is `{webhook-id}.{webhook-timestamp}.{body}` (id, Unix seconds, raw body);
- `webhook-signature` is `v1,` + base64(HMAC-SHA256(key, signed content)); several signatures
  may be sent separated by spaces (during a secret rotation), any one of them matching is enough.
Binding the id and timestamp into the HMAC stops replays: a receiver rejects timestamps outside
its tolerance and ids it has already processed. `verify` is what a receiver runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The delivery is not authentic (bad signature) or not fresh (timestamp out of tolerance)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one delivery."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, message_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise `SignatureError` unless `body` was signed with `secret` within the tolerance."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        message_id = lowered[ID_HEADER]
        timestamp = int(lowered[TIMESTAMP_HEADER])
        presented = lowered[SIGNATURE_HEADER].split()
    except (KeyError, ValueError) as error:
        raise SignatureError("missing or malformed webhook headers") from error
    if abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        raise SignatureError("timestamp outside the tolerance")
    expected = sign(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in presented):
        raise SignatureError("no matching signature")
