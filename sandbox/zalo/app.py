"""The app factory: the Zalo emulator as a FastAPI app with the shared sandbox machinery.

Injected faults are rendered as Zalo fails (docs/zalo.md "Errors"): a rate limit is HTTP 200 +
`-32`; an expired token expires every access token and answers `-216`; a 5xx is the edge's HTTP
error. Zalo documents no daily API quota, so `quota_exhausted` is rendered as its rate limit.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope

from sandbox.core.faults import Fault, FaultKind
from sandbox.core.install import install_sandbox
from sandbox.core.middleware import FaultRenderer
from sandbox.core.state import ADMIN_PREFIX
from sandbox.zalo import admin, routes
from sandbox.zalo.config import ZaloConfig
from sandbox.zalo.emulator import ZaloEmulator
from sandbox.zalo.errors import INVALID_PARAMETER, INVALID_TOKEN, RATE_LIMITED, ZaloError
from sandbox.zalo.view import ZaloView

logger = logging.getLogger(__name__)


def create_app(config: ZaloConfig | None = None, emulator: ZaloEmulator | None = None) -> FastAPI:
    """A Zalo emulator app; `app.state.zalo` is the emulator, `app.state.sandbox` its controls."""
    emu = emulator or ZaloEmulator(config or ZaloConfig())
    app = FastAPI(
        title="Zalo OA sandbox",
        description="A local emulator of the Zalo Official Account OpenAPI subset cem-bridge uses.",
        docs_url="/__sandbox/docs",
        openapi_url="/__sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.zalo = emu
    app.include_router(routes.build_router(emu))
    app.include_router(admin.build_admin(emu))
    _install_error_handlers(app)
    install_sandbox(app, emu.sandbox, _fault_renderer(emu), view=ZaloView(emu))
    return app


def _fault_renderer(emu: ZaloEmulator) -> FaultRenderer:
    def render(fault: Fault, scope: Scope) -> Response | None:
        del scope
        if fault.kind in (FaultKind.RATE_LIMITED, FaultKind.QUOTA_EXHAUSTED):
            return ZaloError(RATE_LIMITED).response()
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            emu.tokens.expire_all()  # a client must refresh to get through again
            return ZaloError(INVALID_TOKEN).response()
        if fault.kind is FaultKind.ERROR_5XX:
            return PlainTextResponse("Service Unavailable", status_code=fault.status_5xx)
        return None

    return render


def _install_error_handlers(app: FastAPI) -> None:
    async def zalo_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ZaloError)
        return exc.response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(ADMIN_PREFIX):
            return await http_exception_handler(request, exc)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith(ADMIN_PREFIX):
            return await request_validation_exception_handler(request, exc)
        return ZaloError(INVALID_PARAMETER).response()

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("zalo sandbox: unhandled error on %s", request.url.path)
        return ZaloError(-500, f"Internal error ({type(exc).__name__})").response()

    app.add_exception_handler(ZaloError, zalo_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, unexpected)
