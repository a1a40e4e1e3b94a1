"""RFC 9457 problem details: every error the API returns has this shape.

A client never sees a stack trace: unexpected exceptions become a 500 problem that carries only
the request id, which operators can find in the logs.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.crm_problems import crm_problem, retry_after
from service.logs import request_id_var
from service.ports import CrmError

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "urn:cem:problem:"
INTERNAL_ERROR_DETAIL = "internal error; quote the request id when reporting it"

log = logging.getLogger(__name__)


class ProblemError(Exception):
    """Raise from any layer to answer with a specific problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.headers = headers or {}
        self.extra = extra


def invalid_field(field: str, message: str) -> ProblemError:
    """A 422 for a value that passed its own checks but not the rules between fields
    (min above max, a grouping the metric lacks): the same shape as a validation error."""
    return ProblemError(
        422,
        f"invalid request: {field}",
        kind="validation-error",
        errors=[{"field": field, "message": message}],
    )


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build an `application/problem+json` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (kind or _slug(status)),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Input values are left out on purpose: they may hold personal data or secrets.
    return [
        {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
        for err in exc.errors()
    ]


async def _on_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.status, exc.detail, kind=exc.kind, headers=exc.headers, **exc.extra)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the methods of the first route matching the path; a path served
        # by several routes (GET and POST /v1/keys) must list them all (RFC 9110 §15.5.6).
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return problem_response(exc.status_code, detail, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    methods: set[str] = set()
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods.update(m.upper() for m in operations)
    return sorted(methods)


async def _on_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    fields = ", ".join(e["field"] for e in errors[:5])
    return problem_response(
        422, f"invalid request: {fields}", kind="validation-error", errors=errors
    )


async def _on_crm_error(_request: Request, exc: Exception) -> JSONResponse:
    """Every `Crm*Error` a route lets through, answered from service/api/crm_problems.py."""
    assert isinstance(exc, CrmError)
    problem = crm_problem(exc)
    # A 502 (configuration, TLS) needs a person, so its traceback (the SDK's exception as its
    # cause) is logged; an outage, a throttle or a missing record is one line. The log handler
    # redacts secrets from both.
    log.warning(
        "CRM failure answered %d %s: %s: %s",
        problem.status,
        problem.kind,
        type(exc).__name__,
        exc,
        exc_info=exc if problem.status == 502 else None,
    )
    wait = retry_after(exc, datetime.now(UTC))
    return problem_response(
        problem.status,
        f"{problem.lead}: {exc}",
        kind=problem.kind,
        headers={"Retry-After": wait} if wait else None,
    )


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return problem_response(500, INTERNAL_ERROR_DETAIL)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(CrmError, _on_crm_error)
    app.add_exception_handler(Exception, _on_unexpected)
    _document_problems(app)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` lists failing fields on a 422.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Errors any operation of a kind can answer, whatever its own route declares.
_AUTH_ERRORS = {401: "No or unknown API key", 403: "The key lacks the scope", 429: "Rate limited"}
_BODY_ERRORS = {
    400: "Body is not valid JSON (or not UTF-8)",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Validation error",
}


def _document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about errors: every 4xx/5xx is problem+json.

    FastAPI documents its own `HTTPValidationError` shape for 422, which this API never sends;
    clients (and schemathesis) validating responses against the document would be misled.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Problem"] = PROBLEM_SCHEMA
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                _problem_responses(operation)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problem_responses(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    added: dict[int, str] = {}
    if operation.get("security"):
        added.update(_AUTH_ERRORS)
    if "requestBody" in operation:
        added.update(_BODY_ERRORS)
    places = {p.get("in") for p in operation.get("parameters", [])}
    if places:
        added[422] = _BODY_ERRORS[422]
    if "path" in places:
        added[404] = "No such resource"
    if "query" in places:
        added[400] = "A query value the API cannot use (e.g. a cursor it did not hand out)"
    for code, description in added.items():
        responses.setdefault(str(code), {"description": description})
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
            if status == "422":
                response["description"] = _BODY_ERRORS[422]
