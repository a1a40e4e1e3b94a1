"""``GET /crm/v3/schemas``: the portal's custom object schemas.

The emulated portal has no custom objects, so the answer is HubSpot's collection shape with an
empty ``results`` list — which is what real HubSpot answers for a portal without any. Independent
HubSpot clients (the Singer tap, Airbyte's connector) list schemas at start-up to discover
custom objects and abort when the endpoint is missing. Reading it needs the
``crm.schemas.custom.read`` scope. hubspot-api-client's schemas API calls the same list at
``/crm-object-schemas/v3/schemas``; both paths answer.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import json_response
from sandbox.hubspot.routes.inputs import check_scope


def build_router(_emu: HubSpotEmulator) -> APIRouter:
    """The schemas route (no custom objects in the sandbox, hence no state to bind)."""
    router = APIRouter()

    # hubspot-api-client 12 calls the same list at /crm-object-schemas/v3/schemas.
    @router.get("/crm/v3/schemas")
    @router.get("/crm-object-schemas/v3/schemas")
    async def list_schemas(request: Request) -> Response:
        check_scope(request, "crm.schemas.custom.read")
        return json_response({"results": []})

    return router
