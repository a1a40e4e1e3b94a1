"""Associations v4 (docs/crm-api-facts.md §3.6): read, labelled and default create, delete, batch,
labels.

Codes the client depends on: labelled PUT 201, default PUT 200, delete 204, batch create 201,
batch read 200 (207 with errors), batch archive 204, default batch associate 200.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.hubspot import associations as assoc
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import HubSpotError, json_response, not_found, validation_error
from sandbox.hubspot.objecttypes import ObjectType, object_type
from sandbox.hubspot.routes.inputs import (
    check_scope,
    cursor,
    inputs_of,
    integer,
    json_body,
    json_object,
)
from sandbox.hubspot.timefmt import iso

READ_MAX = 1000  # batch read accepts at most 1,000 inputs since 2025-02-10 (§3.6)
CREATE_MAX = 2000  # third-party figure (§3.6)


def build_router(emu: HubSpotEmulator) -> APIRouter:
    """The v4 association routes bound to one emulated portal."""
    router = APIRouter(prefix="/crm/v4")

    def live(otype: ObjectType, key: Any) -> int:
        obj = emu.objects.find(otype, str(key), None)
        if obj is None or obj.archived:
            raise not_found(f"{otype.singular} {key} does not exist")
        return obj.id

    def pair(request: Request, a: str, b: str, *, write: bool) -> tuple[ObjectType, ObjectType]:
        types = object_type(a), object_type(b)
        for otype in types:
            check_scope(request, otype.write_scope() if write else otype.read_scope())
        return types

    def now() -> str:
        return iso(emu.sandbox.clock.now())

    def pair_json(a: ObjectType, a_id: int, b: ObjectType, b_id: int) -> dict[str, Any]:
        type_ids = emu.associations.targets(a, a_id, b).get(b_id, ())
        return {
            "fromObjectTypeId": a.type_id,
            "fromObjectId": a_id,
            "toObjectTypeId": b.type_id,
            "toObjectId": b_id,
            "labels": [t["label"] for t in assoc.type_json(a, b, type_ids) if t["label"]],
        }

    @router.get("/objects/{from_type}/{from_id}/associations/{to_type}")
    async def read(from_type: str, from_id: str, to_type: str, request: Request) -> Response:
        a, b = pair(request, from_type, to_type, write=False)
        limit = integer(request, "limit", 500, 1, 500)
        after = cursor(request.query_params.get("after"))
        a_id = live(a, from_id)
        targets = sorted(emu.associations.targets(a, a_id, b).items())
        if after is not None:
            targets = [t for t in targets if t[0] > after]
        page = targets[:limit]
        body: dict[str, Any] = {
            "results": [
                {"toObjectId": to_id, "associationTypes": assoc.type_json(a, b, type_ids)}
                for to_id, type_ids in page
            ]
        }
        if len(targets) > limit:
            body["paging"] = {"next": {"after": str(page[-1][0]), "link": None}}
        return json_response(body)

    @router.put("/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}")
    async def create_default(
        from_type: str, from_id: str, to_type: str, to_id: str, request: Request
    ) -> Response:
        a, b = pair(request, from_type, to_type, write=True)
        started = now()
        with emu.store.lock:
            a_id, b_id = live(a, from_id), live(b, to_id)
            kind = assoc.default_type(a, b)
            emu.associations.add(a, a_id, b, b_id, kind.type_id)
        reverse = assoc.default_type(b, a)
        results = [
            _spec(a_id, b_id, kind),
            _spec(b_id, a_id, reverse),
        ]
        return json_response(
            {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now()}
        )

    @router.put("/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}")
    async def create_labelled(
        from_type: str, from_id: str, to_type: str, to_id: str, request: Request
    ) -> Response:
        a, b = pair(request, from_type, to_type, write=True)
        specs = await json_body(request)
        if not isinstance(specs, list) or not specs:
            raise validation_error("Body must be a non-empty list of association types")
        with emu.store.lock:
            a_id, b_id = live(a, from_id), live(b, to_id)
            type_ids = [_type_id(a, b, spec) for spec in specs]
            for type_id in type_ids:
                emu.associations.add(a, a_id, b, b_id, type_id)
        return json_response(pair_json(a, a_id, b, b_id), 201)

    @router.delete("/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}")
    async def delete(
        from_type: str, from_id: str, to_type: str, to_id: str, request: Request
    ) -> Response:
        a, b = pair(request, from_type, to_type, write=True)
        emu.associations.remove(a, int(_digits(from_id)), b, int(_digits(to_id)))
        return Response(status_code=204)

    @router.get("/associations/{from_type}/{to_type}/labels")
    async def labels(from_type: str, to_type: str, request: Request) -> Response:
        a, b = pair(request, from_type, to_type, write=False)
        return json_response({"results": [t.to_json() for t in assoc.labels(a, b)]})

    @router.post("/associations/{from_type}/{to_type}/batch/read")
    async def batch_read(from_type: str, to_type: str, request: Request) -> Response:
        a, b = pair(request, from_type, to_type, write=False)
        inputs = inputs_of(await json_object(request), READ_MAX)
        started = now()
        results, missing = [], []
        for item in inputs:
            key = str(item.get("id", ""))
            obj = emu.objects.find(a, key, None)
            if obj is None or obj.archived:
                missing.append(key)
                continue
            targets = sorted(emu.associations.targets(a, obj.id, b).items())
            results.append(
                {
                    "from": {"id": str(obj.id)},
                    "to": [
                        {"toObjectId": to_id, "associationTypes": assoc.type_json(a, b, tids)}
                        for to_id, tids in targets
                    ],
                }
            )
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": now(),
        }
        if missing:
            body["numErrors"] = len(missing)
            body["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"No {a.singular} with id {key}",
                    "context": {"fromObjectId": [key]},
                    "errors": [],
                    "links": {},
                }
                for key in missing
            ]
        return json_response(body, 207 if missing else 200)

    @router.post("/associations/{from_type}/{to_type}/batch/create")
    async def batch_create(from_type: str, to_type: str, request: Request) -> Response:
        a, b = pair(request, from_type, to_type, write=True)
        inputs = inputs_of(await json_object(request), CREATE_MAX)
        started = now()
        made: list[tuple[int, int, list[int]]] = []
        with emu.store.lock:
            for item in inputs:  # validate everything, then write
                a_id, b_id = live(a, _ref(item, "from")), live(b, _ref(item, "to"))
                specs = item.get("types")
                if not isinstance(specs, list) or not specs:
                    raise validation_error("each input needs a non-empty types list")
                made.append((a_id, b_id, [_type_id(a, b, s) for s in specs]))
            for a_id, b_id, type_ids in made:
                for type_id in type_ids:
                    emu.associations.add(a, a_id, b, b_id, type_id)
        results = [pair_json(a, a_id, b, b_id) for a_id, b_id, _ in made]
        return json_response(
            {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now()},
            201,
        )

    @router.post("/associations/{from_type}/{to_type}/batch/associate/default")
    async def batch_default(from_type: str, to_type: str, request: Request) -> Response:
        a, b = pair(request, from_type, to_type, write=True)
        inputs = inputs_of(await json_object(request), CREATE_MAX)
        started = now()
        kind, reverse = assoc.default_type(a, b), assoc.default_type(b, a)
        results = []
        with emu.store.lock:
            ids = [(live(a, _ref(i, "from")), live(b, _ref(i, "to"))) for i in inputs]
            for a_id, b_id in ids:
                emu.associations.add(a, a_id, b, b_id, kind.type_id)
                results += [_spec(a_id, b_id, kind), _spec(b_id, a_id, reverse)]
        return json_response(
            {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now()}
        )

    @router.post("/associations/{from_type}/{to_type}/batch/archive")
    async def batch_archive(from_type: str, to_type: str, request: Request) -> Response:
        a, b = pair(request, from_type, to_type, write=True)
        for item in inputs_of(await json_object(request), CREATE_MAX):
            from_id = int(_digits(_ref(item, "from")))
            targets = item.get("to")
            if not isinstance(targets, list):
                raise validation_error("each input needs a 'to' list")
            for target in targets:
                if isinstance(target, dict):
                    emu.associations.remove(a, from_id, b, int(_digits(target.get("id"))))
        return Response(status_code=204)

    return router


def _spec(a_id: int, b_id: int, kind: assoc.AssociationType) -> dict[str, Any]:
    return {
        "from": {"id": str(a_id)},
        "to": {"id": str(b_id)},
        "associationSpec": {
            "associationCategory": kind.category,
            "associationTypeId": kind.type_id,
        },
    }


def _type_id(a: ObjectType, b: ObjectType, spec: Any) -> int:
    if not isinstance(spec, dict):
        raise validation_error("association types must be objects")
    try:
        type_id = int(spec.get("associationTypeId"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise validation_error("associationTypeId must be an integer") from None
    assoc.resolve(a, b, type_id)
    return type_id


def _ref(item: dict[str, Any], key: str) -> str:
    ref = item.get(key)
    if not isinstance(ref, dict) or ref.get("id") in (None, ""):
        raise validation_error(f"each input needs '{key}': {{'id': ...}}")
    return str(ref["id"])


def _digits(value: Any) -> str:
    text = str(value)
    if not text.isdigit():
        raise HubSpotError(400, "VALIDATION_ERROR", f"{text!r} is not a valid object id")
    return text
