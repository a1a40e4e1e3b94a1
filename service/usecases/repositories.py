"""The stores the use cases work on, as protocols: what sync, ingestion, CRM events, rescoring
and erasure call, without the database behind it.

`service/store/` holds the one real implementation of each (on SQLite or PostgreSQL); tests
whose point is a use case's logic rather than the database use the in-memory ones in
`tests/fakes/stores.py`, each held to the real one by a contract test
(`tests/service/test_store_fakes.py`). The record store is not here: its reads (histories,
links, erasure footprints) are the database's work, so its tests stay on the databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from service.domain import ActionTask, Cursor
from service.ports import FieldUpdate
from service.scoring.customer import CustomerScore
from service.store.tables import ScoreHistory, TaskLedger
from service.webhooks.events import EventSink

__all__ = ["CursorStore", "EventSink", "PushLedger", "ScoreStore", "TaskStore"]


@runtime_checkable
class CursorStore(Protocol):
    """Where each stream of a connection was pulled up to."""

    def load(self, connection: str, stream: str) -> Cursor | None: ...

    def save(self, connection: str, cursor: Cursor) -> None: ...

    def reset(self, connection: str, stream: str | None = None) -> int:
        """Forget cursors (all streams when `stream` is None); how many were forgotten."""
        ...


@runtime_checkable
class PushLedger(Protocol):
    """The field values each CRM confirmed, so an unchanged value is not pushed again."""

    def changed(self, connection: str, updates: Sequence[FieldUpdate]) -> list[FieldUpdate]:
        """The updates reduced to their changed fields; records with none are dropped."""
        ...

    def record(
        self,
        connection: str,
        written: Sequence[FieldUpdate],
        customer_ids: dict[str, str] | None = None,
    ) -> None: ...


@runtime_checkable
class TaskStore(Protocol):
    """The tasks we created in each CRM, by idempotency key (see `TaskLedgerRepository`)."""

    def known(self, connection: str, keys: Iterable[str]) -> set[str]:
        """The keys of tasks the CRM confirmed (pending notes are not known)."""
        ...

    def intend(
        self, connection: str, tasks: Sequence[ActionTask], customer_ids: dict[str, str]
    ) -> None: ...

    def pending_customers(self, connection: str) -> set[str]: ...

    def forget_pending(self, connection: str, keys: Iterable[str]) -> None: ...

    def record(
        self,
        connection: str,
        tasks: Sequence[ActionTask],
        customer_ids: dict[str, str],
        crm_ids: dict[str, str],
    ) -> None: ...

    def crm_task_ids(self, connection: str) -> set[str]: ...

    def open_for(self, connection: str, customer_ids: Iterable[str]) -> list[TaskLedger]: ...

    def close(self, connection: str, keys: Iterable[str]) -> None: ...


@runtime_checkable
class ScoreStore(Protocol):
    """Every scoring of every customer, and the latest of each."""

    def record(self, scores: Iterable[CustomerScore]) -> int: ...

    def segments(self) -> dict[str, int]: ...

    def latest(self, customer_ids: Iterable[str] | None = None) -> Mapping[str, ScoreHistory]: ...
