"""Job runner configuration, nested in the service settings as `CEM_JOBS__…`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class JobSettings(BaseModel):
    """How the in-process runner polls, beats and recovers (reads nothing from the environment)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Run jobs in this process (off: API only).")
    workers: Annotated[int, Field(ge=1, le=64)] = 2
    poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    heartbeat_seconds: Annotated[float, Field(gt=0)] = 5.0
    # A running job whose heartbeat is older than this is presumed dead (crash, kill -9, lost
    # replica) and re-queued; it must comfortably exceed heartbeat_seconds.
    stale_after_seconds: Annotated[float, Field(gt=0)] = 60.0
    max_attempts: Annotated[int, Field(ge=1)] = 3
    # Counters alone are flushed at most this often; a checkpoint is always written at once.
    progress_flush_seconds: Annotated[float, Field(ge=0)] = 1.0
    shutdown_grace_seconds: Annotated[float, Field(ge=0)] = 10.0
