"""What the error-table walk (tests/contract/test_error_tables.py) needs of a connector's
sandbox: how to make it answer with each row's status and vendor code, how to build the SDK's own
exception where it cannot, and which secrets must never show in an error.

Each connector's sandbox provides `sandbox/<kind>/error_boundary.py` with a `boundary()` context
manager yielding a `Boundary`; the walk finds it by kind, for every registered connector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.retry import RetryPolicy
from sandbox.core.server import SandboxServer

ONE_TRY = RetryPolicy(max_attempts=1)  # one answer per call: the row's, not a retried one


@dataclass
class Recipe:
    """How to make the sandbox answer with a row's status and code: fault rules on the CRM's
    data API, then `call` (run with the client; `client` picks a non-default client)."""

    call: Callable[..., object]
    faults: list[dict[str, Any]] = field(default_factory=list)
    client: str = "default"
    # The wait the CRM names (Retry-After), which the mapped error must carry.
    retry_after: float | None = None


class Boundary(Protocol):
    """One connector's side of the walk (its sandbox running, its clients built on it)."""

    kind: str
    server: SandboxServer
    recipes: dict[tuple[int | str, str | None], Recipe]

    def client(self, which: str = "default") -> Any: ...
    def sdk_error(self, status: int, code: str) -> Exception: ...
    def secrets(self, client: Any) -> list[str]: ...
    def is_sdk_error(self, error: BaseException | None) -> bool: ...


def fault(kind: str, route: str, **extra: Any) -> list[dict[str, Any]]:
    """One rule: every request on `route` fails with `kind`."""
    return [{"route": route, kind: 1.0, **extra}]
