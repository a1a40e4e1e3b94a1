"""Look for CRM credentials and tokens in everything the service wrote during a run."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

# Access tokens the sandboxes issue at login, which the suite never sees: Salesforce's start
# with the 15-character org id and "!", HubSpot's OAuth ones with "CO" (sandbox/*/sessions|auth).
ISSUED_TOKENS = {
    "salesforce access token": re.compile(r"00D[0-9A-Za-z]{12}![A-Za-z0-9_\-]{40,}"),
    "hubspot access token": re.compile(r"\bCO[A-Za-z0-9_\-]{100,}"),
}


def encodings(secret: str) -> set[str]:
    """The secret as written, and the obvious ways a log line or a row could carry it."""
    raw = secret.encode()
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        secret[::-1],
    }
    return {f for f in forms if len(f) >= 8}


def scan(texts: Iterable[tuple[str, str]], secrets: Iterable[str]) -> list[str]:
    """`where: what` for every secret (in any of its encodings) or issued token found."""
    needles = {form: secret[:4] + "…" for secret in secrets for form in encodings(secret)}
    hits: list[str] = []
    for where, text in texts:
        for form, label in needles.items():
            if form in text:
                hits.append(f"{where}: secret {label}")
        for name, pattern in ISSUED_TOKENS.items():
            if pattern.search(text):
                hits.append(f"{where}: {name}")
    return hits


def sources(files: Iterable[Path], bodies: Iterable[str], openapi: Path) -> list[tuple[str, str]]:
    """Every file the service wrote, every API answer it gave, the exported OpenAPI document."""
    found = [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in files]
    found += [(f"api answer {i}", body) for i, body in enumerate(bodies)]
    found.append((str(openapi), openapi.read_text(encoding="utf-8")))
    return found
