"""The Salesforce emulator's FastAPI app: `create_app(config)`, plus `load` into it."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sandbox.core.install import install_sandbox
from sandbox.core.state import ADMIN_PREFIX
from sandbox.data.model import Record as DataRecord
from sandbox.salesforce.concurrency import ConcurrencyCap
from sandbox.salesforce.config import SalesforceConfig
from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import NOT_FOUND_MESSAGE, RecordError, SalesforceApiError
from sandbox.salesforce.faults import sforce_fault_renderer
from sandbox.salesforce.limits import LimitInfoMiddleware
from sandbox.salesforce.load import LoadReport
from sandbox.salesforce.responses import json_response
from sandbox.salesforce.routes.admin import build_sf_admin_router
from sandbox.salesforce.routes.auth import build_auth_router
from sandbox.salesforce.routes.bulk import build_bulk_router
from sandbox.salesforce.routes.composite import build_composite_router
from sandbox.salesforce.routes.composite_requests import build_composite_requests_router
from sandbox.salesforce.routes.meta import build_meta_router
from sandbox.salesforce.routes.query import build_query_router
from sandbox.salesforce.routes.sobjects import build_sobjects_router
from sandbox.salesforce.routes.tooling import build_tooling_router
from sandbox.salesforce.view import SalesforceView

logger = logging.getLogger(__name__)


def _error(status: int, code: str, message: str) -> Response:
    return json_response([{"message": message, "errorCode": code}], status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SalesforceApiError)
    async def api_error(request: Request, exc: SalesforceApiError) -> Response:
        return exc.response()

    @app.exception_handler(RecordError)
    async def record_error(request: Request, exc: RecordError) -> Response:
        return json_response([exc.as_rest_error()], 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(ADMIN_PREFIX):
            return await http_exception_handler(request, exc)
        if exc.status_code == 405:
            return _error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed.")
        if exc.status_code == 404:
            return _error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        return _error(exc.status_code, "INVALID_REQUEST", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(ADMIN_PREFIX):
            return await request_validation_exception_handler(request, exc)
        return _error(400, "JSON_PARSER_ERROR", "The request could not be parsed.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # A bug in the emulator must still answer like Salesforce, never with a traceback.
        logger.exception("salesforce sandbox: unhandled error on %s", request.url.path)
        return _error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred in the sandbox.")


def create_app(
    config: SalesforceConfig | None = None, emulator: SalesforceEmulator | None = None
) -> FastAPI:
    """A FastAPI app serving one emulated org (a fresh one unless `emulator` is given)."""
    emu = emulator or SalesforceEmulator(config)
    app = FastAPI(
        title="cem-bridge Salesforce sandbox", docs_url=None, redoc_url=None, openapi_url=None
    )
    for router in (
        build_auth_router(emu),
        build_meta_router(emu),
        build_query_router(emu),
        build_composite_router(emu),
        build_composite_requests_router(emu),
        build_tooling_router(emu),
        build_bulk_router(emu),
        build_sobjects_router(emu),
        build_sf_admin_router(emu),
    ):
        app.include_router(router)
    _install_error_handlers(app)
    install_sandbox(app, emu.state, sforce_fault_renderer(emu), view=SalesforceView(emu))
    # Added after the sandbox middleware so they wrap it: requests held by a slow fault count
    # as in flight, and injected errors carry the limit header too.
    app.add_middleware(ConcurrencyCap, limit=emu.config.concurrent_request_limit)
    app.add_middleware(LimitInfoMiddleware, limits=emu.limits)
    app.state.salesforce = emu
    return app


def emulator_of(app: FastAPI) -> SalesforceEmulator:
    """The emulator behind an app made by `create_app`."""
    emu = app.state.salesforce
    if not isinstance(emu, SalesforceEmulator):
        raise TypeError("not a Salesforce sandbox app")
    return emu


def load(app: FastAPI, records: Iterable[DataRecord]) -> LoadReport:
    """Stream generated records into the app's org (see `sandbox.salesforce.load`)."""
    return emulator_of(app).load(records)
