"""FastAPI dependencies as `Annotated` aliases: settings, database, and API-key auth by scope.

Dependencies that only read `app.state` are `async def`: FastAPI runs a plain `def` dependency
in the thread pool, and a thread hop per trivial getter was a measurable share of a request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from service.api.problems import ProblemError
from service.api.ratelimit import RateLimiter
from service.config import Settings
from service.store.keys import ApiKeyRepository, KeyInfo, Scope, grants

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer cem_…`")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: cem_…`")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_key_repository(request: Request) -> ApiKeyRepository:
    repo: ApiKeyRepository = request.app.state.keys
    return repo


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
KeyRepositoryDep = Annotated[ApiKeyRepository, Depends(get_key_repository)]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="cem"'}


async def _authenticate(request: Request, presented: str | None) -> KeyInfo:
    if not presented:
        raise ProblemError(
            401, "an API key is required", kind="unauthenticated", headers=_CHALLENGE
        )
    keys: ApiKeyRepository = request.app.state.keys
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
    limiter: RateLimiter = request.app.state.rate_limiter
    decision = limiter.check(info.id)
    if not decision.allowed:
        raise ProblemError(
            429,
            f"rate limit of {decision.limit} requests a minute exceeded for this key",
            kind="rate-limited",
            headers={"Retry-After": str(decision.retry_after)},
            retry_after=decision.retry_after,
        )
    now = datetime.now(UTC)
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
