"""Tooling API routes: create/read `CustomField`, tooling SOQL (docs/crm-api-facts.md §2.12)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import RecordError, SalesforceApiError, not_found
from sandbox.salesforce.responses import json_response
from sandbox.salesforce.routes.common import (
    DATA,
    add,
    authorize,
    read_json,
    read_object,
    render_record,
)
from sandbox.salesforce.routes.query import query_routes

TOOLING = f"{DATA}/tooling"


def build_tooling_router(emu: SalesforceEmulator) -> APIRouter:
    """`/tooling/sobjects/CustomField` and `/tooling/query`."""
    router = APIRouter()
    tooling = emu.tooling

    async def create(request: Request, version: str, name: str) -> Response:
        authorize(emu, request)
        if name.lower() != "customfield":
            raise SalesforceApiError(
                404, "NOT_FOUND", f"The Tooling object {name} is not emulated by the sandbox"
            )
        body = read_object(await read_json(request))
        try:
            record_id = tooling.create_custom_field(body)
        except RecordError as exc:
            raise SalesforceApiError.from_record_error(exc) from None
        return json_response(
            {"id": record_id, "success": True, "errors": [], "warnings": [], "infos": []}, 201
        )

    async def read(request: Request, version: str, name: str, record_id: str) -> Response:
        authorize(emu, request)
        record = tooling.store.get(tooling.custom_field, record_id)
        if name.lower() != "customfield" or record is None:
            raise not_found()
        body = render_record(tooling.custom_field, record, version)
        body["attributes"]["url"] = body["attributes"]["url"].replace(
            "/sobjects/", "/tooling/sobjects/"
        )
        body["Metadata"] = tooling.metadata(record["Id"])
        return json_response(body)

    add(router, f"{TOOLING}/sobjects/{{name}}", create, ["POST"])
    add(router, f"{TOOLING}/sobjects/{{name}}/{{record_id}}", read, ["GET"])
    query_routes(router, emu, TOOLING, tooling.queries)
    return router
