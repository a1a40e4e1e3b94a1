"""Job kinds: a name → a plain function `(ctx, params) -> None`, registered by the composition root.

Functions take nothing but a `JobContext` and JSON-able params, so a distributed task queue can
run the same functions later without change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.jobs.context import JobContext

JobFunction = Callable[["JobContext", dict[str, Any]], None]

SYNC = "sync"
"""The kind `POST /v1/syncs` submits (pull → score → push of one connection)."""
CHURN_TRAIN = "churn-train"
"""The kind that trains a connection's churn model from its CRM's outcomes."""


class UnknownJobKindError(LookupError):
    """No function is registered for this kind."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"no job function is registered for kind '{kind}'")
        self.kind = kind


@dataclass(frozen=True)
class JobKind:
    """A registered kind: its function, and whether it runs one at a time per connection."""

    name: str
    function: JobFunction
    exclusive: bool = True


class JobRegistry:
    """The kinds this process can run."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind] = {}

    def register(self, name: str, function: JobFunction, *, exclusive: bool = True) -> None:
        """Register `function` as kind `name` (replacing an earlier registration)."""
        if not name or len(name) > 32:
            raise ValueError("a job kind is 1 to 32 characters")
        self._kinds[name] = JobKind(name, function, exclusive)

    def get(self, name: str) -> JobKind:
        kind = self._kinds.get(name)
        if kind is None:
            raise UnknownJobKindError(name)
        return kind

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._kinds))
