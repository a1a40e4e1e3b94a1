"""Building canonical domain records from a CRM record through its mapping (both CRMs).

The adapters hand over a flat view of the CRM record (Salesforce: the JSON record, relationship
fields as nested objects; HubSpot: the `properties` dict plus the object id); this module reads
the mapped fields, coerces them and validates the result as a domain model. A record that does not
fit is refused with a reason that names fields, never values (values may be personal data).
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from typing import Any

from pydantic import ValidationError

from adapters.mapping import CoercionError, Mapping, coerce
from service.domain import (
    Account,
    Case,
    Customer,
    DomainModel,
    Interaction,
    Owner,
    SourceRef,
    SurveyResponse,
    Transaction,
)

CANONICAL_MODELS: dict[str, type[DomainModel]] = {
    "customer": Customer,
    "account": Account,
    "owner": Owner,
    "transaction": Transaction,
    "interaction": Interaction,
    "case": Case,
    "survey": SurveyResponse,
}

# Mapping fields named `attributes.<name>` land in the canonical model's `attributes` dict,
# `refs.<system>` in its `refs` (the person's id in another system).
ATTRIBUTES = "attributes."
REFS = "refs."


class RecordRefusedError(ValueError):
    """A CRM record could not be turned into its canonical model."""

    def __init__(self, crm_id: str, reason: str) -> None:
        super().__init__(f"record {crm_id}: {reason}")
        self.crm_id = crm_id
        self.reason = reason


def read_path(record: MappingABC[str, Any], path: str) -> Any:
    """The value at a dotted path (`Account.Name`), or None when any step is missing."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, MappingABC):
            return None
        value = value.get(part)
    return value


def build_record(
    mapping: Mapping,
    record: MappingABC[str, Any],
    *,
    connection: str,
    crm_id: str,
    linked: MappingABC[str, Any] | None = None,
) -> DomainModel:
    """The canonical model for one CRM record, or `RecordRefusedError`.

    `linked` adds canonical values found elsewhere than on the record itself, e.g. the customer
    a HubSpot engagement is associated with.
    """
    model = CANONICAL_MODELS.get(mapping.canonical)
    if model is None:
        raise RecordRefusedError(crm_id, f"no canonical model for {mapping.canonical}")
    values: dict[str, Any] = {**dict(mapping.constants), **(linked or {})}
    for field in mapping.fields:
        try:
            value = coerce(read_path(record, field.crm), field.type, field.values)
        except CoercionError as error:
            if field.required:
                raise RecordRefusedError(crm_id, f"{field.crm}: {error}") from None
            value = None  # an optional field with an unexpected value is left out, not fatal
        if value is None:
            if field.required:
                raise RecordRefusedError(crm_id, f"{field.crm} is empty")
            value = field.default
        if value is None:
            continue
        name = field.canonical
        if name.startswith(ATTRIBUTES):
            values.setdefault("attributes", {})[name.removeprefix(ATTRIBUTES)] = value
        elif name.startswith(REFS):
            values.setdefault("refs", {})[name.removeprefix(REFS)] = str(value)
        else:
            values[name] = value
    values["source"] = SourceRef(connection=connection, crm_object=mapping.object, crm_id=crm_id)
    try:
        return model.model_validate(values)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        raise RecordRefusedError(crm_id, f"invalid {', '.join(fields)}") from None
