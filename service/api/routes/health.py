"""Liveness, readiness and Prometheus metrics (no auth: probes and scrapers call these)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from service import __version__
from service.api.deps import EngineDep, MetricsRegistryDep
from service.api.problems import ProblemError
from service.store.database import is_ready

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: str
    database: str


@router.get("/healthz", summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz",
    summary="The service can take traffic (its database answers)",
    responses={503: {"description": "Not ready", "content": {"application/problem+json": {}}}},
)
def readyz(engine: EngineDep) -> Readiness:
    if not is_ready(engine):
        raise ProblemError(503, "the database does not answer", kind="not-ready")
    return Readiness(status="ready", database="ok")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(registry: MetricsRegistryDep) -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
