"""OAuth 2.0 for the emulated portal: authorize (auto-consent), token, token metadata.

``POST /oauth/v1/token`` is form-encoded (crm-api-facts §3.1) and answers
``{access_token, refresh_token, expires_in, token_type}``; access tokens live 1800 s on the
sandbox clock. Errors are 400 with HubSpot's OAuth ``status`` codes (``BAD_REFRESH_TOKEN``,
``EXPIRED_AUTH_CODE`` ...; the names beyond EXPIRED_AUTH_CODE are unverified).
"""

from __future__ import annotations

import math
import uuid
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sandbox.hubspot.auth import OAuthError
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import json_response, not_found, validation_error


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

    @router.post("/oauth/v1/token")
    async def token(request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = dict(parse_qsl(raw, keep_blank_values=True))
        try:
            issued = emu.tokens.exchange(form)
        except OAuthError as error:
            return _oauth_error(error)
        return json_response(
            {
                "access_token": issued.access_token,
                "refresh_token": issued.refresh_token,
                "expires_in": issued.expires_in,
                "token_type": "bearer",
            }
        )

    @router.get("/oauth/v1/access-tokens/{token}")
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
    async def revoke_refresh_token(token: str) -> Response:
        if not emu.tokens.revoke_refresh_token(token):
            raise not_found("The refresh token was not found")
        return Response(status_code=204)

    return router


def _oauth_error(error: OAuthError) -> Response:
    return json_response(
        {"status": error.status, "message": error.message, "correlationId": str(uuid.uuid4())},
        400,
    )
