"""Incremental-pull bookkeeping: a Cursor and a Batch of records safe to save it after."""

from __future__ import annotations

from typing import Generic, TypeVar

from service.domain.base import AwareDatetime, DomainModel, NonEmptyStr

T = TypeVar("T")


class Cursor(DomainModel):
    """Where a stream's incremental pull stopped: modification stamp plus tie-breaking id."""

    stream: NonEmptyStr
    modified_at: AwareDatetime | None = None
    last_id: str | None = None


class Batch(DomainModel, Generic[T]):
    """A page of records and the cursor that is safe to save once they are stored."""

    records: tuple[T, ...]
    cursor: Cursor
    has_more: bool = False
    # Ids deleted in the CRM since the previous cursor (followed, not ignored).
    deleted_ids: tuple[str, ...] = ()
    # Records that could not be read into their canonical model: "crm id: reason" (no values).
    rejected: tuple[str, ...] = ()
