"""The in-memory object store: one table per object type, id-ordered, with unique indexes.

A table keeps records in a dict by numeric id plus a sorted id list, so an ``after`` page is a
bisect and a slice. Each record's property dict is replaced, never mutated, on a write; that
lets the search index hold the version it saw without copying (the index lags the store by a
configurable delay, docs/crm-api-facts.md §3.5 "Eventual consistency").

Locking: the :class:`ObjectStore` owns one re-entrant lock that callers hold around any
read-modify-write (:class:`sandbox.hubspot.objects.ObjectService` does).
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from sandbox.hubspot.objecttypes import OBJECT_TYPES

HistoryEntry = tuple[str, str, str]
"""(value, ISO timestamp, sourceType) of one property change."""


@dataclass(slots=True)
class StoredObject:
    """One CRM record; ``properties`` values are strings, system properties included."""

    id: int
    properties: dict[str, str]
    created_at: str
    updated_at: str
    archived_at: str | None = None
    history: dict[str, list[HistoryEntry]] | None = None

    @property
    def archived(self) -> bool:
        """Whether the record is archived (soft-deleted)."""
        return self.archived_at is not None


@dataclass(slots=True)
class _Pending:
    visible_at: datetime
    object_id: int
    snapshot: dict[str, str] | None  # None: remove from the index (archived records never show)


@dataclass
class ObjectTable:
    """All records of one object type."""

    name: str
    objects: dict[int, StoredObject] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    # unique property -> normalised value -> id
    unique: dict[str, dict[str, int]] = field(default_factory=dict)
    indexed: dict[int, dict[str, str]] = field(default_factory=dict)
    pending: deque[_Pending] = field(default_factory=deque)
    index_version: int = 0  # bumped whenever ``indexed`` changes (search cache key)
    aliases: dict[int, int] = field(default_factory=dict)  # merged-away id -> surviving id

    def insert(self, obj: StoredObject) -> None:
        """Add a new record (ids only grow, so appending keeps ``order`` sorted)."""
        self.objects[obj.id] = obj
        if self.order and obj.id < self.order[-1]:
            bisect.insort(self.order, obj.id)
        else:
            self.order.append(obj.id)

    def page(
        self, after: int | None, limit: int, *, archived: bool
    ) -> tuple[list[StoredObject], int | None]:
        """Up to ``limit`` records with id > ``after``; the cursor of the next page or None."""
        start = 0 if after is None else bisect.bisect_right(self.order, after)
        out: list[StoredObject] = []
        order, objects = self.order, self.objects
        index = start
        while index < len(order) and len(out) < limit:
            obj = objects.get(order[index])
            index += 1
            if obj is not None and obj.archived == archived:
                out.append(obj)
        has_more = any(
            (o := objects.get(i)) is not None and o.archived == archived
            for i in islice(order, index, None)
        )
        return out, (out[-1].id if out and has_more else None)

    def stage(self, visible_at: datetime, obj: StoredObject) -> None:
        """Queue the record's current version for the search index."""
        snapshot = None if obj.archived else obj.properties
        self.pending.append(_Pending(visible_at, obj.id, snapshot))

    def index_now(self, obj: StoredObject) -> None:
        """Put the record in the search index at once (bulk loads: data that is "old")."""
        self.indexed[obj.id] = obj.properties
        self.index_version += 1

    def searchable(self, now: datetime) -> dict[int, dict[str, str]]:
        """The index as of ``now``: apply every staged version whose delay has passed."""
        pending = self.pending
        # Versions are staged in write order; with a constant lag they become due in order too.
        while pending and pending[0].visible_at <= now:
            item = pending.popleft()
            self.index_version += 1
            if item.snapshot is None:
                self.indexed.pop(item.object_id, None)
            else:
                self.indexed[item.object_id] = item.snapshot
        return self.indexed

    def unindex(self, object_id: int) -> None:
        """Remove a record from the search index at once (GDPR delete)."""
        self.indexed.pop(object_id, None)
        self.index_version += 1

    def clear(self) -> None:
        """Drop every record."""
        self.index_version += 1
        self.objects.clear()
        self.aliases.clear()
        self.order.clear()
        self.unique.clear()
        self.indexed.clear()
        self.pending.clear()


class ObjectStore:
    """Every table plus the portal-wide id sequence; ``lock`` guards all of it."""

    def __init__(self, first_id: int = 1001) -> None:
        self.lock = threading.RLock()
        self._first_id = first_id
        self._next_id = first_id
        self.tables: dict[str, ObjectTable] = {name: ObjectTable(name) for name in OBJECT_TYPES}

    def allocate_id(self) -> int:
        """The next record id (HubSpot ids are numeric and grow)."""
        with self.lock:
            value = self._next_id
            self._next_id += 1
            return value

    def table(self, name: str) -> ObjectTable:
        """The table of an object type (by plural name)."""
        return self.tables[name]

    def clear(self) -> None:
        """Forget every record and restart the id sequence."""
        with self.lock:
            for table in self.tables.values():
                table.clear()
            self._next_id = self._first_id
