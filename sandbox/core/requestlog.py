"""The request log: what each emulator was asked, so tests and benchmarks can count calls."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

# Bounded so a million-record benchmark cannot grow the log without limit; counts stay exact.
DEFAULT_CAPACITY = 200_000


@dataclass(frozen=True, slots=True)
class RequestEntry:
    """One served (or deliberately dropped, status 0) request. No headers: they hold secrets."""

    at: datetime
    method: str
    path: str
    query: str
    body_bytes: int
    status: int
    duration_ms: float
    fault: str | None = None
    # The request body, only for writes whose path matches the log's capture glob (off by
    # default): the fault suite counts how often each record's fields were written from it.
    body: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO timestamp; `body` only when it was captured)."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        if self.body is None:
            del data["body"]
        return data


class RequestLog:
    """Thread-safe, bounded, append-only log of requests."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._lock = threading.Lock()
        self._entries: deque[RequestEntry] = deque(maxlen=capacity)
        self._dropped = 0
        self._capture: str | None = None

    @property
    def capture(self) -> str | None:
        """The fnmatch path glob of write requests whose bodies are kept (None: none)."""
        return self._capture

    def set_capture(self, path_glob: str | None) -> None:
        """Keep the bodies of POST/PATCH/PUT requests to paths matching `path_glob` from now on
        (None stops it). Bodies cost memory: meant for test runs, not benchmarks."""
        with self._lock:
            self._capture = path_glob

    def captures(self, method: str, path: str) -> bool:
        """Whether the body of this request is to be kept."""
        glob = self._capture
        return (
            glob is not None
            and method.upper() in ("POST", "PATCH", "PUT")
            and fnmatchcase(path, glob)
        )

    def append(self, entry: RequestEntry) -> None:
        """Record one request (the oldest entry goes when the log is full)."""
        with self._lock:
            if len(self._entries) == self._entries.maxlen:
                self._dropped += 1
            self._entries.append(entry)

    def entries(
        self,
        since: datetime | None = None,
        method: str | None = None,
        path_glob: str | None = None,
    ) -> list[RequestEntry]:
        """Entries at or after `since`, optionally filtered by method and fnmatch path glob."""
        with self._lock:
            snapshot = list(self._entries)
        return [e for e in snapshot if _matches(e, since, method, path_glob)]

    def count(self, method: str | None = None, path_glob: str | None = None) -> int:
        """How many retained entries match."""
        return len(self.entries(method=method, path_glob=path_glob))

    @property
    def dropped(self) -> int:
        """Entries pushed out because the log was full."""
        with self._lock:
            return self._dropped

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._dropped = 0


def _matches(
    entry: RequestEntry, since: datetime | None, method: str | None, path_glob: str | None
) -> bool:
    if since is not None and entry.at < since:
        return False
    if method is not None and entry.method != method.upper():
        return False
    return path_glob is None or fnmatchcase(entry.path, path_glob)
