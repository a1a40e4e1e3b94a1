"""``/crm/v3/pipelines/{deals|tickets}``: the portal's pipelines and stages, read-only."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import json_response, not_found
from sandbox.hubspot.objecttypes import object_type
from sandbox.hubspot.pipelines import PIPELINES, Pipeline, stage_json
from sandbox.hubspot.routes.inputs import check_scope
from sandbox.hubspot.timefmt import iso


def build_router(emu: HubSpotEmulator) -> APIRouter:
    """The pipelines routes bound to one emulated portal."""
    router = APIRouter(prefix="/crm/v3/pipelines/{object_type}")
    created = iso(emu.properties.created_at)

    def pipelines(request: Request, name: str) -> tuple[Pipeline, ...]:
        otype = object_type(name)
        check_scope(request, otype.read_scope())
        return PIPELINES.get(otype.name, ())

    def one(request: Request, name: str, pipeline_id: str) -> Pipeline:
        for pipeline in pipelines(request, name):
            if pipeline.id == pipeline_id:
                return pipeline
        raise not_found(f"Unable to find pipeline {pipeline_id}")

    @router.get("")
    async def list_pipelines(object_type: str, request: Request) -> Response:
        found = pipelines(request, object_type)
        return json_response({"results": [p.to_json(created) for p in found]})

    @router.get("/{pipeline_id}")
    async def read_pipeline(object_type: str, pipeline_id: str, request: Request) -> Response:
        return json_response(one(request, object_type, pipeline_id).to_json(created))

    @router.get("/{pipeline_id}/stages")
    async def list_stages(object_type: str, pipeline_id: str, request: Request) -> Response:
        stages = one(request, object_type, pipeline_id).stages
        return json_response({"results": [stage_json(s, i, created) for i, s in enumerate(stages)]})

    return router
