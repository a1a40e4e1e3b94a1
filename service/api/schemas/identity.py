"""Bodies of `/v1/customers/{id}/identity` (the identity graph of one customer)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.store.identity_links import Identity

_ID = r"^[0-9a-f]{32}$"
_EXAMPLE_ID = "3f6c2a1b9d8e4f70a1b2c3d4e5f60718"


class IdentityRecordOut(BaseModel):
    """One CRM record of the customer, and why it is theirs."""

    link_id: int = Field(description="Names the record for `DELETE …/identity/links/{link_id}`.")
    connection: str
    crm_object: str
    crm_id: str
    deleted: bool = Field(description="Deleted in the CRM (kept out of scoring).")
    rule: str = Field(description="`email+phone`, `email`, `manual` or `first_record`.")
    confidence: float
    decided_by: str = Field(description="`auto`, `migration` or `key:<API key id>`.")
    decided_at: datetime


class IdentityDecisionOut(BaseModel):
    """One entry of the identity log (the matched value is never shown: only its rule)."""

    action: str = Field(description="`link` or `unlink`.")
    connection: str
    crm_object: str
    crm_id: str
    customer_id: str = Field(description="The customer the record joined (or was split into).")
    previous_customer_id: str | None = Field(description="The customer it came from, if any.")
    rule: str
    confidence: float
    decided_by: str
    decided_at: datetime


class IdentityOut(BaseModel):
    """A customer (one person) and every CRM record linked to them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": _EXAMPLE_ID,
                    "records": [
                        {"link_id": 12, "connection": "acme-hs", "crm_object": "contacts",
                         "crm_id": "5101", "deleted": False, "rule": "first_record",
                         "confidence": 1.0, "decided_by": "auto",
                         "decided_at": "2026-11-02T08:00:00Z"},
                        {"link_id": 9051, "connection": "acme-sf", "crm_object": "Contact",
                         "crm_id": "0035g00000AbCdE", "deleted": False, "rule": "email+phone",
                         "confidence": 0.99, "decided_by": "auto",
                         "decided_at": "2026-11-02T08:03:10Z"},
                    ],
                    "decisions": [
                        {"action": "link", "connection": "acme-sf", "crm_object": "Contact",
                         "crm_id": "0035g00000AbCdE", "customer_id": _EXAMPLE_ID,
                         "previous_customer_id": None, "rule": "email+phone",
                         "confidence": 0.99, "decided_by": "auto",
                         "decided_at": "2026-11-02T08:03:10Z"},
                    ],
                }
            ]
        }
    )  # fmt: skip

    customer_id: str
    records: list[IdentityRecordOut]
    decisions: list[IdentityDecisionOut]

    @classmethod
    def of(cls, identity: Identity) -> IdentityOut:
        return cls(
            customer_id=identity.customer_id,
            records=[IdentityRecordOut(**vars(r)) for r in identity.records],
            decisions=[IdentityDecisionOut(**vars(d)) for d in identity.decisions],
        )


class IdentityChangeOut(IdentityOut):
    """The customer after a merge or split, and the rescoring it queued."""

    rescore_jobs: list[str] = Field(
        description="The `rescore` jobs of the changed customers (follow at `/v1/jobs/{id}`)."
    )
    split_customer_id: str | None = Field(
        default=None, description="After a split: the new customer the record became."
    )


class LinkIn(BaseModel):
    """What to merge into the customer: another customer, or one CRM customer record."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"customer_id": "9a8b7c6d5e4f40312233445566778899"},
                {"connection": "acme-sf", "crm_object": "Contact", "crm_id": "0035g00000AbCdE"},
            ]
        },
    )

    customer_id: str | None = Field(default=None, pattern=_ID)
    connection: str | None = Field(default=None, min_length=1, max_length=64)
    crm_object: str | None = Field(default=None, min_length=1, max_length=64)
    crm_id: str | None = Field(default=None, min_length=1, max_length=64)

    def record(self) -> tuple[str, str, str] | None:
        """(connection, CRM object, CRM id) when a record is named, else None."""
        if self.connection and self.crm_object and self.crm_id:
            return self.connection, self.crm_object, self.crm_id
        return None

    @model_validator(mode="after")
    def _one_form(self) -> LinkIn:
        record = (self.connection, self.crm_object, self.crm_id)
        if self.customer_id is not None and any(v is not None for v in record):
            raise ValueError("give either customer_id or connection, crm_object and crm_id")
        if self.customer_id is None and any(v is None for v in record):
            raise ValueError("give customer_id, or all of connection, crm_object and crm_id")
        return self
