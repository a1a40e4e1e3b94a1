"""The ports: `CrmReader` (pull) and `CrmWriter` (push) with one error family, which adapters
implement, and `Clock`, the one source of "now" (service/clock.py has its implementations).

Only domain models cross these boundaries; no SDK object leaves `adapters/`. Every CRM's
failures are mapped onto the `Crm*Error` family below, which tells the one retry layer
(`adapters/retry.py`) and the use cases what to do:

| error                    | meaning                                   | what happens             |
|--------------------------|-------------------------------------------|--------------------------|
| CrmConfigError           | bad credentials, missing permission/field | never retried; run fails |
| CrmTlsError (a config)   | certificate not verified, CA bundle gone  | never retried; run fails |
| CrmRateLimitedError      | 429 / concurrency limit                   | retried after Retry-After|
| CrmUnavailableError      | 5xx, timeout, connection reset            | retried with back-off    |
| CrmQuotaExhaustedError   | daily quota spent (or our share of it)    | run stops, resumes later |
| CrmRejectedError         | the CRM refuses one record                | reported, others go on   |
| CrmNotFoundError         | the record does not exist (any more)      | reported                 |
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from service.domain import ActionTask, Batch, Cursor, DomainModel

FieldValue = str | int | float | bool | datetime | None


class CrmError(Exception):
    """Base of every CRM failure. Messages never contain credentials or field values."""

    retryable = False
    # The HTTP status the CRM answered with, when there was one (for metrics and messages).
    http_status: int | None = None

    def __init__(self, message: str, *, connection: str | None = None) -> None:
        super().__init__(message)
        self.connection = connection


class CrmConfigError(CrmError):
    """Bad credentials, a missing permission or a missing field: a person must act."""


class CrmTlsError(CrmConfigError):
    """TLS failed: the server's certificate is not trusted, or the CA bundle is missing."""


class CrmRateLimitedError(CrmError):
    """The CRM asks us to slow down; `retry_after` seconds when it says how long."""

    retryable = True

    def __init__(
        self, message: str, *, retry_after: float | None = None, connection: str | None = None
    ) -> None:
        super().__init__(message, connection=connection)
        self.retry_after = retry_after


class CrmUnavailableError(CrmError):
    """A 5xx, a timeout or a dropped connection: worth another try later."""

    retryable = True


class CrmQuotaExhaustedError(CrmError):
    """The daily API quota (or the share of it we may use) is spent: stop cleanly, resume later."""

    def __init__(
        self, message: str, *, resets_at: datetime | None = None, connection: str | None = None
    ) -> None:
        super().__init__(message, connection=connection)
        self.resets_at = resets_at


class CrmRejectedError(CrmError):
    """The CRM refused one record (validation rule, lock, bad value)."""

    def __init__(
        self,
        message: str,
        *,
        record_id: str,
        code: str,
        connection: str | None = None,
        gone: bool = False,
    ) -> None:
        super().__init__(message, connection=connection)
        self.record_id = record_id
        self.code = code
        # The record no longer exists there (deleted, merged away): nothing of ours is left on
        # it, so an erasure counts it as cleared. The connector decides from its own codes.
        self.gone = gone


class CrmNotFoundError(CrmError):
    """The record does not exist in the CRM (deleted, merged, or never there)."""


class Canonical(StrEnum):
    """The canonical kinds a stream yields (a CRM may feed one kind from several objects)."""

    OWNER = "owner"
    ACCOUNT = "account"
    CUSTOMER = "customer"
    TRANSACTION = "transaction"
    INTERACTION = "interaction"
    CASE = "case"
    SURVEY = "survey"


# Pull order: what later records refer to comes first (owners, accounts, then customers...).
PULL_ORDER = tuple(Canonical)


@dataclass(frozen=True)
class Stream:
    """One pullable CRM object with its own cursor, e.g. ("Contact", customer)."""

    name: str
    canonical: Canonical


class FieldUpdate(DomainModel):
    """The fields we own, to be written onto one CRM record (upserted by our external id)."""

    crm_object: str
    external_id: str
    crm_id: str | None = None
    fields: dict[str, FieldValue]


@dataclass(frozen=True)
class WriteReport:
    """What a batch write did: ids written, records refused (kept for retry), calls made."""

    written: tuple[str, ...] = ()
    rejected: tuple[CrmRejectedError, ...] = ()
    calls: int = 0
    created_ids: dict[str, str] = field(default_factory=dict)  # our key -> CRM id


@dataclass(frozen=True)
class ProvisionReport:
    """What `cem setup` found and created in a CRM."""

    existing: tuple[str, ...]
    created: tuple[str, ...]
    dry_run: bool


@runtime_checkable
class CrmReader(Protocol):
    """Pulls canonical records from one CRM connection, incrementally."""

    connection: str

    def streams(self) -> Sequence[Stream]:
        """The streams this connection can pull, in `PULL_ORDER`."""
        ...

    def pull(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch[DomainModel]]:
        """Records changed since `cursor` (all when None), in order, de-duplicated.

        Each batch carries the cursor that is safe to save once its records are stored, so a
        crash resumes where it stopped. Deleted ids arrive in `Batch.deleted_ids`.
        """
        ...

    def get(self, stream: Stream, crm_ids: Sequence[str]) -> list[DomainModel]:
        """Read records by id (used after our own writes: never through a lagging search)."""
        ...


@runtime_checkable
class CrmWriter(Protocol):
    """Pushes scores, flags and tasks to one CRM connection; every call is idempotent."""

    connection: str
    # The CRM objects that have a push mapping (others, e.g. leads, get no fields from us).
    pushable: frozenset[str]

    def upsert_fields(self, updates: Sequence[FieldUpdate]) -> WriteReport:
        """Write the given fields, in as few batch calls as the CRM allows."""
        ...

    def create_tasks(self, tasks: Sequence[ActionTask]) -> WriteReport:
        """Create tasks keyed by `ActionTask.idempotency_key`; an existing key is not re-created."""
        ...

    def close_tasks(self, idempotency_keys: Sequence[str]) -> WriteReport:
        """Close tasks whose reason has cleared."""
        ...

    def clear_fields(self, crm_object: str, crm_ids: Sequence[str]) -> WriteReport:
        """Erase what we wrote on these records: every field of the push mapping and our
        external id, emptied; `written` holds the CRM ids cleared. Idempotent."""
        ...

    def provision(self, *, dry_run: bool) -> ProvisionReport:
        """Create the custom fields / properties the push needs; safe to run twice."""
        ...


class ReadOnlyWriter:
    """The writer of a connection whose system takes none of our writes (a survey tool, a chat
    channel: `Wiring.writer` is None). It writes nothing and is never called for pushes
    (`sync.push` skips it); what we learn from such a source reaches the CRMs that hold the
    same person through their own writers."""

    pushable: frozenset[str] = frozenset()

    def __init__(self, connection: str) -> None:
        self.connection = connection

    def upsert_fields(self, updates: Sequence[FieldUpdate]) -> WriteReport:
        return WriteReport()

    def create_tasks(self, tasks: Sequence[ActionTask]) -> WriteReport:
        return WriteReport()

    def close_tasks(self, idempotency_keys: Sequence[str]) -> WriteReport:
        return WriteReport()

    def clear_fields(self, crm_object: str, crm_ids: Sequence[str]) -> WriteReport:
        return WriteReport()

    def provision(self, *, dry_run: bool) -> ProvisionReport:
        return ProvisionReport(existing=(), created=(), dry_run=dry_run)


@runtime_checkable
class Clock(Protocol):
    """The current instant. One is chosen in the composition root and handed to everything
    that asks "what time is it" (routes, use cases, jobs), so a test or a fault suite can fix
    time in one place instead of patching `datetime.now` calls."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


@runtime_checkable
class CrmConnection(Protocol):
    """One configured CRM connection's adapters, as the composition root builds them."""

    @property
    def reader(self) -> CrmReader: ...

    @property
    def writer(self) -> CrmWriter: ...
