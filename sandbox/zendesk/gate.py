"""Authentication and rate limits in front of the API routes (pure ASGI).

API token: Basic `{email}/token:{token}` for an agent or admin of the account (an end user's
e-mail with the token is a 403); OAuth: `Bearer <token>` (docs/zendesk.md "Auth"). Every answer
carries `X-Rate-Limit` / `X-Rate-Limit-Remaining`; a request past the account's minute or the
incremental exports' 10 a minute is a 429 with `Retry-After`.
"""

from __future__ import annotations

import base64
import binascii

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.zendesk.errors import ZendeskError, rate_limited, unauthenticated
from sandbox.zendesk.ratelimit import Limiter
from sandbox.zendesk.store import ZendeskStore

API = "/api/v2"


def is_incremental(path: str) -> bool:
    return path.startswith(f"{API}/incremental/")


class ZendeskGate:
    def __init__(
        self,
        app: ASGIApp,
        *,
        store: ZendeskStore,
        limiter: Limiter,
        token: str,
        oauth: str,
        admin_email: str,
    ) -> None:
        self.app = app
        self.admin_email = admin_email.lower()
        self.store = store
        self.limiter = limiter
        self.token = token
        self.oauth = oauth

    def _check(self, authorization: str) -> ZendeskError | None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return None if value == self.oauth else unauthenticated()
        if scheme.lower() != "basic":
            return unauthenticated()
        try:
            user, _, secret = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return unauthenticated()
        email, _, kind = user.partition("/")
        if kind != "token" or secret != self.token:
            return unauthenticated()
        with self.store.lock:
            roles = {
                u["role"]
                for u in self.store.users.rows.values()
                if u.get("email") == email.lower() and u.get("active")
            }
        if roles & {"agent", "admin"} or email.lower() == self.admin_email:
            return None
        return ZendeskError(
            403,
            "Forbidden",
            "You do not have access to this page. Please contact the account owner.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        refused = self._check(headers.get("authorization", ""))
        if refused is not None:
            await refused.response()(scope, receive, send)
            return
        wait, left = self.limiter.admit(is_incremental(path))
        stated = [
            (b"x-rate-limit", str(self.limiter.limits.per_minute).encode()),
            (b"x-rate-limit-remaining", str(left).encode()),
        ]
        if wait is not None:
            response = rate_limited(wait)
            response.headers["X-Rate-Limit"] = str(self.limiter.limits.per_minute)
            response.headers["X-Rate-Limit-Remaining"] = "0"
            await response(scope, receive, send)
            return

        async def stating(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *stated]}
            await send(message)

        await self.app(scope, receive, stating)
