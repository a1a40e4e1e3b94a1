"""Job kinds for the task-queue tests, importable by the test and by its worker processes."""

from __future__ import annotations

import time
from typing import Any

from service.jobs import JobContext, JobRegistry

STEPS = "steps"


def steps(ctx: JobContext, params: dict[str, Any]) -> None:
    """`n` steps of `sleep` seconds; each saves the step count and the checkpoint together, so a
    resumed run goes on where the last saved step left it, counting no step twice."""
    for done in range(int(ctx.checkpoint.get("done", 0)), int(params["n"])):
        time.sleep(float(params.get("sleep", 0.0)))
        ctx.progress(checkpoint={"done": done + 1}, steps=1)
        ctx.check_cancelled()


def registry() -> JobRegistry:
    kinds = JobRegistry()
    kinds.register(STEPS, steps)
    return kinds
