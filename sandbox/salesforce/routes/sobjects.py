"""sObject resources: describe, CRUD by id, external-id get/upsert/delete, getUpdated/getDeleted
(docs/crm-api-facts.md §2.4, §2.5, §2.10)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import RecordError, SalesforceApiError, not_found
from sandbox.salesforce.ids import looks_like_id
from sandbox.salesforce.responses import format_datetime, json_response, parse_datetime
from sandbox.salesforce.routes.common import (
    DATA,
    add,
    authorize,
    read_json,
    read_object,
    record_url,
    render_record,
    requested_fields,
)
from sandbox.salesforce.schema import ObjectDef
from sandbox.salesforce.store import Record
from sandbox.salesforce.writes import (
    MultipleMatchesError,
    external_id_field,
    prepare_upsert,
)

MAX_REPLICATION_IDS = 600_000
UPDATED_WINDOW = timedelta(days=30)
DELETED_WINDOW = timedelta(days=15)


def _created(record_id: str, created: bool = True) -> dict[str, Any]:
    return {"id": record_id, "success": True, "errors": [], "created": created}


def _lift(exc: RecordError) -> SalesforceApiError:
    return SalesforceApiError.from_record_error(exc)


def _fetch(emu: SalesforceEmulator, obj: ObjectDef, record_id: str) -> Record:
    if not looks_like_id(record_id):
        raise SalesforceApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {record_id}",
        )
    record = emu.store.get(obj, record_id, include_deleted=True)
    if record is None:
        raise not_found()
    if record.get("IsDeleted"):
        raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return record


def _replication_window(
    emu: SalesforceEmulator, request: Request, oldest: timedelta
) -> tuple[datetime, datetime]:
    def parse(name: str) -> datetime:
        raw = request.query_params.get(name)
        if not raw:
            raise SalesforceApiError(400, "MISSING_ARGUMENT", f"{name} not specified")
        try:
            return parse_datetime(raw)
        except ValueError:
            raise SalesforceApiError(
                400, "INVALID_REPLICATION_DATE", f"{name}: invalid date: {raw}"
            ) from None

    start, end = parse("start"), parse("end")
    now = emu.state.clock.now()
    # The API works in whole minutes (docs/crm-api-facts.md §2.10).
    start = start.replace(second=0, microsecond=0)
    end = min(end, now).replace(second=0, microsecond=0)
    if end < start:
        raise SalesforceApiError(400, "INVALID_REPLICATION_DATE", "end date before start date")
    if start < now - oldest:
        raise SalesforceApiError(
            400,
            "INVALID_REPLICATION_DATE",
            f"startDate cannot be more than {oldest.days} days ago",
        )
    return start, end


def build_sobjects_router(emu: SalesforceEmulator) -> APIRouter:
    """All `/sobjects` routes bound to one emulator."""
    router = APIRouter()
    schema = emu.store.schema
    store = emu.store

    async def describe_global(request: Request, version: str) -> Response:
        authorize(emu, request)
        return json_response(
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [o.summary(version) for o in schema.objects()],
            }
        )

    async def object_info(request: Request, version: str, name: str) -> Response:
        session = authorize(emu, request)
        obj = schema.object(name)
        if request.method == "POST":
            body = read_object(await read_json(request))
            try:
                pending = store.prepare_create(obj, body, session.user_id, set())
            except RecordError as exc:
                raise _lift(exc) from None
            record_id = store.commit(pending, session.user_id)
            return json_response({"id": record_id, "success": True, "errors": []}, 201)
        return json_response({"objectDescribe": obj.summary(version), "recentItems": []})

    async def describe(request: Request, version: str, name: str) -> Response:
        authorize(emu, request)
        return json_response(schema.object(name).describe(version))

    async def updated(request: Request, version: str, name: str) -> Response:
        authorize(emu, request)
        obj = schema.object(name)
        start, end = _replication_window(emu, request, UPDATED_WINDOW)
        low, high = format_datetime(start), format_datetime(end)
        ids = [r["Id"] for r in store.rows(obj) if low <= r.get("SystemModstamp", "") < high]
        if len(ids) > MAX_REPLICATION_IDS:
            raise SalesforceApiError(400, "EXCEEDED_ID_LIMIT", "too many ids; narrow the window")
        return json_response({"ids": ids, "latestDateCovered": high})

    async def deleted(request: Request, version: str, name: str) -> Response:
        authorize(emu, request)
        obj = schema.object(name)
        start, end = _replication_window(emu, request, DELETED_WINDOW)
        low, high = format_datetime(start), format_datetime(end)
        rows = store.deleted_since(obj, low, high)
        if len(rows) > MAX_REPLICATION_IDS:
            raise SalesforceApiError(400, "EXCEEDED_ID_LIMIT", "too many ids; narrow the window")
        return json_response(
            {
                "deletedRecords": [{"id": i, "deletedDate": at} for i, at in rows],
                "earliestDateAvailable": format_datetime(emu.state.clock.now() - DELETED_WINDOW),
                "latestDateCovered": high,
            }
        )

    async def by_id(request: Request, version: str, name: str, record_id: str) -> Response:
        session = authorize(emu, request)
        obj = schema.object(name)
        if request.method == "GET":
            record = _fetch(emu, obj, record_id)
            fields = requested_fields(obj, request.query_params.get("fields"))
            return json_response(render_record(obj, record, version, fields))
        if request.method == "PATCH":
            body = read_object(await read_json(request))
            _fetch(emu, obj, record_id)
            try:
                pending = store.prepare_update(obj, record_id, body, set())
            except RecordError as exc:
                raise _lift(exc) from None
            store.commit(pending, session.user_id)
            return Response(status_code=204)
        _fetch(emu, obj, record_id)
        store.delete(obj, record_id, session.user_id)
        return Response(status_code=204)

    async def by_external_id(
        request: Request, version: str, name: str, field: str, value: str
    ) -> Response:
        session = authorize(emu, request)
        obj = schema.object(name)
        key = external_id_field(obj, field)
        if request.method == "PATCH":
            body = read_object(await read_json(request))
            update_only = request.query_params.get("updateOnly", "").lower() == "true"
            try:
                pending = prepare_upsert(
                    store, obj, key, value, body, session.user_id, set(), update_only
                )
            except MultipleMatchesError as exc:
                return _multiple(obj, exc.ids, version)
            except RecordError as exc:
                raise _lift(exc) from None
            record_id = store.commit(pending, session.user_id)
            # Recent API versions answer an update with 200 + created:false
            # (docs/crm-api-facts.md §2.5).
            status = 201 if pending.created else 200
            return json_response(_created(record_id, pending.created), status)
        if key.name == "Id":
            matches = [value] if store.get(obj, value) else []
        else:
            matches = store.find_by_key(obj, key, value)
        if not matches:
            raise not_found()
        if len(matches) > 1:
            return _multiple(obj, matches, version)
        if request.method == "DELETE":
            store.delete(obj, matches[0], session.user_id)
            return Response(status_code=204)
        record = _fetch(emu, obj, matches[0])
        fields = requested_fields(obj, request.query_params.get("fields"))
        return json_response(render_record(obj, record, version, fields))

    base = f"{DATA}/sobjects"
    add(router, base, describe_global, ["GET"])
    add(router, f"{base}/{{name}}", object_info, ["GET", "POST"])
    add(router, f"{base}/{{name}}/describe", describe, ["GET"])
    add(router, f"{base}/{{name}}/updated", updated, ["GET"])
    add(router, f"{base}/{{name}}/deleted", deleted, ["GET"])
    add(router, f"{base}/{{name}}/{{record_id}}", by_id, ["GET", "PATCH", "DELETE"])
    add(
        router,
        f"{base}/{{name}}/{{field}}/{{value}}",
        by_external_id,
        ["GET", "PATCH", "DELETE"],
    )
    return router


def _multiple(obj: ObjectDef, ids: list[str], version: str) -> Response:
    # 300 Multiple Choices with the matching records' URLs (docs/crm-api-facts.md §2.4, §2.5).
    return json_response([record_url(version, obj.name, i) for i in ids], 300)
