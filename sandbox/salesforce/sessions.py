"""Access tokens and refresh tokens the emulator issued, with expiry on the sandbox clock.

Salesforce's token responses carry no `expires_in` (docs/crm-api-facts.md §2.1): a session simply
stops working, and the next call gets 401 `INVALID_SESSION_ID`. The lifetime is configurable so a
test can expire a session by advancing the sandbox clock.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.core.clock import SandboxClock
from sandbox.salesforce.errors import invalid_session


@dataclass(frozen=True, slots=True)
class Session:
    """One issued access token; the token itself is left out of the repr (it is a secret)."""

    token: str = field(repr=False)
    user_id: str
    issued_at: datetime
    expires_at: datetime


class SessionRegistry:
    """Issues, validates, refreshes and revokes tokens; thread-safe."""

    def __init__(self, clock: SandboxClock, org_id: str, lifetime_seconds: float) -> None:
        self._clock = clock
        self._org_id = org_id
        self.lifetime_seconds = lifetime_seconds
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> user id

    def issue(self, user_id: str, lifetime_seconds: float | None = None) -> Session:
        """A new access token for `user_id` (Salesforce tokens start with the org id + '!')."""
        now = self._clock.now()
        lifetime = self.lifetime_seconds if lifetime_seconds is None else lifetime_seconds
        session = Session(
            token=f"{self._org_id[:15]}!{secrets.token_urlsafe(72)}",
            user_id=user_id,
            issued_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        with self._lock:
            self._sessions[session.token] = session
        return session

    def issue_refresh_token(self, user_id: str) -> str:
        """A refresh token for the web-server flow (minted by the admin API / CLI)."""
        token = f"5Aep{secrets.token_urlsafe(64)}"
        with self._lock:
            self._refresh[token] = user_id
        return token

    def user_for_refresh_token(self, token: str) -> str | None:
        """The user a refresh token belongs to, or None when unknown/revoked."""
        with self._lock:
            return self._refresh.get(token)

    def validate(self, authorization: str | None) -> Session:
        """The session of an `Authorization: Bearer …` header; raises INVALID_SESSION_ID."""
        if not authorization:
            raise invalid_session()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            raise invalid_session()
        with self._lock:
            session = self._sessions.get(token.strip())
        if session is None or self._clock.now() >= session.expires_at:
            raise invalid_session()
        return session

    def revoke(self, token: str) -> bool:
        """Forget an access or refresh token; True when it existed."""
        with self._lock:
            found = self._sessions.pop(token, None) is not None
            return self._refresh.pop(token, None) is not None or found

    def expire_all(self) -> int:
        """Invalidate every access token (refresh tokens stay); returns how many."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count
