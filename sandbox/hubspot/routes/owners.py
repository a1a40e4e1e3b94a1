"""``/crm/v3/owners/``: the owners list (``after`` paging, ``email`` filter) and one owner."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import json_response, not_found
from sandbox.hubspot.routes.inputs import check_scope, cursor, flag, integer

OWNERS_SCOPE = "crm.objects.owners.read"


def build_router(emu: HubSpotEmulator) -> APIRouter:
    """The owners routes bound to one emulated portal."""
    router = APIRouter(prefix="/crm/v3/owners")

    # The client calls "/crm/v3/owners/" with the trailing slash; accept both spellings.
    @router.get("/")
    @router.get("", include_in_schema=False)
    async def list_owners(request: Request) -> Response:
        check_scope(request, OWNERS_SCOPE)
        limit = integer(request, "limit", 100, 1, 500)
        page, next_after = emu.owners.page(
            cursor(request.query_params.get("after")),
            limit,
            request.query_params.get("email"),
            flag(request, "archived"),
        )
        body: dict[str, Any] = {"results": [o.to_json() for o in page]}
        if next_after is not None:
            body["paging"] = {"next": {"after": str(next_after), "link": None}}
        return json_response(body)

    @router.get("/{owner_id}")
    async def read_owner(owner_id: str, request: Request) -> Response:
        check_scope(request, OWNERS_SCOPE)
        owner = emu.owners.get(int(owner_id)) if owner_id.isdigit() else None
        if owner is None:
            raise not_found()
        return json_response(owner.to_json())

    return router
