"""The admin API every emulator mounts at `/__sandbox/`: faults, request log, clock, reset.

Tests and benchmarks drive the sandbox through these endpoints over HTTP, the same way whether
the emulator runs in-process or as `cem sandbox serve`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.core.faults import NAMED_PROFILES, FaultProfile, named_profile
from sandbox.core.state import ADMIN_PREFIX, SandboxState


class ClockChange(BaseModel):
    """Exactly one of: freeze at `set`, move by `advance` seconds, `resume` or `reset`."""

    model_config = ConfigDict(extra="forbid")

    set: datetime | None = None
    advance: float | None = Field(default=None, description="seconds; negative goes back")
    resume: bool = False
    reset: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockChange:
        chosen = [self.set is not None, self.advance is not None, self.resume, self.reset]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of: set, advance, resume, reset")
        return self


class BodyCapture(BaseModel):
    """Which write requests' bodies the request log keeps (`path_glob` null: none)."""

    model_config = ConfigDict(extra="forbid")

    path_glob: str | None = Field(default=None, description="fnmatch on the path")


def clock_json(state: SandboxState) -> dict[str, Any]:
    """The clock's reading as JSON."""
    return {"now": state.clock.now().isoformat(), "frozen": state.clock.frozen}


def build_admin_router(state: SandboxState) -> APIRouter:
    """The `/__sandbox` router bound to one emulator's state."""
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["sandbox admin"])

    @router.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness, which CRM this is, and the sandbox time."""
        return {"status": "ok", "crm": state.crm, "now": state.clock.now().isoformat()}

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        """The active fault profile and how many faults of each kind were injected."""
        return {
            "profile": state.faults.profile.model_dump(mode="json"),
            "injected": state.faults.injected(),
            "named_profiles": sorted(NAMED_PROFILES),
        }

    @router.put("/faults")
    async def put_faults(profile: FaultProfile) -> dict[str, Any]:
        """Replace the fault profile (its random sequence restarts from its seed)."""
        state.faults.set_profile(profile)
        return {"profile": profile.model_dump(mode="json")}

    @router.put("/faults/{name}")
    async def put_named_faults(name: str, seed: int = 0) -> dict[str, Any]:
        """Switch to a named profile: none, flaky or hostile."""
        try:
            profile = named_profile(name, seed)
        except KeyError as exc:
            raise HTTPException(status_code=404, detail=str(exc.args[0])) from None
        state.faults.set_profile(profile)
        return {"profile": profile.model_dump(mode="json")}

    @router.get("/requests")
    async def get_requests(
        since: datetime | None = None,
        method: str | None = None,
        path_glob: Annotated[str | None, Query(description="fnmatch on the path")] = None,
        limit: Annotated[int, Query(ge=0, le=100_000)] = 1000,
    ) -> dict[str, Any]:
        """Logged requests (newest `limit`), filtered by time, method and path glob."""
        entries = state.log.entries(since=since, method=method, path_glob=path_glob)
        return {
            "count": len(entries),
            "dropped": state.log.dropped,
            "entries": [e.to_json() for e in entries[-limit:]] if limit else [],
        }

    @router.delete("/requests", status_code=204)
    async def clear_requests() -> None:
        """Empty the request log."""
        state.log.clear()

    @router.put("/requests/capture")
    async def capture_bodies(capture: BodyCapture) -> dict[str, Any]:
        """Keep the bodies of POST/PATCH/PUT requests to matching paths in the log from now on
        (they show as `body` in `GET /requests`); null stops it."""
        state.log.set_capture(capture.path_glob)
        return {"path_glob": state.log.capture}

    @router.get("/clock")
    async def get_clock() -> dict[str, Any]:
        """The sandbox time and whether it is frozen."""
        return clock_json(state)

    @router.post("/clock")
    async def change_clock(change: ClockChange) -> dict[str, Any]:
        """Freeze, move, resume or reset the sandbox clock."""
        if change.set is not None:
            state.clock.set(change.set)
        elif change.advance is not None:
            state.clock.advance(change.advance)
        elif change.resume:
            state.clock.resume()
        else:
            state.clock.reset()
        return clock_json(state)

    @router.post("/reset")
    async def reset(keep_data: bool = False) -> dict[str, Any]:
        """Real time, no faults, empty log, fresh counters; an empty CRM unless keep_data."""
        state.reset(keep_data=keep_data)
        return {"status": "reset", "kept_data": keep_data, **clock_json(state)}

    return router
