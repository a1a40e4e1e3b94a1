"""Versions, the resource directory and `/limits/` (docs/crm-api-facts.md §2.2, §2.9)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.responses import json_response
from sandbox.salesforce.routes.common import DATA, SUPPORTED_VERSIONS, add, authorize


def build_meta_router(emu: SalesforceEmulator) -> APIRouter:
    """`GET /services/data/` (no auth, not counted), `/vXX.X/` and `/limits/`."""
    router = APIRouter()

    async def versions(request: Request) -> Response:
        return json_response(
            [
                {"label": f"Release {v}", "url": f"/services/data/v{v}", "version": v}
                for v in SUPPORTED_VERSIONS
            ]
        )

    async def resources(request: Request, version: str) -> Response:
        authorize(emu, request)
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "composite", "limits", "tooling")
        return json_response({name: f"{base}/{name}" for name in names})

    async def limits(request: Request, version: str) -> Response:
        authorize(emu, request)
        return json_response(emu.limits.body())

    add(router, "/services/data", versions, ["GET"])
    add(router, DATA, resources, ["GET"])
    add(router, f"{DATA}/limits", limits, ["GET"])
    return router
