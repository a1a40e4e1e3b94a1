"""The stores the use cases work on, as protocols: what sync, ingestion, CRM events, rescoring
and erasure call, without the database behind it.

`service/store/` holds the one real implementation of each (on SQLite or PostgreSQL); tests
whose point is a use case's logic rather than the database use the in-memory ones in
`tests/fakes/stores.py` and `tests/fakes/records.py`, each held to the real one by a contract
test (`tests/service/test_store_fakes.py`, `tests/service/test_record_fake.py`). The record
fake links persons by e-mail only: the identity graph's full rules (phones, refs, shared values)
are the database's work and are tested there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from service.domain import Account, ActionTask, Cursor, DomainModel, Owner, Transaction
from service.ports import FieldUpdate
from service.scoring.customer import CustomerScore
from service.store.records import Customers, UpsertReport
from service.store.tables import ScoreHistory, TaskLedger
from service.webhooks.events import EventSink

__all__ = [
    "CursorStore",
    "EventSink",
    "PushLedger",
    "RecordRepository",
    "ScoreStore",
    "TaskStore",
]


@runtime_checkable
class RecordRepository(Protocol):
    """The canonical records pulled from every connection, each CRM customer record linked to
    its person (service/store/records.py; docs/identity.md)."""

    def upsert(self, connection: str, records: Sequence[DomainModel]) -> UpsertReport:
        """Store records (unchanged ones are no change); the persons whose history changed."""
        ...

    def mark_deleted(self, connection: str, crm_object: str, crm_ids: Sequence[str]) -> set[str]:
        """Gone in the system: left out from now on; the persons affected."""
        ...

    def exists(self, connection: str, crm_object: str, crm_id: str) -> bool: ...

    def is_erased(self, connection: str, crm_id: str) -> bool:
        """The customer record belongs to a person erased on request."""
        ...

    def known_customer(self, connection: str, crm_id: str) -> str | None:
        """The person of a customer record we hold (never a placeholder)."""
        ...

    def customer_for(self, connection: str, crm_id: str) -> str:
        """The person of a customer record id (a placeholder when not pulled yet)."""
        ...

    def customer_languages(self, connection: str, crm_ids: Iterable[str]) -> dict[str, str]: ...

    def customer_ids(self, connection: str) -> set[str]: ...

    def crm_ids(self, connection: str, customer_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """person -> (object, id) of their live customer record in `connection`."""
        ...

    def crm_keys(self) -> dict[str, str]:
        """person -> their smallest "<connection>/<object>/<id>": an order alike in every store
        holding the same records."""
        ...

    def transactions(self, connection: str | None = None) -> list[Transaction]: ...

    def owners(self, connection: str) -> dict[str, Owner]: ...

    def accounts(self, connection: str, crm_ids: Iterable[str]) -> dict[str, Account]: ...

    def history(
        self, customer_ids: Iterable[str], connection: str | None = None
    ) -> dict[str, Customers]:
        """Each person's history across connections, with their customer record of
        `connection` when they have one there."""
        ...


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
