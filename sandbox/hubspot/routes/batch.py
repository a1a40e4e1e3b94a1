"""``/crm/v3/objects/{type}/batch/{read,create,update,upsert,archive}``
(docs/crm-api-facts.md §3.4).

At most 100 inputs (50 with ``propertiesWithHistory``). Codes: create 201, read/update/upsert
200, 207 Multi-Status when some inputs failed, archive 204. A create without an
``objectWriteTraceId`` on every input is all-or-nothing: one bad input fails the whole batch
and nothing is written; with trace ids the good inputs are written and the bad ones reported.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.hubspot import linking
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import HubSpotError, json_response, validation_error
from sandbox.hubspot.objecttypes import ObjectType, object_type
from sandbox.hubspot.routes.inputs import check_scope, inputs_of, json_object
from sandbox.hubspot.serialize import record_json
from sandbox.hubspot.timefmt import iso

BATCH_MAX = 100
BATCH_MAX_WITH_HISTORY = 50


def build_router(emu: HubSpotEmulator) -> APIRouter:
    """The batch routes bound to one emulated portal."""
    router = APIRouter(prefix="/crm/v3/objects/{object_type}/batch")

    def envelope(
        started: str, results: list[dict[str, Any]], errors: list[dict[str, Any]]
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "requestedAt": started,
            "startedAt": started,
            "completedAt": iso(emu.sandbox.clock.now()),
            "links": {},
        }
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        return body

    def answer(body: dict[str, Any], ok: int) -> Response:
        return json_response(body, 207 if body.get("errors") else ok)

    @router.post("/read")
    async def batch_read(object_type: str, request: Request) -> Response:
        otype = object_type_checked(request, object_type, write=False)
        body = await json_object(request)
        history = _names(body.get("propertiesWithHistory"))
        inputs = inputs_of(body, BATCH_MAX_WITH_HISTORY if history else BATCH_MAX)
        props = _names(body.get("properties"))
        id_property = body.get("idProperty")
        started = iso(emu.sandbox.clock.now())
        results, missing = [], []
        with emu.store.lock:
            for item in inputs:
                key = str(item.get("id", ""))
                obj = emu.objects.find(otype, key, id_property)
                if obj is None or obj.archived:
                    missing.append(key)
                else:
                    results.append(record_json(obj, otype, props, history))
        errors = []
        if missing:
            errors.append(
                _error(
                    "OBJECT_NOT_FOUND",
                    f"Could not get some {otype.name} objects, they may be deleted or not "
                    "exist. Check that ids are valid.",
                    {"ids": missing},
                )
            )
        return answer(envelope(started, results, errors), 200)

    @router.post("/create")
    async def batch_create(object_type: str, request: Request) -> Response:
        otype = object_type_checked(request, object_type, write=True)
        inputs = inputs_of(await json_object(request), BATCH_MAX)
        partial = bool(inputs) and all(i.get("objectWriteTraceId") for i in inputs)
        started = iso(emu.sandbox.clock.now())
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with emu.store.lock:
            if not partial:
                _dry_run_creates(emu, otype, inputs)
            for item in inputs:
                try:
                    links = linking.parse_inline(emu.objects, otype, item.get("associations"))
                    obj = emu.objects.create(otype, _props(item))
                    linking.apply(emu.associations, otype, obj.id, links)
                except HubSpotError as error:
                    errors.append(_from(error, item))
                    continue
                result = record_json(obj, otype, tuple(obj.properties))
                if item.get("objectWriteTraceId"):
                    result["objectWriteTraceId"] = str(item["objectWriteTraceId"])
                results.append(result)
        return answer(envelope(started, results, errors), 201)

    @router.post("/update")
    async def batch_update(object_type: str, request: Request) -> Response:
        otype = object_type_checked(request, object_type, write=True)
        body = await json_object(request)
        inputs = inputs_of(body, BATCH_MAX)
        partial = bool(inputs) and all(i.get("objectWriteTraceId") for i in inputs)
        started = iso(emu.sandbox.clock.now())
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        missing: list[str] = []
        with emu.store.lock:
            if not partial:
                for item in inputs:  # invalid values fail the whole batch up front
                    emu.properties.normalise(otype, _props(item), creating=False)
            for item in inputs:
                key = str(item.get("id", ""))
                id_property = item.get("idProperty") or body.get("idProperty")
                found = emu.objects.find(otype, key, id_property)
                if found is None or found.archived:
                    missing.append(key)
                    continue
                try:
                    obj = emu.objects.update(otype, key, _props(item), id_property)
                except HubSpotError as error:
                    errors.append(_from(error, item))
                    continue
                results.append(record_json(obj, otype, tuple(obj.properties)))
        if missing:
            errors.append(_error("OBJECT_NOT_FOUND", "resource not found", {"ids": missing}))
        return answer(envelope(started, results, errors), 200)

    @router.post("/upsert")
    async def batch_upsert(object_type: str, request: Request) -> Response:
        otype = object_type_checked(request, object_type, write=True)
        body = await json_object(request)
        inputs = inputs_of(body, BATCH_MAX)
        started = iso(emu.sandbox.clock.now())
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with emu.store.lock:
            for item in inputs:
                id_property = item.get("idProperty") or body.get("idProperty")
                if id_property and id_property not in emu.properties.unique_names(otype):
                    raise validation_error(
                        f"idProperty {id_property} is not a unique-value property of "
                        f"{otype.name}; upsert needs one (hasUniqueValue: true)."
                    )
                try:
                    obj, new = emu.objects.upsert(
                        otype, str(item.get("id", "")), id_property, _props(item)
                    )
                except HubSpotError as error:
                    errors.append(_from(error, item))
                    continue
                result = record_json(obj, otype, tuple(obj.properties))
                result["new"] = new
                if item.get("objectWriteTraceId"):
                    result["objectWriteTraceId"] = str(item["objectWriteTraceId"])
                results.append(result)
        return answer(envelope(started, results, errors), 200)

    @router.post("/archive")
    async def batch_archive(object_type: str, request: Request) -> Response:
        otype = object_type_checked(request, object_type, write=True)
        inputs = inputs_of(await json_object(request), BATCH_MAX)
        for item in inputs:
            emu.objects.archive(otype, str(item.get("id", "")))
        return Response(status_code=204)

    return router


def object_type_checked(request: Request, name: str, *, write: bool) -> ObjectType:
    """The object type of the path, after the caller's scope check."""
    otype = object_type(name)
    check_scope(request, otype.write_scope() if write else otype.read_scope())
    return otype


def _dry_run_creates(emu: HubSpotEmulator, otype: ObjectType, inputs: list[dict[str, Any]]) -> None:
    """Raise the first error any input would hit, before anything is written."""
    seen: dict[str, dict[str, str]] = {}
    unique = emu.properties.unique_names(otype)
    for item in inputs:
        values = emu.properties.normalise(otype, _props(item), creating=True)
        linking.parse_inline(emu.objects, otype, item.get("associations"))
        for name in unique:
            value = values.get(name)
            if value is None:
                continue
            key = value.lower() if name == "email" else value
            table = emu.store.table(otype.name).unique.get(name, {})
            if key in seen.setdefault(name, {}) or key in table:
                holder = table.get(key)
                raise HubSpotError(
                    409,
                    "CONFLICT",
                    f"Contact already exists. Existing ID: {holder}"
                    if name == "email" and holder is not None
                    else f"Duplicate value for unique property {name}: {value}",
                )
            seen[name][key] = ""


def _props(item: dict[str, Any]) -> dict[str, Any]:
    properties = item.get("properties", {})
    if not isinstance(properties, dict):
        raise validation_error("properties must be an object of name -> value")
    return properties


def _names(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise validation_error("property lists must be lists of names")
    return tuple(raw)


def _error(category: str, message: str, context: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    }


def _from(error: HubSpotError, item: dict[str, Any]) -> dict[str, Any]:
    context = dict(error.context or {})
    if item.get("objectWriteTraceId"):
        context["objectWriteTraceId"] = [str(item["objectWriteTraceId"])]
    if item.get("id"):
        context.setdefault("ids", [str(item["id"])])
    data = _error(error.category, error.message, context)
    if error.sub_category:
        data["subCategory"] = error.sub_category
    return data
