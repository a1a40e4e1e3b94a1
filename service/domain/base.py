"""The base every canonical model shares: frozen, strict about unknown fields, UTC-aware times."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _require_aware(value: datetime) -> datetime:
    # A naive datetime is ambiguous across CRMs (Salesforce returns UTC with "+0000", HubSpot
    # epoch milliseconds); refusing it here keeps every later time difference well defined.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware (UTC recommended)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
"""A timezone-aware datetime; naive values are rejected with a clear validation error."""

NonEmptyStr = Annotated[str, Field(min_length=1, max_length=255)]
"""An identifier or name that may not be empty."""


class DomainModel(BaseModel):
    """Base of every canonical model: immutable, hashable, rejects unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class SourceRef(DomainModel):
    """Where a record came from: the CRM connection, its object type and its id there."""

    connection: NonEmptyStr
    crm_object: NonEmptyStr
    crm_id: NonEmptyStr


class Sourced(DomainModel):
    """A record with a canonical string id and, optionally, the CRM record it came from."""

    id: NonEmptyStr
    source: SourceRef | None = None
