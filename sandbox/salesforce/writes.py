"""Single and batched writes with Salesforce's result shapes and `allOrNone` semantics.

A batch is a list of preparers (validate one record, build its pending write). Without
`allOrNone` each record is prepared and committed on its own and failures do not stop the rest.
With it, everything is prepared under the store lock first; one failure means nothing is
committed, the failing records carry their own error and every other record carries
ALL_OR_NONE_OPERATION_ROLLED_BACK (docs/crm-api-facts.md §2.6).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce.errors import RecordError, SalesforceApiError
from sandbox.salesforce.fields import FieldDef
from sandbox.salesforce.schema import ObjectDef
from sandbox.salesforce.store import PendingWrite, SalesforceStore

Preparer = Callable[[set[tuple[str, str]]], PendingWrite]
ROLLED_BACK = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
)


@dataclass(slots=True)
class WriteResult:
    """The outcome of one record of a write."""

    id: str | None
    success: bool
    errors: list[RecordError] = field(default_factory=list)
    created: bool | None = None

    def as_json(self, with_created: bool = False) -> dict[str, Any]:
        """`{"id", "success", "errors"[, "created"]}` with per-record `statusCode` errors."""
        body: dict[str, Any] = {}
        if self.id is not None:
            body["id"] = self.id
        body["success"] = self.success
        body["errors"] = [e.as_result_error() for e in self.errors]
        if with_created and self.created is not None:
            body["created"] = self.created
        return body


def as_record_error(exc: SalesforceApiError | RecordError) -> RecordError:
    """A request-level error seen inside a batch becomes that record's error."""
    if isinstance(exc, RecordError):
        return exc
    if exc.error_code == "NOT_FOUND":
        return RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
    return RecordError(exc.error_code, exc.message, exc.fields)


def run_batch(
    store: SalesforceStore, preparers: list[Preparer], all_or_none: bool, user_id: str
) -> list[WriteResult]:
    """Prepare and commit each record; see the module docstring for `all_or_none`."""
    reserved: set[tuple[str, str]] = set()
    if not all_or_none:
        results = []
        for prepare in preparers:
            try:
                pending = prepare(reserved)
                record_id = store.commit(pending, user_id)
            except (RecordError, SalesforceApiError) as exc:
                results.append(WriteResult(None, False, [as_record_error(exc)]))
                continue
            results.append(WriteResult(record_id, True, [], pending.created))
        return results
    with store.lock:
        prepared: list[PendingWrite | RecordError] = []
        for prepare in preparers:
            try:
                prepared.append(prepare(reserved))
            except (RecordError, SalesforceApiError) as exc:
                prepared.append(as_record_error(exc))
        if any(isinstance(p, RecordError) for p in prepared):
            return [
                WriteResult(None, False, [p if isinstance(p, RecordError) else ROLLED_BACK])
                for p in prepared
            ]
        ready = [p for p in prepared if isinstance(p, PendingWrite)]
        return [WriteResult(store.commit(p, user_id), True, [], p.created) for p in ready]


def external_id_field(obj: ObjectDef, name: str) -> FieldDef:
    """The external-id field `name` (Id counts); 404 NOT_FOUND like the API otherwise."""
    found = obj.find(name)
    if found is None or not (found.external_id or found.name == "Id"):
        raise SalesforceApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {name}",
        )
    return found


def prepare_upsert(
    store: SalesforceStore,
    obj: ObjectDef,
    key_field: FieldDef,
    value: Any,
    body: Mapping[str, Any],
    user_id: str,
    reserved: set[tuple[str, str]],
    update_only: bool = False,
) -> PendingWrite:
    """Create or update the record whose `key_field` equals `value`.

    Several matches raise 300 (the single-record endpoint answers with the list; batches turn
    it into a per-record error).
    """
    if value is None or value == "":
        raise RecordError("MISSING_ARGUMENT", f"{key_field.name} not specified", (key_field.name,))
    fields = {k: v for k, v in body.items() if k.lower() != key_field.name.lower()}
    echoed = next((v for k, v in body.items() if k.lower() == key_field.name.lower()), None)
    if echoed is not None and str(echoed).lower() != str(value).lower():
        raise RecordError(
            "INVALID_FIELD",
            f"The value of the external ID field {key_field.name} in the body does not match "
            "the value in the URL",
            (key_field.name,),
        )
    if key_field.name == "Id":
        return store.prepare_update(obj, str(value), fields, reserved)
    matches = store.find_by_key(obj, key_field, value)
    if len(matches) > 1:
        raise MultipleMatchesError(matches)
    if matches:
        return store.prepare_update(obj, matches[0], fields, reserved)
    if update_only:
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return store.prepare_create(obj, {**fields, key_field.name: value}, user_id, reserved)


class MultipleMatchesError(RecordError):
    """More than one record holds the external id value."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(
            "DUPLICATE_EXTERNAL_ID",
            f"more than one record found for external id field: {ids}",
        )
        self.ids = ids
