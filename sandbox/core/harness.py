"""What the ONE contract suite needs from each connector's sandbox: a running emulator, the
connector's reader and writer on it, and a way to change records behind the adapter's back.

Each connector's sandbox provides `sandbox/<kind>/harness.py` with
`harness(customers, page_size) -> Harness`; the suite (tests/contract/) finds it by the kind
(`harness_for`), so a connector is contract-tested the day it is registered.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import requests

from adapters.retry import RetryPolicy
from adapters.settings import ConnectionSettings
from sandbox.core.server import SandboxServer
from service.ports import CrmReader, CrmWriter, Stream

# Fast retries: the policy is the production one, only the waits are short.
TEST_POLICY = RetryPolicy(max_attempts=8, max_elapsed_seconds=60, base_delay=0.01, max_delay=0.05)


@dataclass(frozen=True)
class PullShape:
    """What the pull contract may ask of a source's customer stream, where sources differ.

    `pages`: it is read in pages of `page_size` records, one data call each (a survey export is
    one file per pull instead); `deletes`: deletions since the cursor come back in `deleted_ids`
    (an export lists only what exists)."""

    pages: bool = True
    deletes: bool = True


# A CRM's (and any paged API's) stream: the shape of a harness that states none (a harness of
# another shape names it as its `shape` attribute).
PAGED = PullShape()


class Harness(Protocol):
    """One connector's emulator with the connector's adapters on it (a context manager)."""

    crm: str
    page_size: int
    data_path: str
    api_routes: str  # fault-rule pattern matching the CRM's data API (not its login)
    batch_size: int
    customer_object: str
    server: SandboxServer

    def settings(self, **overrides: Any) -> ConnectionSettings: ...
    def reader(self, **overrides: Any) -> CrmReader: ...
    def writer(self, **overrides: Any) -> CrmWriter: ...
    def customer_stream(self) -> Stream: ...
    def customer_ids(self) -> list[str]: ...
    def create_customers(self, count: int, *, prefix: str) -> list[str]: ...
    def delete_customer(self, crm_id: str) -> None: ...
    def ids_modified_since(self, when: datetime) -> set[str]: ...
    def field_value(self, crm_id: str, crm_field: str) -> Any: ...
    def tasks_with_key(self, key: str) -> int: ...
    def __enter__(self) -> Harness: ...
    def __exit__(self, *exc: object) -> None: ...


@dataclass
class SandboxAdmin:
    """The `/__sandbox/` API of one emulator."""

    server: SandboxServer

    def _url(self, path: str) -> str:
        return f"{self.server.base_url}/__sandbox/{path}"

    def _session(self) -> requests.Session:
        return self.server.session()

    def reset(self) -> None:
        """No faults, real time again; records stay (the emulators' own reset may empty them)."""
        self.faults([])
        self._session().post(self._url("clock"), json={"reset": True}).raise_for_status()

    def faults(self, rules: list[dict[str, Any]], seed: int = 1) -> None:
        body: dict[str, Any] = {"name": "test", "seed": seed, "rules": rules}
        self._session().put(self._url("faults"), json=body).raise_for_status()

    def clear_requests(self) -> None:
        self._session().delete(self._url("requests")).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        body = self._session().get(self._url("requests"), params={"limit": 100_000}).json()
        entries: list[dict[str, Any]] = body["entries"]
        return [e for e in entries if not str(e.get("path", "")).startswith("/__sandbox")]

    def advance_clock(self, seconds: float) -> None:
        self._session().post(self._url("clock"), json={"advance": seconds}).raise_for_status()


def calls_for(n: int, per_call: int) -> int:
    return math.ceil(n / per_call)


def drain(reader: CrmReader, stream: Stream, cursor: Any = None) -> Iterator[Any]:
    yield from reader.pull(stream, cursor)


def ids_of(batches: Sequence[Any]) -> list[str]:
    return [r.id for b in batches for r in b.records]


class HarnessFactory(Protocol):
    def __call__(self, customers: int, page_size: int) -> Harness: ...


def harness_for(kind: str, customers: int, page_size: int) -> Harness:
    """The harness of the connector `kind`, from `sandbox/<kind>/harness.py` by convention."""
    module = importlib.import_module(f"sandbox.{kind}.harness")
    factory = cast(HarnessFactory, module.harness)
    return factory(customers, page_size)
