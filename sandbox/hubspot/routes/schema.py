"""``/crm/v3/properties``: property definitions and groups (docs/crm-api-facts.md §3.8).

Create answers 201 (the client returns None on anything else); an existing name is a 409.
``hasUniqueValue: true`` properties become usable as ``idProperty`` at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import HubSpotError, json_response, not_found, validation_error
from sandbox.hubspot.objecttypes import ObjectType, object_type
from sandbox.hubspot.routes.inputs import check_scope, inputs_of, json_object
from sandbox.hubspot.timefmt import iso

BATCH_MAX = 100


def _schema_type(request: Request, name: str, *, write: bool) -> ObjectType:
    otype = object_type(name)
    check_scope(request, f"crm.schemas.{otype.name}.{'write' if write else 'read'}")
    return otype


def build_router(emu: HubSpotEmulator) -> APIRouter:
    """The properties routes bound to one emulated portal."""
    router = APIRouter(prefix="/crm/v3/properties/{object_type}")

    @router.get("/groups")
    async def list_groups(object_type: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=False)
        return json_response({"results": [g.to_json() for g in emu.properties.groups(otype)]})

    @router.post("/groups")
    async def create_group(object_type: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=True)
        group = emu.properties.create_group(otype, await json_object(request))
        return json_response(group.to_json(), 201)

    @router.get("/groups/{group_name}")
    async def read_group(object_type: str, group_name: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=False)
        return json_response(emu.properties.group(otype, group_name).to_json())

    @router.get("")
    async def list_properties(object_type: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=False)
        return json_response({"results": [p.to_json() for p in emu.properties.all(otype)]})

    @router.post("")
    async def create_property(object_type: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=True)
        prop = emu.properties.create(otype, await json_object(request), emu.sandbox.clock.now())
        return json_response(prop.to_json(), 201)

    @router.post("/batch/read")
    async def batch_read(object_type: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=False)
        inputs = inputs_of(await json_object(request), BATCH_MAX)
        started = iso(emu.sandbox.clock.now())
        results, missing = [], []
        for item in inputs:
            prop = emu.properties.get(otype, str(item.get("name", "")))
            if prop is None:
                missing.append(str(item.get("name", "")))
            else:
                results.append(prop.to_json())
        body = _envelope(started, iso(emu.sandbox.clock.now()), results)
        if missing:
            body["numErrors"] = len(missing)
            body["errors"] = [
                _error("OBJECT_NOT_FOUND", f"Property {name} does not exist", name)
                for name in missing
            ]
        return json_response(body, 207 if missing else 200)

    @router.post("/batch/create")
    async def batch_create(object_type: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=True)
        inputs = inputs_of(await json_object(request), BATCH_MAX)
        started = iso(emu.sandbox.clock.now())
        results, errors = [], []
        for item in inputs:
            try:
                results.append(
                    emu.properties.create(otype, item, emu.sandbox.clock.now()).to_json()
                )
            except HubSpotError as error:
                errors.append(_error(error.category, error.message, str(item.get("name", ""))))
        body = _envelope(started, iso(emu.sandbox.clock.now()), results)
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        return json_response(body, 207 if errors else 201)

    @router.get("/{property_name}")
    async def read_property(object_type: str, property_name: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=False)
        prop = emu.properties.get(otype, property_name)
        if prop is None:
            raise not_found(f"Property {property_name} does not exist")
        return json_response(prop.to_json())

    @router.delete("/{property_name}")
    async def archive_property(object_type: str, property_name: str, request: Request) -> Response:
        otype = _schema_type(request, object_type, write=True)
        prop = emu.properties.get(otype, property_name)
        if prop is None:
            raise not_found(f"Property {property_name} does not exist")
        if prop.hubspot_defined:
            raise validation_error(f"HubSpot-defined property {property_name} cannot be archived")
        emu.properties.archive(otype, property_name)
        return Response(status_code=204)

    return router


def _envelope(started: str, completed: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": completed,
    }


def _error(category: str, message: str, name: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": {"propertyName": [name]},
        "errors": [],
        "links": {},
    }
