"""Zendesk-specific sandbox controls under `/__sandbox/zendesk` (beside the shared admin API):
limits and export behaviour, webhook delivery (send an event now, flush, the delivery log), the
generator's ground truth."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from sandbox.core.state import ADMIN_PREFIX
from sandbox.zendesk.config import Exports, RateLimits
from sandbox.zendesk.emulator import ZendeskEmulator
from sandbox.zendesk.errors import not_found


class AccountSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_limits: RateLimits | None = None
    exports: Exports | None = None


class SendEvent(BaseModel):
    """Make the account emit an event for a ticket, as if staff or the customer acted."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern="^(created|comment_added|rating)$")
    ticket_id: int
    comment_id: int | None = None


def build_router(emu: ZendeskEmulator) -> APIRouter:
    router = APIRouter(prefix=f"{ADMIN_PREFIX}/zendesk", tags=["sandbox admin"])

    def settings_state() -> dict[str, Any]:
        return {
            "rate_limits": emu.limiter.limits.model_dump(mode="json"),
            "exports": emu.exports.model_dump(mode="json"),
        }

    def webhook_state() -> dict[str, Any]:
        return {
            "settings": emu.webhooks.settings.model_dump(mode="json", exclude={"signing_secret"}),
            "pending": emu.webhooks.pending(),
            "deliveries": [d.to_json() for d in emu.webhooks.deliveries()],
        }

    @router.get("/settings")
    async def get_settings() -> dict[str, Any]:
        return settings_state()

    @router.put("/settings")
    async def put_settings(change: AccountSettings) -> dict[str, Any]:
        if change.rate_limits is not None:
            emu.limiter.configure(change.rate_limits)
        if change.exports is not None:
            emu.exports = change.exports
        return settings_state()

    @router.get("/webhooks")
    async def get_webhooks() -> dict[str, Any]:
        return webhook_state()

    @router.post("/webhooks/send")
    async def send(event: SendEvent) -> dict[str, Any]:
        store = emu.store
        with store.lock:
            ticket = store.tickets.get(event.ticket_id)
            if ticket is None:
                raise not_found()
            extra: dict[str, Any] = {}
            if event.kind == "comment_added":
                comments = store.comments.get(event.ticket_id) or []
                chosen = next(
                    (c for c in comments if c["id"] == event.comment_id),
                    comments[-1] if comments else None,
                )
                if chosen is not None:
                    extra = {
                        "comment": {
                            "id": str(chosen["id"]),
                            "author": {"id": str(chosen["author_id"])},
                            "is_public": chosen["public"],
                        }
                    }
            elif event.kind == "rating":
                rating = ticket.get("satisfaction_rating") or {}
                extra = {
                    "satisfaction_rating": {
                        "id": str(rating.get("id")),
                        "score": rating.get("score"),
                    }
                }
            snapshot = dict(ticket)
        store.emit(event.kind, snapshot, extra)
        return webhook_state()

    @router.post("/webhooks/flush")
    def flush(timeout: float = 10.0) -> dict[str, Any]:
        done = emu.webhooks.flush(min(timeout, 60.0))
        return {"flushed": done, **webhook_state()}

    @router.get("/truth")
    async def truth() -> dict[str, Any]:
        return {"persons": emu.truth()}

    return router
