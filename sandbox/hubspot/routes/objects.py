"""``/crm/v3/objects/{type}``: list, read, create, update, archive, search, merge, GDPR delete.

Success codes are exact because the Python client picks its model by status (docs/crm-api-facts.md
§1.3): create 201, read/list/update/search 200, archive 204.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.hubspot import linking, search
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import json_response, not_found, validation_error
from sandbox.hubspot.merge import merge
from sandbox.hubspot.objecttypes import ObjectType, object_type
from sandbox.hubspot.routes.inputs import (
    check_scope,
    cursor,
    flag,
    integer,
    json_object,
    names,
)
from sandbox.hubspot.serialize import record_json, snapshot_json
from sandbox.hubspot.store import StoredObject

LIST_MAX = 100  # list pages hold at most 100 records (docs/crm-api-facts.md §6)
BASE = "/crm/v3/objects"


def build_router(emu: HubSpotEmulator) -> APIRouter:
    """The object routes bound to one emulated portal."""
    router = APIRouter(prefix=BASE)

    def readable(request: Request, name: str) -> ObjectType:
        otype = object_type(name)
        check_scope(request, otype.read_scope())
        return otype

    def writable(request: Request, name: str) -> ObjectType:
        otype = object_type(name)
        check_scope(request, otype.write_scope())
        return otype

    def present(request: Request, otype: ObjectType, obj: StoredObject) -> dict[str, Any]:
        data = record_json(
            obj, otype, names(request, "properties"), names(request, "propertiesWithHistory") or ()
        )
        to_names = names(request, "associations")
        if to_names:
            expanded = linking.expand(emu.associations, otype, obj.id, to_names)
            if expanded:
                data["associations"] = expanded
        return data

    @router.get("/{object_type}")
    async def list_page(object_type: str, request: Request) -> Response:
        otype = readable(request, object_type)
        limit = integer(request, "limit", 10, 1, LIST_MAX)
        after = cursor(request.query_params.get("after"))
        table = emu.store.table(otype.name)
        with emu.store.lock:
            page, next_after = table.page(after, limit, archived=flag(request, "archived"))
        body: dict[str, Any] = {"results": [present(request, otype, o) for o in page]}
        if next_after is not None:
            token = str(next_after)
            link = f"{request.url.path}?after={token}&limit={limit}"
            body["paging"] = {"next": {"after": token, "link": link}}
        return json_response(body)

    @router.get("/{object_type}/{object_id}")
    async def read(object_type: str, object_id: str, request: Request) -> Response:
        otype = readable(request, object_type)
        id_property = request.query_params.get("idProperty")
        with emu.store.lock:
            obj = emu.objects.find(otype, object_id, id_property)
        # Archived records 404 unless asked for with archived=true (docs/crm-api-facts.md §3.3).
        if obj is None or obj.archived != flag(request, "archived"):
            raise not_found()
        return json_response(present(request, otype, obj))

    @router.post("/{object_type}")
    async def create(object_type: str, request: Request) -> Response:
        otype = writable(request, object_type)
        body = await json_object(request)
        properties = _properties(body)
        with emu.store.lock:
            links = linking.parse_inline(emu.objects, otype, body.get("associations"))
            obj = emu.objects.create(otype, properties)
            linking.apply(emu.associations, otype, obj.id, links)
        return json_response(record_json(obj, otype, tuple(obj.properties)), 201)

    @router.patch("/{object_type}/{object_id}")
    async def update(object_type: str, object_id: str, request: Request) -> Response:
        otype = writable(request, object_type)
        body = await json_object(request)
        obj = emu.objects.update(
            otype, object_id, _properties(body), request.query_params.get("idProperty")
        )
        return json_response(record_json(obj, otype, tuple(obj.properties)))

    @router.delete("/{object_type}/{object_id}")
    async def archive(object_type: str, object_id: str, request: Request) -> Response:
        otype = writable(request, object_type)
        emu.objects.archive(otype, object_id)
        return Response(status_code=204)

    @router.post("/{object_type}/search")
    async def do_search(object_type: str, request: Request) -> Response:
        otype = readable(request, object_type)

        def associated(other: ObjectType, key: str) -> frozenset[int]:
            found = emu.objects.find(other, key, None)
            if found is None:
                return frozenset()
            return frozenset(emu.associations.targets(other, found.id, otype))

        parsed = search.parse_request(await json_object(request), otype, emu.properties, associated)
        table = emu.store.table(otype.name)
        with emu.store.lock:
            index = table.searchable(emu.sandbox.clock.now())
            total, hits = emu.search_cache.page(
                parsed, otype, emu.properties, index, table.index_version
            )
        body: dict[str, Any] = {
            "total": total,
            "results": [snapshot_json(i, v, otype, parsed.properties) for i, v in hits],
        }
        following = parsed.after + len(hits)
        if hits and following < total:
            body["paging"] = {"next": {"after": str(following), "link": None}}
        return json_response(body)

    @router.post("/{object_type}/merge")
    async def merge_records(object_type: str, request: Request) -> Response:
        otype = writable(request, object_type)
        body = await json_object(request)
        primary, other = body.get("primaryObjectId"), body.get("objectIdToMerge")
        if not isinstance(primary, str | int) or not isinstance(other, str | int):
            raise validation_error("primaryObjectId and objectIdToMerge are required")
        survivor = merge(emu.objects, emu.associations, otype, str(primary), str(other))
        return json_response(record_json(survivor, otype, tuple(survivor.properties)))

    @router.post("/contacts/gdpr-delete")
    async def gdpr_delete(request: Request) -> Response:
        otype = writable(request, "contacts")
        body = await json_object(request)
        key = body.get("objectId")
        if not isinstance(key, str | int):
            raise validation_error("objectId is required")
        with emu.store.lock:
            obj = emu.objects.find(otype, str(key), body.get("idProperty"))
            if obj is None and body.get("idProperty") == "email":
                # HubSpot answers 204 and blocklists an unknown email (not emulated).
                return Response(status_code=204)
            if obj is None:
                raise not_found()
            emu.objects.purge(otype, obj)
            emu.associations.forget(otype, obj.id)
        return Response(status_code=204)

    return router


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    properties = body.get("properties", {})
    if not isinstance(properties, dict):
        raise validation_error("properties must be an object of name -> value")
    return properties
