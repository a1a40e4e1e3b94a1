"""Scheduled jobs: a sync of each connection every `sync_interval_seconds`.

The schedule is stateless: a job is due when the latest job of its (kind, connection) was
created at least one interval ago (or never). Several replicas may evaluate it at once; the
database's (kind, connection) lock lets only one of their submissions through.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from service.jobs.queue import JobQueue
from service.jobs.registry import CHURN_TRAIN, SYNC, UnknownJobKindError
from service.store.jobs import JobConflictError

if TYPE_CHECKING:
    from adapters.settings import ConnectionSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """Run `kind` for `connection` every `every`."""

    kind: str
    connection: str | None
    every: timedelta
    params: Mapping[str, Any] = field(default_factory=dict)


def sync_schedules(connections: Mapping[str, ConnectionSettings]) -> list[Schedule]:
    """One sync schedule per connection with a positive interval (0 = manual only)."""
    return [
        Schedule(SYNC, name, timedelta(seconds=conn.sync_interval_seconds))
        for name, conn in sorted(connections.items())
        if conn.sync_interval_seconds > 0
    ]


def train_schedules(
    connections: Mapping[str, ConnectionSettings], every_hours: float
) -> list[Schedule]:
    """A churn-train run per connection every `every_hours` (cheap: stored records only)."""
    return [
        Schedule(CHURN_TRAIN, name, timedelta(hours=every_hours)) for name in sorted(connections)
    ]


class Scheduler:
    """Submits the jobs that are due; remembers which kinds it already warned about."""

    def __init__(self, queue: JobQueue, schedules: list[Schedule]) -> None:
        self._queue = queue
        self._schedules = schedules
        self._warned: set[str] = set()

    def due(self, schedule: Schedule, now: datetime) -> bool:
        latest = self._queue.repository.latest(schedule.kind, schedule.connection)
        return latest is None or latest.created_at + schedule.every <= now

    def tick(self, now: datetime) -> int:
        """Submit every due job; returns how many were queued."""
        queued = 0
        for schedule in self._schedules:
            if not self.due(schedule, now):
                continue
            try:
                self._queue.submit(
                    schedule.kind,
                    connection=schedule.connection,
                    params=schedule.params,
                    now=now,
                )
                queued += 1
            except JobConflictError:
                continue  # one is already queued, running or paused: that one counts
            except UnknownJobKindError as error:
                if schedule.kind not in self._warned:
                    self._warned.add(schedule.kind)
                    log.warning("scheduled %s jobs skipped: %s", schedule.kind, error)
        return queued
