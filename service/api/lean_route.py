"""A route FastAPI documents from its endpoint's signature but serves through a direct handler.

For the stateless scoring endpoint, a throughput goal (issue 7) is set against a bare FastAPI
endpoint, and FastAPI's per-request machinery was a large share of what such a request costs:
solving the dependency tree (auth and its two credential headers, body, query), then parsing
the body to Python objects and validating them in a second pass. A lean route keeps what the
client sees: the OpenAPI document is still generated from the endpoint (body model, security
schemes, query parameters, responses), auth goes through the same dependency code
(`service.api.deps.authorize`), and bad input raises the same `RequestValidationError`, which
the app's handler turns into the same problem+json. What changes is the work: the scope is
read from the endpoint's dependency once, and the body is validated straight from its bytes by
pydantic-core (`model_validate_json`, one pass, no intermediate dicts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from service.api.deps import authorize
from service.store.keys import KeyInfo, Scope

ModelT = TypeVar("ModelT", bound=BaseModel)
EnumT = TypeVar("EnumT", bound=StrEnum)
LeanHandler = Callable[[Request, KeyInfo], Awaitable[Response]]


def required_scope(dependant: Dependant) -> Scope:
    """The scope a route's key dependency (`service.api.deps.require_scope`) demands."""
    found = [
        scope
        for dependency in dependant.dependencies
        if isinstance(scope := getattr(dependency.call, "required_scope", None), Scope)
    ]
    if len(found) != 1:
        raise TypeError(f"a lean route needs exactly one key dependency, found {len(found)}")
    return found[0]


def lean_route(handler: LeanHandler) -> type[APIRoute]:
    """A route class whose requests go to `handler(request, key)` once the key is checked with
    the scope the endpoint's signature declares (`add_api_route(..., route_class_override=
    lean_route(handler))`). Only the key dependency runs: use it on routes whose router, and
    the routers including it, add no dependencies of their own."""

    class LeanRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            scope = required_scope(self.dependant)

            async def serve(request: Request) -> Response:
                return await handler(request, await authorize(request, scope))

            return serve

    return LeanRoute


def _invalid(kind: str, loc: tuple[str | int, ...], msg: str, value: Any) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": loc, "msg": msg, "input": value}])


def json_body(model: type[ModelT], raw: bytes) -> ModelT:
    """The request body validated as `model`, errors located under `body` as FastAPI does."""
    if not raw:
        raise _invalid("missing", ("body",), "Field required", None)
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()) and not _utf8(raw):
            # FastAPI answers a body it cannot decode with 400, a decoded non-JSON one with 422.
            raise HTTPException(400, "There was an error parsing the body") from None
        problems = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(problems) from None


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def query_choice(request: Request, name: str, choices: type[EnumT], default: EnumT) -> EnumT:
    """One optional enum query parameter, validated as FastAPI would."""
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return choices(value)
    except ValueError:
        allowed = " or ".join(repr(c.value) for c in choices)
        raise _invalid("enum", ("query", name), f"Input should be {allowed}", value) from None
