"""The app factory: the Zendesk emulator as a FastAPI app with the shared sandbox machinery.

Middleware, outermost first: the core sandbox middleware (faults, request log), then the
Zendesk gate (auth, rate limits, rate headers), then the routes; an injected fault is logged and
never counted against the limits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from sandbox.core.faults import Fault, FaultKind
from sandbox.core.install import install_sandbox
from sandbox.core.middleware import FaultRenderer
from sandbox.core.state import ADMIN_PREFIX
from sandbox.data.model import Record
from sandbox.zendesk import control, routes
from sandbox.zendesk.config import ZendeskConfig
from sandbox.zendesk.emulator import ZendeskEmulator
from sandbox.zendesk.errors import ZendeskError, rate_limited, unauthenticated
from sandbox.zendesk.gate import ZendeskGate
from sandbox.zendesk.loader import LoadReport
from sandbox.zendesk.view import ZendeskView

logger = logging.getLogger(__name__)


def create_app(
    config: ZendeskConfig | None = None, emulator: ZendeskEmulator | None = None
) -> FastAPI:
    """A Zendesk emulator app; `app.state.zendesk` is the emulator, `app.state.sandbox` its
    sandbox controls."""
    emu = emulator or ZendeskEmulator(config)
    app = FastAPI(
        title="Zendesk sandbox",
        description="A local emulator of the Zendesk Support API v2 subset cem-bridge uses.",
        docs_url="/__sandbox/docs",
        openapi_url="/__sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.zendesk = emu
    app.include_router(routes.build_router(emu))
    app.include_router(control.build_router(emu))
    _install_error_handlers(app)
    app.add_middleware(
        ZendeskGate,
        store=emu.store,
        limiter=emu.limiter,
        token=emu.config.api_token,
        oauth=emu.config.oauth_token,
        admin_email=emu.config.admin_email,
    )
    install_sandbox(app, emu.sandbox, _fault_renderer(), view=ZendeskView(emu))
    return app


def emulator_of(app: FastAPI) -> ZendeskEmulator:
    emu = getattr(app.state, "zendesk", None)
    if not isinstance(emu, ZendeskEmulator):
        raise TypeError("not a Zendesk sandbox app")
    return emu


def load(app: FastAPI, records: Iterable[Record]) -> LoadReport:
    return emulator_of(app).load(records)


def _fault_renderer() -> FaultRenderer:
    """Core faults the way Zendesk fails (docs/zendesk.md "Errors", "Rate limits")."""

    def render(fault: Fault, scope: Scope) -> Response | None:
        if fault.kind in (FaultKind.RATE_LIMITED, FaultKind.QUOTA_EXHAUSTED):
            # Zendesk has no daily quota: spending it shows as the minute's limit.
            wait = fault.retry_after_seconds if fault.retry_after_seconds is not None else 60
            return rate_limited(wait)
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            return unauthenticated().response()
        if fault.kind is FaultKind.UNABLE_TO_LOCK_ROW:
            # Zendesk's analogue: two updates of one record collide (409).
            return ZendeskError(
                409, "Conflict", "The record was updated by another request; retry"
            ).response()
        if fault.kind is FaultKind.ERROR_5XX:
            headers = {"Retry-After": "1"} if fault.status_5xx == 503 else None
            return ZendeskError(
                fault.status_5xx, "InternalError", "Something went wrong", headers=headers
            ).response()
        return None

    return render


def _install_error_handlers(app: FastAPI) -> None:
    async def zendesk_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ZendeskError)
        return exc.response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(ADMIN_PREFIX):
            return await http_exception_handler(request, exc)
        if exc.status_code == 404:
            return ZendeskError(404, "InvalidEndpoint", "Not found").response()
        return ZendeskError(exc.status_code, "InvalidValue", str(exc.detail)).response()

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith(ADMIN_PREFIX):
            return await request_validation_exception_handler(request, exc)
        return ZendeskError(400, "InvalidValue", "The request is invalid").response()

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("zendesk sandbox: unhandled error on %s", request.url.path)
        return ZendeskError(500, "InternalError", type(exc).__name__).response()

    app.add_exception_handler(ZendeskError, zendesk_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)
