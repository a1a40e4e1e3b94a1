"""OAuth 2.0 for the emulated portal: authorize (auto-consent), tokens, introspection, revoke.

The date-versioned API (HubSpot's "2026-03" OAuth endpoints, docs/crm-api-facts.md §3.1 and
HubSpot's v1 migration guide): ``POST /oauth/2026-03/token``, ``…/token/introspect`` and
``…/token/revoke``, every parameter in the form-encoded body, errors as RFC 6749 §5.2 bodies
(``error``, ``error_description``) that keep HubSpot's older ``status`` / ``message`` fields
beside them, as HubSpot's changelog shows. Introspection answers RFC 7662 style (``active``;
an unknown or expired token is ``{"active": false}``); revoke answers 200 for any token, as
RFC 7009 asks.

The v1 endpoints (``POST /oauth/v1/token``, ``GET /oauth/v1/access-tokens/{t}``,
``GET|DELETE /oauth/v1/refresh-tokens/{t}``) work for older clients until HubSpot retires them
on 2027-02-16, read on the sandbox clock; they carry ``Deprecation`` and ``Sunset`` headers
until then. From that instant they answer 410 Gone with an RFC 6749-shaped body naming the
replacement. HubSpot has not said what the retired endpoints will answer (its guide says only
that apps will fail to authenticate); 410 is this sandbox's choice, so a client still on v1
fails loudly in tests before it fails in production.

Access tokens live 1800 s on the sandbox clock. v1 errors are 400 with HubSpot's ``status``
codes (``BAD_REFRESH_TOKEN``, ``EXPIRED_AUTH_CODE`` ...; names beyond EXPIRED_AUTH_CODE are
unverified).
"""

from __future__ import annotations

import inspect
import math
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sandbox.hubspot.auth import IssuedTokens, OAuthError
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import json_response, not_found, validation_error

V1_RETIRED_AT = datetime(2027, 2, 16, tzinfo=UTC)
V1_SUNSET_HTTP_DATE = "Tue, 16 Feb 2027 00:00:00 GMT"
MIGRATION_GUIDE = (
    "https://developers.hubspot.com/docs/api-reference/legacy/authentication/oauth-tokens/"
    "v1/migration-guide"
)


def build_router(emu: HubSpotEmulator) -> APIRouter:
    """The OAuth routes bound to one emulated portal."""
    router = APIRouter()

    @router.get("/oauth/authorize")
    async def authorize(request: Request) -> Response:
        params = request.query_params
        redirect = params.get("redirect_uri")
        if not redirect:
            raise validation_error("redirect_uri is required")
        scopes = frozenset(params.get("scope", "").split()) or None
        try:
            code = emu.tokens.authorize(params.get("client_id", ""), scopes)
        except OAuthError as error:
            return _oauth_error(error)
        query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        separator = "&" if "?" in redirect else "?"
        return RedirectResponse(f"{redirect}{separator}{urlencode(query)}", status_code=302)

    def v1(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        """Serve a v1 endpoint until the retirement date, with Deprecation/Sunset headers."""

        async def wrapped(*args: object, **kwargs: object) -> Response:
            if emu.sandbox.clock.now() >= V1_RETIRED_AT:
                return _v1_retired()
            answer = await handler(*args, **kwargs)
            answer.headers["Deprecation"] = "true"
            answer.headers["Sunset"] = V1_SUNSET_HTTP_DATE
            answer.headers["Link"] = f'<{MIGRATION_GUIDE}>; rel="deprecation"'
            return answer

        wrapped.__name__ = handler.__name__
        wrapped.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
        return wrapped

    @router.post("/oauth/2026-03/token")
    async def token_2026(request: Request) -> Response:
        form = await _form(request)
        try:
            issued = emu.tokens.exchange(form)
        except OAuthError as error:
            return _rfc6749_error(error)
        return json_response({**_token_body(issued), "hub_id": emu.config.portal_id})

    async def token_form(request: Request) -> str | Response:
        """The `token` of an introspect or revoke call from an authenticated client, or the
        RFC 6749 error to answer with."""
        form = await _form(request)
        try:
            emu.tokens.check_client(form.get("client_id", ""), form.get("client_secret", ""))
        except OAuthError as error:
            return _rfc6749_error(error)
        token = form.get("token", "")
        if not token:
            return _rfc6749_error(OAuthError("BAD_REQUEST", "token is required"))
        return token

    @router.post("/oauth/2026-03/token/introspect")
    async def introspect(request: Request) -> Response:
        checked = await token_form(request)
        if isinstance(checked, Response):
            return checked
        token = checked
        base = {
            "active": True,
            "token": token,
            "hub_id": emu.config.portal_id,
            "client_id": emu.config.oauth.client_id,
            "app_id": emu.config.webhooks.app_id,
            "hub_domain": f"sandbox-{emu.config.portal_id}.hubspot.local",
        }
        grant = emu.tokens.describe(token)
        now = emu.sandbox.clock.now()
        if grant is not None and grant.oauth and grant.expires_at is not None:
            left = (grant.expires_at - now).total_seconds()
            if left > 0:
                return json_response(
                    {
                        **base,
                        "token_use": "access_token",
                        "token_type": "access",
                        "scopes": sorted(grant.scopes or ()),
                        "expires_in": math.floor(left),
                    }
                )
        known, scopes = emu.tokens.refresh_scopes(token)
        if known:
            return json_response(
                {
                    **base,
                    "token_use": "refresh_token",
                    "token_type": "refresh",
                    "scopes": sorted(scopes or ()),
                }
            )
        return json_response({"active": False})

    @router.post("/oauth/2026-03/token/revoke")
    async def revoke(request: Request) -> Response:
        checked = await token_form(request)
        if isinstance(checked, Response):
            return checked
        emu.tokens.revoke(checked)  # RFC 7009 §2.2: 200 for an unknown token too
        return Response(status_code=200)

    @router.post("/oauth/v1/token")
    @v1
    async def token(request: Request) -> Response:
        form = await _form(request)
        try:
            issued = emu.tokens.exchange(form)
        except OAuthError as error:
            return _oauth_error(error)
        return json_response(_token_body(issued))

    @router.get("/oauth/v1/access-tokens/{token}")
    @v1
    async def token_info(token: str) -> Response:
        grant = emu.tokens.describe(token)
        if grant is None or not grant.oauth or grant.expires_at is None:
            raise not_found("The access token was not found or is not an OAuth token")
        left = (grant.expires_at - emu.sandbox.clock.now()).total_seconds()
        return json_response(
            {
                "token": token,
                "hub_id": emu.config.portal_id,
                "app_id": emu.config.webhooks.app_id,
                "scopes": sorted(grant.scopes or ()),
                "token_type": "access",
                "expires_in": max(0, math.floor(left)),
                "hub_domain": f"sandbox-{emu.config.portal_id}.hubspot.local",
            }
        )

    @router.get("/oauth/v1/refresh-tokens/{token}")
    @v1
    async def refresh_token_info(token: str) -> Response:
        known, scopes = emu.tokens.refresh_scopes(token)
        if not known:
            raise not_found("The refresh token was not found")
        return json_response(
            {
                "token": token,
                "hub_id": emu.config.portal_id,
                "client_id": emu.config.oauth.client_id,
                "scopes": sorted(scopes or ()),
                "token_type": "refresh",
            }
        )

    @router.delete("/oauth/v1/refresh-tokens/{token}")
    @v1
    async def revoke_refresh_token(token: str) -> Response:
        if not emu.tokens.revoke_refresh_token(token):
            raise not_found("The refresh token was not found")
        return Response(status_code=204)

    return router


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(raw, keep_blank_values=True))


def _token_body(issued: IssuedTokens) -> dict[str, object]:
    return {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_in": issued.expires_in,
        "token_type": "bearer",
    }


# HubSpot's OAuth status codes and the RFC 6749 §5.2 error each one is.
_RFC6749 = {
    "BAD_AUTH_CODE": "invalid_grant",
    "EXPIRED_AUTH_CODE": "invalid_grant",
    "BAD_REFRESH_TOKEN": "invalid_grant",
    "BAD_CLIENT_ID": "invalid_client",
    "BAD_CLIENT_SECRET": "invalid_client",
    "BAD_GRANT_TYPE": "unsupported_grant_type",
}


def _rfc6749_error(error: OAuthError) -> Response:
    """400 with RFC 6749's fields, and HubSpot's own kept beside them (its changelog)."""
    return json_response(
        {
            "error": _RFC6749.get(error.status, "invalid_request"),
            "error_description": error.message,
            "status": error.status,
            "message": error.message,
            "correlationId": str(uuid.uuid4()),
        },
        400,
    )


def _v1_retired() -> Response:
    message = (
        "The v1 OAuth API was retired on 2027-02-16; use POST /oauth/2026-03/token, "
        f"…/token/introspect and …/token/revoke ({MIGRATION_GUIDE})"
    )
    return json_response(
        {
            "error": "invalid_request",
            "error_description": message,
            "status": "GONE",
            "message": message,
            "correlationId": str(uuid.uuid4()),
        },
        410,
    )


def _oauth_error(error: OAuthError) -> Response:
    return json_response(
        {"status": error.status, "message": error.message, "correlationId": str(uuid.uuid4())},
        400,
    )
