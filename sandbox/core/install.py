"""One call that gives an emulator app the shared sandbox machinery."""

from __future__ import annotations

from fastapi import FastAPI

from sandbox.core.admin import build_admin_router
from sandbox.core.middleware import FaultRenderer, SandboxMiddleware
from sandbox.core.state import SandboxState
from sandbox.core.view import ViewSource, build_view_router


def install_sandbox(
    app: FastAPI,
    state: SandboxState,
    render_fault: FaultRenderer,
    view: ViewSource | None = None,
) -> None:
    """Mount `/__sandbox/` admin (and view) routes and the fault + request-log middleware."""
    app.include_router(build_admin_router(state))
    if view is not None:
        app.include_router(build_view_router(view))
    app.add_middleware(SandboxMiddleware, state=state, render_fault=render_fault)
    app.state.sandbox = state
