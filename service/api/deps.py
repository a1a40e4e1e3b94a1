"""FastAPI dependencies as `Annotated` aliases: the parts of the app's `Services`, and API-key
auth by scope.

Dependencies that only read the services are `async def`: FastAPI runs a plain `def` dependency
in the thread pool, and a thread hop per trivial getter was a measurable share of a request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from service.api.problems import ProblemError
from service.api.services import Services, services_of
from service.config import Settings
from service.jobs import JobQueue
from service.ports import Clock
from service.sentiment.pipeline import SentimentAnalyzer
from service.store.churn_models import ChurnModelRepository
from service.store.keys import ApiKeyRepository, KeyInfo, Scope, grants
from service.store.profiles import ProfileRepository
from service.store.reports import ReportRepository
from service.usecases.customer_view import CustomerViews
from service.usecases.messages import ReceiveMessage
from service.webhooks import SecretVault
from service.webhooks.egress import EgressPolicy
from service.webhooks.store import WebhookStore

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer cem_…`")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: cem_…`")

T = TypeVar("T")


async def get_services(request: Request) -> Services:
    return services_of(request.app)


def _part(pick: Callable[[Services], T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency giving one part of the app's services. It reads the services itself
    rather than depending on `get_services`: each node of a route's dependency tree costs."""

    async def get(request: Request) -> T:
        return pick(services_of(request.app))

    return get


async def get_analyzer(request: Request) -> SentimentAnalyzer:
    """The process's analyzer; built on first use off the event loop (model load ~0.2 s)."""
    shared = services_of(request.app).analyzer_factory
    analyzer = shared.loaded()
    if analyzer is not None:  # the hot path: no thread hop, no lock
        return analyzer
    return await run_in_threadpool(shared)


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(_part(lambda s: s.settings))]
EngineDep = Annotated[Engine, Depends(_part(lambda s: s.engine))]
ClockDep = Annotated[Clock, Depends(_part(lambda s: s.clock))]
KeyRepositoryDep = Annotated[ApiKeyRepository, Depends(_part(lambda s: s.keys))]
JobQueueDep = Annotated[JobQueue, Depends(_part(lambda s: s.jobs))]
MetricsRegistryDep = Annotated[CollectorRegistry, Depends(_part(lambda s: s.metrics_registry))]
WebhookRepositoryDep = Annotated[WebhookStore, Depends(_part(lambda s: s.webhook_repository))]
VaultDep = Annotated[SecretVault, Depends(_part(lambda s: s.webhook_vault))]
EgressDep = Annotated[EgressPolicy, Depends(_part(lambda s: s.webhook_egress))]
ProfilesDep = Annotated[ProfileRepository, Depends(_part(lambda s: s.profiles))]
ViewsDep = Annotated[CustomerViews, Depends(_part(lambda s: s.views))]
ReportsDep = Annotated[ReportRepository, Depends(_part(lambda s: s.reports))]
ChurnModelsDep = Annotated[ChurnModelRepository, Depends(_part(lambda s: s.churn_models))]
ReceiveMessageDep = Annotated[ReceiveMessage, Depends(_part(lambda s: s.receive_message))]
AnalyzerDep = Annotated[SentimentAnalyzer, Depends(get_analyzer)]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="cem"'}


async def _authenticate(request: Request, presented: str | None) -> KeyInfo:
    if not presented:
        raise ProblemError(
            401, "an API key is required", kind="unauthenticated", headers=_CHALLENGE
        )
    services = services_of(request.app)
    keys = services.keys
    # A key verified in the last few seconds is taken from memory (`VERIFIED_KEY_SECONDS`: a
    # revocation by another process takes effect within that); only a database read or write
    # goes to the thread pool, since a thread hop per request costs more than the check.
    info = keys.recently_verified(presented)
    if info is None:
        info = await run_in_threadpool(keys.authenticate, presented)
    if info is None:
        raise ProblemError(
            401, "the API key is unknown or revoked", kind="unauthenticated", headers=_CHALLENGE
        )
    decision = services.rate_limiter.check(info.id)
    if not decision.allowed:
        raise ProblemError(
            429,
            f"rate limit of {decision.limit} requests a minute exceeded for this key",
            kind="rate-limited",
            headers={"Retry-After": str(decision.retry_after)},
            retry_after=decision.retry_after,
        )
    now = services.clock.now()
    if keys.touch_due(info.id, now):
        await run_in_threadpool(keys.touch, info.id, now)
    request.state.key_id = info.id
    return info


def require_scope(scope: Scope) -> Callable[..., Awaitable[KeyInfo]]:
    """A dependency that admits keys holding `scope` (or a higher one).

    One dependency over the two credential headers (which also declare the security schemes in
    the OpenAPI document): FastAPI's cost grows with every node of a route's dependency tree.
    """

    async def check(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header_key: Annotated[str | None, Depends(_api_key)],
    ) -> KeyInfo:
        info = await _authenticate(request, bearer.credentials if bearer else header_key)
        if not grants(info.scopes, scope):
            raise ProblemError(
                403, f"this API key lacks the '{scope.value}' scope", kind="forbidden"
            )
        return info

    check.required_scope = scope  # type: ignore[attr-defined]  # read by the route-scope audit
    return check


_CHECKS = {scope: require_scope(scope) for scope in Scope}


async def authorize(request: Request, scope: Scope) -> KeyInfo:
    """What the `require_scope(scope)` dependency does, for a handler that runs without
    FastAPI's dependency solving (`service.api.lean_route`): the same headers, checks and
    errors."""
    return await _CHECKS[scope](request, await _bearer(request), await _api_key(request))


ReadKey = Annotated[KeyInfo, Depends(_CHECKS[Scope.READ])]
WriteKey = Annotated[KeyInfo, Depends(_CHECKS[Scope.WRITE])]
AdminKey = Annotated[KeyInfo, Depends(_CHECKS[Scope.ADMIN])]
