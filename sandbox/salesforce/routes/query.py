"""`query` / `queryAll` and their `nextRecordsUrl` pages (docs/crm-api-facts.md §2.3)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import SalesforceApiError
from sandbox.salesforce.query import QueryEngine
from sandbox.salesforce.responses import json_response
from sandbox.salesforce.routes.common import DATA, Endpoint, add, authorize


def batch_size_hint(request: Request) -> int | None:
    """`Sforce-Query-Options: batchSize=N`, a hint the API may ignore."""
    header = request.headers.get("sforce-query-options", "")
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key.lower() == "batchsize" and value.isdigit():
            return int(value)
    return None


def query_routes(
    router: APIRouter, emu: SalesforceEmulator, prefix: str, engine: QueryEngine
) -> None:
    """Register query, queryAll and locator routes under `prefix` (REST or Tooling)."""

    def handler(include_deleted: bool) -> Endpoint:
        async def run(request: Request, version: str) -> Response:
            authorize(emu, request)
            soql = request.query_params.get("q")
            if soql is None:
                raise SalesforceApiError(
                    400, "MALFORMED_QUERY", "A query string has to be specified"
                )
            body = engine.run(
                soql,
                include_deleted=include_deleted,
                version=version,
                batch_size=batch_size_hint(request),
            )
            return json_response(body)

        return run

    async def more(request: Request, version: str, locator: str) -> Response:
        authorize(emu, request)
        return json_response(engine.more(locator, version))

    add(router, f"{prefix}/query", handler(False), ["GET"])
    add(router, f"{prefix}/queryAll", handler(True), ["GET"])
    add(router, f"{prefix}/query/{{locator}}", more, ["GET"])
    add(router, f"{prefix}/queryAll/{{locator}}", more, ["GET"])


def build_query_router(emu: SalesforceEmulator) -> APIRouter:
    """REST query routes."""
    router = APIRouter()
    query_routes(router, emu, DATA, emu.queries)
    return router
