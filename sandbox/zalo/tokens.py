"""The OAuth v4 token endpoint's state: authorization codes, access and refresh tokens.

As Zalo states them (docs/zalo.md "OAuth"): codes are single-use and short-lived, checked
against the PKCE challenge (`base64url(SHA-256(code_verifier))`, no padding); a refresh returns a
new access token *and* a new refresh token, and the refresh token it was made with stops
working (single-use, rotating); `expires_in` is a string of seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from sandbox.core.clock import SandboxClock
from sandbox.zalo.config import ZaloConfig


class TokenRefusedError(Exception):
    """The token endpoint refuses a grant: `error` (a negative code) and its reason."""

    def __init__(self, code: int, name: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.name = name
        self.description = description

    def body(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "error_name": self.name,
            "error_reason": self.name,
            "error_description": self.description,
        }


# The emulator's own numbers for token refusals: our sources name none (docs/zalo.md), and the
# connector maps every token refusal to one row whatever its number.
BAD_CLIENT, BAD_GRANT, BAD_VERIFIER = -14001, -14002, -14003


def challenge_of(verifier: str) -> str:
    """The PKCE S256 challenge of a code verifier (base64url, no padding)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class _Grant:
    expires_at: float
    used: bool = False
    challenge: str = ""


class TokenIssuer:
    """Codes, refresh tokens and access tokens, with expiry on the sandbox clock."""

    def __init__(self, config: ZaloConfig, clock: SandboxClock) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._access: dict[str, float] = {}
        self.issued = 0  # token pairs issued (tests count refreshes)
        self._refresh[config.refresh_token.get_secret_value()] = _Grant(
            clock.monotonic() + config.refresh_token_days * 86_400
        )

    def authorize(self, challenge: str) -> str:
        """A code for the OA admin's consent (the permission page's redirect carries it)."""
        code = "code-" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                self.clock.monotonic() + self.config.code_seconds, challenge=challenge
            )
        return code

    def exchange(self, secret_key: str, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint: a new token pair, or `TokenRefusedError`."""
        config = self.config
        if form.get("app_id") != config.app_id or not hmac.compare_digest(
            secret_key, config.app_secret.get_secret_value()
        ):
            raise TokenRefusedError(BAD_CLIENT, "Invalid app", "app_id or secret_key is invalid")
        grant = form.get("grant_type")
        now = self.clock.monotonic()
        with self._lock:
            if grant == "authorization_code":
                found = self._codes.get(form.get("code", ""))
                if found is None or found.used or found.expires_at <= now:
                    raise TokenRefusedError(BAD_GRANT, "Invalid code", "code is invalid or expired")
                found.used = True  # single use, even when the verifier is wrong
                if challenge_of(form.get("code_verifier", "")) != found.challenge:
                    raise TokenRefusedError(
                        BAD_VERIFIER, "Invalid code verifier", "PKCE check failed"
                    )
            elif grant == "refresh_token":
                found = self._refresh.get(form.get("refresh_token", ""))
                if found is None or found.used or found.expires_at <= now:
                    raise TokenRefusedError(
                        BAD_GRANT, "Invalid refresh token", "refresh token is invalid or expired"
                    )
                found.used = True  # rotating: this refresh token is spent
            else:
                raise TokenRefusedError(BAD_GRANT, "Invalid grant type", "unsupported grant_type")
            access = "oa-access-" + secrets.token_urlsafe(32)
            refresh = "oa-refresh-" + secrets.token_urlsafe(32)
            self._access[access] = now + config.access_token_seconds
            self._refresh[refresh] = _Grant(now + config.refresh_token_days * 86_400)
            self.issued += 1
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": str(config.access_token_seconds),  # a string, as Zalo sends it
        }

    def valid(self, token: str) -> bool:
        with self._lock:
            expires = self._access.get(token)
        return expires is not None and expires > self.clock.monotonic()

    def expire_all(self) -> None:
        """Every access token stops working (a client must refresh)."""
        with self._lock:
            self._access = dict.fromkeys(self._access, 0.0)

    def grant_access(self, token: str) -> None:
        """Accept `token` as an access token (the harness's static-token clients)."""
        with self._lock:
            self._access[token] = self.clock.monotonic() + self.config.access_token_seconds
