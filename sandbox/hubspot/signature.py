"""HubSpot request signatures v1, v2 and v3 (docs/crm-api-facts.md §3.11).

v3: base64(HMAC-SHA256(client_secret, METHOD + URI + body + timestamp)), where the URI has a
fixed set of percent-escapes decoded first. ``hubspot.utils.signature.Signature`` skips that
decoding, so receivers must pass it the decoded URL; signing the decoded form keeps both right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# The escapes HubSpot decodes before hashing a v3 URI.
_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def decode_uri(uri: str) -> str:
    """Apply HubSpot's v3 percent-escape decoding (case-insensitive escapes)."""
    for escape, char in _DECODE.items():
        uri = uri.replace(escape, char).replace(escape.lower(), char)
    return uri


def sign_v1(client_secret: str, body: str) -> str:
    """Hex SHA-256 of secret + body."""
    return hashlib.sha256(f"{client_secret}{body}".encode()).hexdigest()


def sign_v2(client_secret: str, method: str, uri: str, body: str) -> str:
    """Hex SHA-256 of secret + method + URI + body."""
    return hashlib.sha256(f"{client_secret}{method}{uri}{body}".encode()).hexdigest()


def sign_v3(client_secret: str, method: str, uri: str, body: str, timestamp_ms: int) -> str:
    """Base64 HMAC-SHA256 over method + decoded URI + body + timestamp."""
    message = f"{method}{decode_uri(uri)}{body}{timestamp_ms}".encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
