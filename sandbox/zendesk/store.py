"""The emulated account's records, in memory: users, organizations, tickets, comments,
satisfaction ratings, ticket metrics, user fields, jobs and webhooks.

Each table keeps its records as Zendesk serialises them plus a change stamp (epoch seconds, the
`generated_timestamp` of tickets) that the incremental exports order by, with the id breaking
ties. Times come from the sandbox clock, so tests can move them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.core.clock import SandboxClock


def iso(moment: datetime) -> str:
    """Zendesk's time format: ISO 8601 in UTC with a Z, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Table:
    """One object type: id -> record, id -> change stamp."""

    name: str
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    stamps: dict[int, int] = field(default_factory=dict)

    def put(self, record: dict[str, Any], stamp: int) -> dict[str, Any]:
        self.rows[int(record["id"])] = record
        self.stamps[int(record["id"])] = stamp
        return record

    def get(self, record_id: int) -> dict[str, Any] | None:
        return self.rows.get(record_id)

    def ordered(self) -> list[tuple[int, int]]:
        """(stamp, id) of every record, in export order."""
        return sorted((s, i) for i, s in self.stamps.items())


# (event kind, ticket, extra) -> None: what the webhook sender listens to.
Listener = Callable[[str, dict[str, Any], dict[str, Any]], None]


class ZendeskStore:
    """Every table of one account, guarded by one lock."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.listeners: list[Listener] = []
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.users = Table("users")
            self.organizations = Table("organizations")
            self.tickets = Table("tickets")
            self.metrics = Table("ticket_metrics")
            self.ratings = Table("satisfaction_ratings")
            # ticket id -> its comments, oldest first
            self.comments: dict[int, list[dict[str, Any]]] = {}
            self.user_fields: dict[str, dict[str, Any]] = {}
            self.jobs: dict[str, dict[str, Any]] = {}
            self.webhooks: dict[str, dict[str, Any]] = {}
            self._next = 10_000_000

    def next_id(self) -> int:
        with self.lock:
            self._next += 1
            return self._next

    def now(self) -> datetime:
        return self.clock.now()

    def stamp(self) -> int:
        return int(self.clock.now().timestamp())

    def emit(self, kind: str, ticket: dict[str, Any], extra: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(kind, copy.deepcopy(ticket), extra)

    def touch(self, table: Table, record: dict[str, Any]) -> None:
        """A change: `updated_at` and the export stamp move to now."""
        now = self.now()
        record["updated_at"] = iso(now)
        if table is self.tickets:
            record["generated_timestamp"] = int(now.timestamp())
        table.stamps[int(record["id"])] = int(now.timestamp())

    def tables(self) -> Iterator[Table]:
        yield from (self.users, self.organizations, self.tickets, self.metrics, self.ratings)
