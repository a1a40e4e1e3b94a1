"""Salesforce-specific sandbox controls under `/__sandbox/salesforce/`: the API allocation,
sessions (mint one for the CLI/tests, expire all), and a summary of what is loaded."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from sandbox.core.state import ADMIN_PREFIX
from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.routes.auth import instance_url, token_body


class LimitsChange(BaseModel):
    """New daily maximum and/or spent count."""

    model_config = ConfigDict(extra="forbid")

    daily_max: int | None = Field(default=None, ge=1)
    used: int | None = Field(default=None, ge=0)


class CommitDelayChange(BaseModel):
    """Share of writes whose commit (query visibility) lags, and by how much."""

    model_config = ConfigDict(extra="forbid")

    rate: float = Field(ge=0.0, le=1.0)
    seconds: float = Field(default=2.0, ge=0.0, le=3600.0)
    seed: int = 0


class ChangeEventChange(BaseModel):
    """Fields of the change-event settings to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    target_url: str | None = None
    secret: str | None = Field(default=None, pattern=r"^whsec_[A-Za-z0-9+/=]{16,}$")
    entities: list[str] | None = None
    duplicate_rate: float | None = Field(default=None, ge=0, le=1)
    reorder: bool | None = None
    max_batch: int | None = Field(default=None, ge=1, le=100)
    linger_seconds: float | None = Field(default=None, ge=0)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    retry_base_seconds: float | None = Field(default=None, ge=0)
    seed: int | None = None


class SessionRequest(BaseModel):
    """Options for a minted session."""

    model_config = ConfigDict(extra="forbid")

    lifetime_seconds: float | None = Field(default=None, gt=0)
    with_refresh_token: bool = False


def build_sf_admin_router(emu: SalesforceEmulator) -> APIRouter:
    """Routes for tests and the CLI; never counted, never faulted."""
    router = APIRouter(prefix=f"{ADMIN_PREFIX}/salesforce", tags=["sandbox admin"])

    def limits_json() -> dict[str, Any]:
        used, maximum = emu.limits.usage()
        return {"daily_max": maximum, "used": used}

    @router.get("/limits")
    async def get_limits() -> dict[str, Any]:
        return limits_json()

    @router.put("/limits")
    async def put_limits(change: LimitsChange) -> dict[str, Any]:
        emu.limits.set(daily_max=change.daily_max, used=change.used)
        return limits_json()

    @router.put("/commit-delay")
    async def put_commit_delay(change: CommitDelayChange) -> dict[str, Any]:
        delay = emu.store.commit_delay
        delay.rate, delay.seconds, delay.seed = change.rate, change.seconds, change.seed
        delay.reseed()
        return change.model_dump()

    def change_event_state() -> dict[str, Any]:
        sender = emu.change_events
        return {
            "settings": sender.settings.model_dump(mode="json", exclude={"secret"}),
            "pending": sender.pending(),
            "deliveries": [d.to_json() for d in sender.deliveries()],
        }

    @router.get("/change-events")
    async def get_change_events() -> dict[str, Any]:
        return change_event_state()

    @router.put("/change-events")
    async def put_change_events(change: ChangeEventChange) -> dict[str, Any]:
        emu.change_events.configure(**change.model_dump(exclude_none=True))
        return change_event_state()

    @router.delete("/change-events/target")
    async def stop_change_events() -> dict[str, Any]:
        emu.change_events.configure(target_url=None)
        return change_event_state()

    @router.post("/change-events/flush")
    async def flush_change_events(timeout: float = 10.0) -> dict[str, Any]:
        done = await run_in_threadpool(emu.change_events.flush, min(timeout, 60.0))
        return {"flushed": done, **change_event_state()}

    @router.post("/sessions", status_code=201)
    async def mint_session(request: Request, options: SessionRequest) -> dict[str, Any]:
        session = emu.sessions.issue(emu.integration_user_id, options.lifetime_seconds)
        body = token_body(emu, session, instance_url(request))
        if options.with_refresh_token:
            body["refresh_token"] = emu.sessions.issue_refresh_token(session.user_id)
        return body

    @router.delete("/sessions")
    async def expire_sessions() -> dict[str, int]:
        return {"expired": emu.sessions.expire_all()}

    @router.get("/summary")
    async def summary() -> dict[str, Any]:
        return {
            "org_id": emu.org_id,
            "counts": {o.name: emu.store.count(o) for o in emu.store.schema.objects()},
        }

    return router
