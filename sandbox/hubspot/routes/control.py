"""HubSpot-specific sandbox controls under ``/__sandbox/hubspot`` (next to the shared admin API).

Search lag and rate limits, webhook delivery (target, duplication, reordering, flush, delivery
log), the daily quota,
OAuth token expiry and refresh-token issue, so tests drive every HubSpot behaviour over HTTP.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from sandbox.core.state import ADMIN_PREFIX
from sandbox.hubspot.config import RateLimits
from sandbox.hubspot.emulator import HubSpotEmulator


class WebhookChange(BaseModel):
    """Fields of the webhook settings to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    target_url: str | None = None
    subscriptions: list[str] | None = None
    duplicate_rate: float | None = Field(default=None, ge=0, le=1)
    reorder: bool | None = None
    max_batch: int | None = Field(default=None, ge=1, le=100)
    linger_seconds: float | None = Field(default=None, ge=0)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    retry_base_seconds: float | None = Field(default=None, ge=0)
    seed: int | None = None


class PortalSettings(BaseModel):
    """Run-time portal behaviour: the search index lag and the rate limits."""

    model_config = ConfigDict(extra="forbid")

    search_lag_seconds: float | None = Field(default=None, ge=0)
    rate_limits: RateLimits | None = None


class QuotaSpend(BaseModel):
    """Use up this many requests of today's budget."""

    spend: int = Field(ge=0)


def build_router(emu: HubSpotEmulator) -> APIRouter:
    """The control routes bound to one emulated portal."""
    router = APIRouter(prefix=f"{ADMIN_PREFIX}/hubspot", tags=["sandbox admin"])

    def webhook_state() -> dict[str, Any]:
        settings = emu.webhooks.settings
        return {
            "settings": settings.model_dump(mode="json", exclude={"client_secret"}),
            "pending": emu.webhooks.pending(),
            "deliveries": [d.to_json() for d in emu.webhooks.deliveries()],
        }

    def settings_state() -> dict[str, Any]:
        return {
            "search_lag_seconds": emu.objects.search_lag.total_seconds(),
            "rate_limits": emu.limiter.limits.model_dump(mode="json"),
        }

    @router.get("/settings")
    async def get_settings() -> dict[str, Any]:
        return settings_state()

    @router.put("/settings")
    async def put_settings(change: PortalSettings) -> dict[str, Any]:
        if change.search_lag_seconds is not None:
            emu.objects.search_lag = timedelta(seconds=change.search_lag_seconds)
        if change.rate_limits is not None:
            emu.limiter.configure(change.rate_limits)
        return settings_state()

    @router.get("/webhooks")
    async def get_webhooks() -> dict[str, Any]:
        return webhook_state()

    @router.put("/webhooks")
    async def put_webhooks(change: WebhookChange) -> dict[str, Any]:
        emu.webhooks.configure(**change.model_dump(exclude_none=True))
        return webhook_state()

    @router.post("/webhooks/flush")
    def flush(timeout: float = 10.0) -> dict[str, Any]:
        done = emu.webhooks.flush(min(timeout, 60.0))
        return {"flushed": done, **webhook_state()}

    @router.post("/quota")
    async def spend_quota(body: QuotaSpend) -> dict[str, Any]:
        emu.limiter.spend_daily(body.spend)
        return {"spent": body.spend}

    @router.post("/tokens/expire")
    async def expire_tokens() -> dict[str, str]:
        emu.tokens.expire_all()
        return {"status": "expired"}

    @router.post("/oauth/refresh-token")
    async def issue_refresh_token() -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        emu.tokens.add_refresh_token(token)
        return {
            "refresh_token": token,
            "client_id": emu.config.oauth.client_id,
            "token_endpoint": "/oauth/2026-03/token",
        }

    return router
