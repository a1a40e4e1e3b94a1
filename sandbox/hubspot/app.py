"""The app factory: the HubSpot emulator as a FastAPI app with the shared sandbox machinery.

Middleware order, outermost first: the core sandbox middleware (fault injection, request log),
then :class:`sandbox.hubspot.gate.HubSpotGate` (bearer auth, rate limits), then the routes. So
an injected fault is logged and never counted against the rate limit, as HubSpot's edge would
behave.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
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
from sandbox.hubspot.auth import expired_error
from sandbox.hubspot.config import HubSpotConfig
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.errors import HubSpotError
from sandbox.hubspot.gate import HubSpotGate, is_search
from sandbox.hubspot.loader import LoadReport
from sandbox.hubspot.ratelimit import rate_limit_error
from sandbox.hubspot.routes import (
    associations,
    batch,
    control,
    oauth,
    objects,
    owners,
    pipelines,
    schema,
    schemas,
)
from sandbox.hubspot.view import HubSpotView

logger = logging.getLogger(__name__)


def create_app(
    config: HubSpotConfig | None = None, emulator: HubSpotEmulator | None = None
) -> FastAPI:
    """A HubSpot emulator app; pass ``emulator`` to share state with the caller (tests, CLI).

    The emulator is reachable as ``app.state.hubspot``; its sandbox controls as
    ``app.state.sandbox``.
    """
    emu = emulator or HubSpotEmulator(config)
    app = FastAPI(
        title="HubSpot sandbox",
        description="A local emulator of the HubSpot CRM API subset cem-bridge uses.",
        docs_url="/__sandbox/docs",
        openapi_url="/__sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.hubspot = emu
    for module in (
        objects,
        batch,
        associations,
        schema,
        schemas,
        owners,
        pipelines,
        oauth,
        control,
    ):
        app.include_router(module.build_router(emu))
    _install_error_handlers(app)
    app.add_middleware(HubSpotGate, tokens=emu.tokens, limiter=emu.limiter)
    install_sandbox(app, emu.sandbox, _fault_renderer(emu), view=HubSpotView(emu))
    return app


def emulator_of(app: FastAPI) -> HubSpotEmulator:
    """The emulator behind an app made by :func:`create_app`."""
    emu = getattr(app.state, "hubspot", None)
    if not isinstance(emu, HubSpotEmulator):
        raise TypeError("not a HubSpot sandbox app")
    return emu


def load(app: FastAPI, records: Iterable[Record]) -> LoadReport:
    """Stream generated records into the emulator behind ``app``."""
    return emulator_of(app).load(records)


def _fault_renderer(emu: HubSpotEmulator) -> FaultRenderer:
    """Render core faults the way HubSpot fails (docs/crm-api-facts.md §3.9, §3.10, §6)."""

    def render(fault: Fault, scope: Scope) -> Response | None:
        portal = emu.config.portal_id
        if fault.kind is FaultKind.RATE_LIMITED:
            policy = (
                "SECONDLY" if is_search(scope["method"], scope["path"]) else "TEN_SECONDLY_ROLLING"
            )
            return rate_limit_error(policy, portal, fault.retry_after_seconds).response()
        if fault.kind is FaultKind.QUOTA_EXHAUSTED:
            return rate_limit_error("DAILY", portal, None).response()
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            emu.tokens.expire_all()  # an OAuth client must refresh to get through again
            return expired_error(1).response()
        if fault.kind is FaultKind.UNABLE_TO_LOCK_ROW:
            # HubSpot's analogue of a row lock: 423 Locked during heavy syncs (§3.9).
            return HubSpotError(423, "LOCKED", "The resource is locked; retry shortly.").response()
        if fault.kind is FaultKind.ERROR_5XX:
            return HubSpotError(
                fault.status_5xx, "INTERNAL_ERROR", "An internal error occurred."
            ).response()
        return None

    return render


def _install_error_handlers(app: FastAPI) -> None:
    """Every error leaves in HubSpot's body shape, never as a traceback."""

    async def hubspot_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HubSpotError)
        return exc.response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(ADMIN_PREFIX):  # the sandbox's own API answers FastAPI-style
            return await http_exception_handler(request, exc)
        category = "OBJECT_NOT_FOUND" if exc.status_code == 404 else "VALIDATION_ERROR"
        message = "resource not found" if exc.status_code == 404 else str(exc.detail)
        return HubSpotError(exc.status_code, category, message).response()

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith(ADMIN_PREFIX):
            return await request_validation_exception_handler(request, exc)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return HubSpotError(400, "VALIDATION_ERROR", f"Invalid input: {problems}").response()

    async def unexpected(request: Request, exc: Exception) -> Response:
        # A bug in the emulator must still answer like HubSpot, never with a traceback.
        logger.exception("hubspot sandbox: unhandled error on %s", request.url.path)
        return HubSpotError(
            500, "INTERNAL_ERROR", f"Internal error ({type(exc).__name__}); see the sandbox log."
        ).response()

    app.add_exception_handler(HubSpotError, hubspot_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)
