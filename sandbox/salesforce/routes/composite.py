"""sObject Collections: create, update, upsert, delete and retrieve up to 200 records in one
call, with per-record results and `allOrNone` (docs/crm-api-facts.md §2.6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import RecordError, SalesforceApiError
from sandbox.salesforce.ids import looks_like_id
from sandbox.salesforce.responses import json_response
from sandbox.salesforce.routes.common import (
    DATA,
    add,
    authorize,
    read_json,
    read_object,
    render_record,
    requested_fields,
)
from sandbox.salesforce.schema import ObjectDef
from sandbox.salesforce.store import PendingWrite
from sandbox.salesforce.writes import (
    Preparer,
    external_id_field,
    prepare_upsert,
    run_batch,
)

MAX_RECORDS = 200
MAX_RETRIEVE_IDS = 2000
MAX_TYPE_CHUNKS = 10


def _too_many(limit: int) -> SalesforceApiError:
    return SalesforceApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {limit} records into this call",
    )


def _records(body: dict[str, Any]) -> tuple[list[Any], bool]:
    records = body.get("records")
    if not isinstance(records, list):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "records: a JSON array is required")
    if len(records) > MAX_RECORDS:
        raise _too_many(MAX_RECORDS)
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "allOrNone: a boolean is required")
    return records, all_or_none


def _failing(error: RecordError) -> Preparer:
    def prepare(reserved: set[tuple[str, str]]) -> PendingWrite:
        raise error

    return prepare


def _typed(emu: SalesforceEmulator, record: Any) -> tuple[ObjectDef, dict[str, Any]]:
    if not isinstance(record, dict):
        raise RecordError("JSON_PARSER_ERROR", "each record must be a JSON object")
    attributes = record.get("attributes")
    type_name = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(type_name, str):
        raise RecordError("INVALID_TYPE", "Must send a concrete entity type.", ("attributes",))
    try:
        return emu.store.schema.object(type_name), record
    except SalesforceApiError as exc:
        raise RecordError(exc.error_code, exc.message) from None


def _check_chunks(emu: SalesforceEmulator, records: list[Any]) -> None:
    # Mixed types are processed as consecutive same-type chunks, at most ten of them.
    chunks = 0
    previous = None
    for record in records:
        attributes = record.get("attributes") if isinstance(record, dict) else None
        current = attributes.get("type") if isinstance(attributes, dict) else None
        if current != previous:
            chunks += 1
            previous = current
    if chunks > MAX_TYPE_CHUNKS:
        raise SalesforceApiError(
            400,
            "INVALID_BATCH_REQUEST",
            f"Number of object types in a single request cannot exceed {MAX_TYPE_CHUNKS}",
        )


def build_composite_router(emu: SalesforceEmulator) -> APIRouter:
    """`/composite/sobjects` routes."""
    router = APIRouter()
    store = emu.store

    def results(
        preparers: list[Preparer], all_or_none: bool, user_id: str, upsert: bool = False
    ) -> Response:
        outcome = run_batch(store, preparers, all_or_none, user_id)
        return json_response([r.as_json(with_created=upsert) for r in outcome])

    def create_preparer(record: Any, user_id: str) -> Preparer:
        try:
            obj, body = _typed(emu, record)
        except RecordError as exc:
            return _failing(exc)
        if any(k.lower() == "id" and v for k, v in body.items()):
            return _failing(
                RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ("Id",))
            )
        return lambda reserved: store.prepare_create(obj, body, user_id, reserved)

    def update_preparer(record: Any) -> Preparer:
        try:
            obj, body = _typed(emu, record)
        except RecordError as exc:
            return _failing(exc)
        record_id = next((v for k, v in body.items() if k.lower() == "id"), None)
        if not isinstance(record_id, str) or not record_id:
            return _failing(RecordError("MISSING_ARGUMENT", "Id not specified in an update call"))
        fields = {k: v for k, v in body.items() if k.lower() != "id"}
        return lambda reserved: store.prepare_update(obj, record_id, fields, reserved)

    async def collection(request: Request, version: str) -> Response:
        session = authorize(emu, request)
        if request.method == "DELETE":
            return delete(request, session.user_id)
        if request.method == "GET":
            raise SalesforceApiError(
                400, "METHOD_NOT_ALLOWED", "Retrieve needs the object: /composite/sobjects/{Obj}"
            )
        records, all_or_none = _records(read_object(await read_json(request)))
        _check_chunks(emu, records)
        if request.method == "POST":
            preparers = [create_preparer(r, session.user_id) for r in records]
        else:
            preparers = [update_preparer(r) for r in records]
        return results(preparers, all_or_none, session.user_id)

    def delete(request: Request, user_id: str) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if not ids:
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "ids not specified")
        if len(ids) > MAX_RECORDS:
            raise _too_many(MAX_RECORDS)
        all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"

        def delete_preparer(record_id: str) -> Preparer:
            obj = store.schema.by_prefix(record_id) if looks_like_id(record_id) else None
            if obj is None:
                return _failing(RecordError("MALFORMED_ID", f"malformed id {record_id}", ("Id",)))
            return lambda reserved: store.prepare_delete(obj, record_id)

        return results([delete_preparer(i) for i in ids], all_or_none, user_id)

    async def typed_collection(request: Request, version: str, name: str) -> Response:
        authorize(emu, request)
        obj = store.schema.object(name)
        if request.method == "POST":
            body = read_object(await read_json(request))
            ids, fields_param = body.get("ids"), body.get("fields")
            if not isinstance(ids, list) or not isinstance(fields_param, list):
                raise SalesforceApiError(400, "JSON_PARSER_ERROR", "ids and fields are required")
            fields_text = ",".join(str(f) for f in fields_param)
            id_list = [str(i) for i in ids]
        else:
            id_list = [i for i in request.query_params.get("ids", "").split(",") if i]
            fields_text = request.query_params.get("fields", "")
        if not id_list or not fields_text:
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "ids and fields are required")
        if len(id_list) > MAX_RETRIEVE_IDS:
            raise _too_many(MAX_RETRIEVE_IDS)
        fields = requested_fields(obj, fields_text)
        out: list[dict[str, Any] | None] = []
        for record_id in id_list:
            record = store.get(obj, record_id)
            out.append(render_record(obj, record, version, fields) if record else None)
        return json_response(out)

    async def upsert(request: Request, version: str, name: str, field: str) -> Response:
        session = authorize(emu, request)
        obj = store.schema.object(name)
        key = external_id_field(obj, field)
        records, all_or_none = _records(read_object(await read_json(request)))
        seen: set[str] = set()

        def upsert_preparer(record: Any) -> Preparer:
            try:
                typed, body = _typed(emu, record)
            except RecordError as exc:
                return _failing(exc)
            if typed.name != obj.name:
                return _failing(
                    RecordError("INVALID_TYPE", f"records must all be {obj.name}", ("attributes",))
                )
            value = next((v for k, v in body.items() if k.lower() == key.name.lower()), None)
            marker = str(value).lower()
            if value is not None and marker in seen:
                return _failing(
                    RecordError(
                        "DUPLICATE_EXTERNAL_ID",
                        f"Duplicate external id specified: {value}",
                        (key.name,),
                    )
                )
            seen.add(marker)
            return _upsert_one(typed, value, body, session.user_id)

        def _upsert_one(
            typed: ObjectDef, value: Any, body: dict[str, Any], user_id: str
        ) -> Preparer:
            return lambda reserved: prepare_upsert(
                store, typed, key, value, body, user_id, reserved
            )

        preparers: list[Callable[[set[tuple[str, str]]], PendingWrite]] = [
            upsert_preparer(r) for r in records
        ]
        return results(preparers, all_or_none, session.user_id, upsert=True)

    base = f"{DATA}/composite/sobjects"
    add(router, base, collection, ["POST", "PATCH", "DELETE", "GET"])
    add(router, f"{base}/{{name}}", typed_collection, ["GET", "POST"])
    add(router, f"{base}/{{name}}/{{field}}", upsert, ["PATCH"])
    return router
