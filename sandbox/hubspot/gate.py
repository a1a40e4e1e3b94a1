"""The HubSpot front door: bearer authentication and rate limits before any route runs.

Pure ASGI (no body buffering) because it sits on every request of the read benchmark. The
grant of the caller goes into the scope for routes that check scopes; the rate-limit headers are
added to whatever the route answers.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.core.state import ADMIN_PREFIX
from sandbox.hubspot.auth import Grant, TokenRegistry
from sandbox.hubspot.errors import HubSpotError
from sandbox.hubspot.ratelimit import RateLimiter

GRANT_SCOPE_KEY = "cem.hubspot.grant"
# Paths answered without a bearer token: the OAuth endpoints and the sandbox's own controls.
_OPEN_PREFIXES = (ADMIN_PREFIX, "/oauth/")


def is_search(method: str, path: str) -> bool:
    """Whether a request counts against the separate search limit."""
    return method == "POST" and path.endswith("/search")


class HubSpotGate:
    """Authenticate, rate-limit, then pass the request on with the limit headers added."""

    def __init__(self, app: ASGIApp, tokens: TokenRegistry, limiter: RateLimiter) -> None:
        self.app = app
        self.tokens = tokens
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        try:
            grant: Grant = self.tokens.authenticate(Headers(scope=scope).get("authorization"))
            extra = self.limiter.admit(
                search=is_search(scope["method"], scope["path"]), static_token=not grant.oauth
            )
        except HubSpotError as error:
            await error.response()(scope, receive, send)
            return
        scope[GRANT_SCOPE_KEY] = grant
        if not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
