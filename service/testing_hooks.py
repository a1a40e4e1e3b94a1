"""Hooks for the fault and crash suites (tests/faults/); inert unless their variables are set.

Two environment variables, read once per process (the suites start the service as a fresh
process for each run, so reading once is enough and costs nothing per call):

* `CEM_TESTING_CRASH_AT=<point>[:<n>]` makes the process SIGKILL itself the `n`-th time (default
  the first) it reaches the named crash point. The points sit where no signal sent from outside
  could reliably land: `after_crm_write` (the CRM confirmed a field upsert, our push ledger does
  not know yet) and `after_task_write` (the CRM created tasks, our task ledger does not know yet).
* `CEM_TESTING_AS_OF=<ISO 8601 instant>` fixes the instant the sync and churn-train jobs score
  at, so a run that was killed and resumed can be compared field by field with a clean run made
  minutes apart. The composition root asks `scoring_clock` which clock those jobs get.

Neither is a setting: they are not in `Settings`, not documented for operators, and do nothing
when absent. The names say "testing" so they are never mistaken for configuration.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from datetime import datetime
from functools import cache

from service.clock import FixedClock
from service.ports import Clock

CRASH_VARIABLE = "CEM_TESTING_CRASH_AT"
AS_OF_VARIABLE = "CEM_TESTING_AS_OF"
CRASH_POINTS = ("after_crm_write", "after_task_write")

_reached: Counter[str] = Counter()
_lock = threading.Lock()


@cache
def _crash_plan() -> tuple[str, int] | None:
    spec = os.environ.get(CRASH_VARIABLE, "").strip()
    if not spec:
        return None
    point, _, nth = spec.partition(":")
    if point not in CRASH_POINTS:
        raise ValueError(f"{CRASH_VARIABLE}: unknown crash point {point!r} ({CRASH_POINTS})")
    return point, int(nth) if nth else 1


def crash_point(name: str) -> None:
    """Kill this process (SIGKILL: no cleanup, no flush) when the suite asked to crash here."""
    plan = _crash_plan()
    if plan is None or plan[0] != name:
        return
    with _lock:
        _reached[name] += 1
        if _reached[name] == plan[1]:
            os.kill(os.getpid(), signal.SIGKILL)


def scoring_clock(default: Clock) -> Clock:
    """The clock the jobs score by: a fixed one at `CEM_TESTING_AS_OF` when a suite set it,
    else `default`. Only the scoring instant is fixed: leases, heartbeats and schedules keep
    the real time, or a fixed clock would make every running job look stale or never due."""
    value = os.environ.get(AS_OF_VARIABLE, "").strip()
    return FixedClock(datetime.fromisoformat(value)) if value else default
