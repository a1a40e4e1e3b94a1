"""CRM change notices, whatever CRM sent them: de-duplication, stale events, per-record plans.

A notice only says *which* records changed and when; nothing in it is trusted as data. The
records are read again by id, so a duplicate costs at most one idempotent re-read. Ordering:
CRMs deliver out of order, so each record keeps the modification stamp of the newest notice
applied to it, and a notice older than that is dropped as stale: an old "updated" arriving after
a newer "deleted" never brings the record back. Notices and stamps are only remembered once the
delivery has been applied, so a delivery answered with a 5xx and retried is processed again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


class SignatureError(ValueError):
    """The request is not from the CRM (bad or stale signature)."""


class SecretError(ValueError):
    """The connection's webhook secret cannot be used by its scheme (a misconfiguration, not a
    bad request: the sender should deliver again once it is fixed)."""


@dataclass(frozen=True, slots=True)
class Notice:
    """One CRM event: these records of this object type changed (or went) at `stamp`."""

    event_id: str
    object_type: str
    object_ids: tuple[str, ...]
    deleted: bool
    stamp: int  # milliseconds since the epoch, on the CRM's clock


@dataclass(frozen=True)
class Changes:
    """What a delivery asks us to do: re-read these ids, mark those deleted (per object type)."""

    reread: dict[str, list[str]]
    deleted: dict[str, list[str]]
    duplicates: int
    ignored: int
    stale: int = 0
    # What to remember once applied: event ids, and the newest stamp per (object type, id).
    event_ids: tuple[str, ...] = ()
    stamps: dict[tuple[str, str], int] = field(default_factory=dict)


class RecentIds:
    """The last N keys seen by this process (CRMs retry and duplicate deliveries)."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._ids

    def add(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._ids[key] = None
                self._ids.move_to_end(key)
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)


class RecordStamps:
    """The newest modification stamp applied per record (bounded, least recently used out)."""

    def __init__(self, size: int = 200_000) -> None:
        self._size = size
        self._stamps: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> int | None:
        with self._lock:
            return self._stamps.get(key)

    def advance(self, stamps: dict[str, int]) -> None:
        """Keep the newer of the known and the given stamp of each record."""
        with self._lock:
            for key, stamp in stamps.items():
                self._stamps[key] = max(stamp, self._stamps.get(key, stamp))
                self._stamps.move_to_end(key)
            while len(self._stamps) > self._size:
                self._stamps.popitem(last=False)


@dataclass
class Inbox:
    """Real-time state of this process: seen events, applied stamps, one lock per connection
    so two deliveries never store an older re-read over a newer one, and each worker thread's
    CRM clients (a client that logs in does so once, not once per delivery)."""

    seen: RecentIds = field(default_factory=RecentIds)
    stamps: RecordStamps = field(default_factory=RecordStamps)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _clients: threading.local = field(default_factory=threading.local)

    def wiring(self, connection: str, build: Callable[[str], T]) -> T:
        """This thread's `build(connection)`, built on first use (clients are not shared
        between threads: their HTTP sessions are not thread-safe)."""
        cache: dict[str, T] = self._clients.__dict__.setdefault("wirings", {})
        if connection not in cache:
            cache[connection] = build(connection)
        return cache[connection]

    def lock(self, connection: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(connection, threading.Lock())

    def plan(self, connection: str, notices: Iterable[Notice], ignored: int = 0) -> Changes:
        """Group fresh notices by object type; the newest notice per record decides."""
        latest: dict[tuple[str, str], tuple[int, bool]] = {}
        ids: list[str] = []
        duplicates = stale = 0
        for notice in notices:
            key = f"{connection}\x00{notice.event_id}"
            if key in self.seen or key in ids:
                duplicates += 1
                continue
            ids.append(key)
            for object_id in notice.object_ids:
                record = (notice.object_type, object_id)
                applied = self.stamps.get(_record_key(connection, record))
                if applied is not None and notice.stamp < applied:
                    stale += 1
                    continue
                if record not in latest or notice.stamp >= latest[record][0]:
                    latest[record] = (notice.stamp, notice.deleted)
        reread: dict[str, list[str]] = {}
        deleted: dict[str, list[str]] = {}
        for (object_type, object_id), (_, gone) in latest.items():
            (deleted if gone else reread).setdefault(object_type, []).append(object_id)
        return Changes(
            reread,
            deleted,
            duplicates,
            ignored,
            stale,
            tuple(ids),
            {record: stamp for record, (stamp, _) in latest.items()},
        )

    def applied(self, connection: str, changes: Changes) -> None:
        """Remember a delivery that has been applied."""
        self.seen.add(changes.event_ids)
        self.stamps.advance(
            {_record_key(connection, record): stamp for record, stamp in changes.stamps.items()}
        )


def _record_key(connection: str, record: tuple[str, str]) -> str:
    return "\x00".join((connection, *record))
