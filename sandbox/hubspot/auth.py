"""Bearer tokens: static private-app tokens and OAuth tokens with expiry and refresh.

401 bodies follow docs/crm-api-facts.md §3.1: ``INVALID_AUTHENTICATION`` for missing or unknown
tokens, ``EXPIRED_AUTHENTICATION`` ("The OAuth token used to make this call expired N second(s)
ago.") for expired ones; a token without the scope of a resource gets 403 ``MISSING_SCOPES``.
Token expiry reads the sandbox clock, so a test moves time instead of sleeping.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.core.clock import SandboxClock
from sandbox.hubspot.config import HubSpotConfig
from sandbox.hubspot.errors import HubSpotError

AUTH_CODE_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Grant:
    """Who a token belongs to: its scopes (None = all) and expiry (None = never)."""

    scopes: frozenset[str] | None
    expires_at: datetime | None
    oauth: bool


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """The answer of the token endpoint (tokens kept out of the repr)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


class OAuthError(Exception):
    """An OAuth endpoint failure: HubSpot answers 400 with its own ``status`` code names."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TokenRegistry:
    """Known tokens of the portal; thread-safe. Tokens never appear in its repr."""

    def __repr__(self) -> str:
        with self._lock:
            return f"TokenRegistry({len(self._tokens)} access, {len(self._refresh)} refresh tokens)"

    def __init__(self, config: HubSpotConfig, clock: SandboxClock) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, Grant] = {}
        self._refresh: dict[str, frozenset[str] | None] = {}
        self._codes: dict[str, tuple[str, datetime, frozenset[str] | None]] = {}
        self.reset()

    def reset(self) -> None:
        """Only the configured static tokens remain."""
        with self._lock:
            self._tokens = {
                self._config.access_token.get_secret_value(): Grant(None, None, oauth=False)
            }
            for extra in self._config.extra_tokens:
                scopes = None if extra.scopes is None else frozenset(extra.scopes)
                self._tokens[extra.token.get_secret_value()] = Grant(scopes, None, oauth=False)
            self._refresh.clear()
            self._codes.clear()

    def authenticate(self, header: str | None) -> Grant:
        """The grant of an ``Authorization: Bearer`` header; raises a 401 HubSpotError."""
        if not header or not header.lower().startswith("bearer "):
            raise HubSpotError(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        token = header[7:].strip()
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None:
            raise HubSpotError(
                401,
                "INVALID_AUTHENTICATION",
                "The OAuth token used to make this call is invalid or could not be found.",
            )
        if grant.expires_at is not None:
            late = (self._clock.now() - grant.expires_at).total_seconds()
            if late >= 0:
                raise expired_error(late)
        return grant

    def describe(self, token: str) -> Grant | None:
        """The grant of a token, or None when unknown (``/oauth/v1/access-tokens/{token}``)."""
        with self._lock:
            return self._tokens.get(token)

    def expire_all(self) -> None:
        """Make every OAuth access token expire now (the ``expired_token`` fault's effect)."""
        now = self._clock.now()
        with self._lock:
            for token, grant in list(self._tokens.items()):
                if grant.oauth:
                    self._tokens[token] = Grant(grant.scopes, now, oauth=True)

    # ---- OAuth -------------------------------------------------------------------------

    def authorize(self, client_id: str, scopes: frozenset[str] | None) -> str:
        """Issue a one-use authorization code (the sandbox consents on the user's behalf)."""
        self._check_client(client_id, None)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (client_id, self._clock.now(), scopes)
        return code

    def exchange(self, form: dict[str, str]) -> IssuedTokens:
        """Serve ``POST /oauth/v1/token`` for the two grant types HubSpot supports."""
        grant_type = form.get("grant_type", "")
        self._check_client(form.get("client_id", ""), form.get("client_secret", ""))
        if grant_type == "authorization_code":
            with self._lock:
                found = self._codes.pop(form.get("code", ""), None)
            if found is None:
                raise OAuthError("BAD_AUTH_CODE", "missing or unknown auth code")
            _client, issued_at, scopes = found
            if self._clock.now() - issued_at > timedelta(seconds=AUTH_CODE_SECONDS):
                # The error behind hubspot-api-python issue #115 (docs/crm-api-facts.md §5).
                raise OAuthError("EXPIRED_AUTH_CODE", "auth code is expired")
            refresh = secrets.token_urlsafe(32)
            with self._lock:
                self._refresh[refresh] = scopes
            return self._issue(refresh, scopes)
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            with self._lock:
                known = refresh in self._refresh
                scopes = self._refresh.get(refresh)
            if not known:
                raise OAuthError("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
            return self._issue(refresh, scopes)
        raise OAuthError("BAD_GRANT_TYPE", f"grant_type {grant_type!r} is not supported")

    def add_refresh_token(self, refresh: str, scopes: frozenset[str] | None = None) -> None:
        """Register a refresh token (tests and ``serve`` hand one out instead of a browser flow)."""
        with self._lock:
            self._refresh[refresh] = scopes

    def refresh_scopes(self, refresh: str) -> tuple[bool, frozenset[str] | None]:
        """Whether a refresh token is known, and its scopes."""
        with self._lock:
            return refresh in self._refresh, self._refresh.get(refresh)

    def revoke_refresh_token(self, refresh: str) -> bool:
        """Forget a refresh token (an app uninstall); whether it was known."""
        with self._lock:
            if refresh not in self._refresh:
                return False
            del self._refresh[refresh]
            return True

    def revoke(self, token: str) -> bool:
        """Forget an OAuth access or refresh token (``POST /oauth/2026-03/token/revoke``);
        whether it was known. Static private-app tokens cannot be revoked this way."""
        with self._lock:
            grant = self._tokens.get(token)
            if grant is not None and grant.oauth:
                del self._tokens[token]
                return True
            return self._refresh.pop(token, False) is not False

    def _issue(self, refresh: str, scopes: frozenset[str] | None) -> IssuedTokens:
        seconds = self._config.oauth.access_token_seconds
        # Real tokens are long and opaque; allow ~300 chars in clients (docs/crm-api-facts.md §3.1).
        token = "CO" + secrets.token_urlsafe(96)
        expires = self._clock.now() + timedelta(seconds=seconds)
        with self._lock:
            self._tokens[token] = Grant(scopes, expires, oauth=True)
        return IssuedTokens(token, refresh, seconds)

    def check_client(self, client_id: str, client_secret: str | None) -> None:
        """OAuthError unless `client_id` (and `client_secret`, when given) are the app's."""
        self._check_client(client_id, client_secret)

    def _check_client(self, client_id: str, client_secret: str | None) -> None:
        app = self._config.oauth
        if not hmac.compare_digest(client_id.encode(), app.client_id.encode()):
            raise OAuthError("BAD_CLIENT_ID", "missing or unknown client id")
        if client_secret is not None and not hmac.compare_digest(
            client_secret.encode(), app.client_secret.get_secret_value().encode()
        ):
            raise OAuthError("BAD_CLIENT_SECRET", "missing or invalid client secret")


def expired_error(late_seconds: float) -> HubSpotError:
    """401 ``EXPIRED_AUTHENTICATION`` with HubSpot's message."""
    late = max(1, math.ceil(late_seconds))
    return HubSpotError(
        401,
        "EXPIRED_AUTHENTICATION",
        f"The OAuth token used to make this call expired {late} second(s) ago.",
    )


def require_scope(grant: Grant, scope: str) -> None:
    """403 ``MISSING_SCOPES`` unless the grant holds ``scope``."""
    if grant.scopes is None or scope in grant.scopes:
        return
    raise HubSpotError(
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. "
        "Read more about required scopes here: https://developers.hubspot.com/scopes.",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredScopes": [scope]},
            }
        ],
        context={"requiredScopes": [scope]},
    )
