"""CRM webhooks in: `POST /v1/webhooks/{kind}`, one route for every connector that takes them.

CRMs cannot send our API key; a signature over the body with the connection's shared secret
(`webhook_secret`) and a timestamp no older than 5 minutes authenticates each delivery instead,
in the scheme of the kind's connector (adapters/registry.py). The connection is named by
`?connection=`, or implied when exactly one connection of that kind is configured. The work is
the use case's (service/usecases/crm_events.py): this module reads the request and maps the
outcome. The per-CRM paths of earlier releases stay as deprecated aliases.
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from adapters import registry
from service.api.crm_problems import CRM_RESPONSES
from service.api.problems import ProblemError
from service.api.services import services_of
from service.usecases import crm_events
from service.usecases.crm_events import CrmEventsDeps, Delivery, Outcome

router = APIRouter(tags=["real time"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Not JSON (or nested too deep), or no connection named and several "
        "configured"
    },
    401: {"description": "Bad or stale signature, or no such connection (not told apart)"},
    422: {"description": "Not an array of at most 100 events"},
    # CRM failures while re-reading or pushing map once, in service.api.crm_problems: a 5xx
    # makes the CRM deliver again later, which is what an outage needs.
    **CRM_RESPONSES,
    503: {"description": "The CRM failed while re-reading or pushing: deliver again later"},
}
# Each use-case refusal, once: (status, problem kind).
REFUSALS: dict[type[crm_events.DeliveryError], tuple[int, str]] = {
    crm_events.NoWebhooksError: (404, "not-found"),
    crm_events.AmbiguousConnectionError: (400, "bad-request"),
    crm_events.NotAuthenticError: (401, "bad-signature"),
    crm_events.MisconfiguredSecretError: (503, "misconfigured"),
    crm_events.MalformedDeliveryError: (422, "validation-error"),
}


class EventsAccepted(BaseModel):
    events: int
    duplicates: int
    ignored: int
    stale: int
    reread: int
    deleted: int
    customers_rescored: int
    fields_pushed: int
    tasks_created: int


def _body_doc(description: str) -> dict[str, Any]:
    """The request body in OpenAPI (the route reads raw bytes: the signature covers them)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "maxItems": 100,
                        "items": {"type": "object"},
                        "description": description,
                    }
                }
            },
        }
    }


def parse_json(body: bytes) -> Any:
    """The body's JSON, or a 400 problem: not JSON, NaN/Infinity, or nested too deep.

    `json.loads` raises RecursionError (a 500) on deep nesting; pydantic-core's parser stops at
    its own depth limit (about 200 levels) with a ValueError, in time linear in the body.
    """
    try:
        return pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError:
        raise ProblemError(
            400, "the body is not JSON (or is nested too deep)", kind="bad-request"
        ) from None


def _uri(request: Request) -> str:
    base = services_of(request.app).settings.public_url
    if base is None:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{str(base).rstrip('/')}{request.url.path}{query}"


def _deps(request: Request) -> CrmEventsDeps:
    services = services_of(request.app)
    return CrmEventsDeps(
        connections=services.settings.connections,
        inbox=services.realtime,
        own_fields=services.own_fields,
        build=services.build_connection,
        stores=services.sync_stores,
        analyzer=services.analyzer_factory,
        models=services.purchase_models.get,
        clock=services.clock,
    )


def _now_ms(deps: CrmEventsDeps) -> int:
    """Now in epoch milliseconds, the unit the CRMs' signature timestamps use."""
    return int(deps.clock.now().timestamp() * 1000)


def _accepted(outcome: Outcome) -> EventsAccepted:
    changes, report = outcome.changes, outcome.report
    return EventsAccepted(
        events=outcome.events,
        duplicates=changes.duplicates,
        ignored=changes.ignored,
        stale=changes.stale,
        reread=sum(len(v) for v in changes.reread.values()),
        deleted=sum(len(v) for v in changes.deleted.values()),
        customers_rescored=report.scored,
        fields_pushed=report.pushed,
        tasks_created=report.tasks_created,
    )


def _decode(kind: str, body: bytes) -> Any:
    """The delivery's payload in its connector's format (JSON unless it says otherwise)."""
    _connector, source = crm_events.webhook_source(kind)
    if source.decode is None:
        return parse_json(body)
    try:
        return source.decode(body)
    except ValueError:
        problem = "the body is not in the sender's format"
        raise ProblemError(400, problem, kind="bad-request") from None


async def receive(request: Request, kind: str, name: str | None) -> EventsAccepted:
    """The one handler behind every CRM webhook route."""
    deps = _deps(request)
    body = await request.body()
    delivery = Delivery(kind, name, request.method, _uri(request), request.headers, body)
    try:
        connection = crm_events.authenticate(delivery, deps, _now_ms(deps))
        payload = _decode(kind, body)
        events, changes = crm_events.plan(kind, connection, payload, deps, _now_ms(deps))
        outcome = await run_in_threadpool(crm_events.apply, connection, events, changes, deps)
    except crm_events.DeliveryError as error:
        status, problem = REFUSALS[type(error)]
        raise ProblemError(status, str(error), kind=problem) from None
    return _accepted(outcome)


ConnectionQuery = Annotated[
    str | None,
    Query(max_length=64, description="the connection; optional when only one of this kind"),
]
KIND_DESCRIPTION = "the connector's kind: " + ", ".join(
    k for k in registry.kinds() if registry.connector(k).webhooks is not None
)


def _add_alias(kind: str, name: str, path: str) -> None:
    """A path of an earlier release, served by the one handler and marked deprecated."""
    connector, source = crm_events.webhook_source(kind)

    async def by_query(request: Request, connection: ConnectionQuery = None) -> EventsAccepted:
        return await receive(request, kind, connection)

    async def by_path(
        request: Request, connection: Annotated[str, Path(max_length=64)]
    ) -> EventsAccepted:
        return await receive(request, kind, connection)

    endpoint = by_path if "{connection}" in path else by_query
    endpoint.signed_by = source.signed_by  # type: ignore[attr-defined]
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        name=name,
        summary=f"{connector.label} deliveries (an alias of POST /v1/webhooks/{{kind}})",
        responses=RESPONSES,
        openapi_extra=_body_doc(source.body),
        deprecated=True,
    )


async def webhooks(
    request: Request,
    kind: Annotated[str, Path(max_length=64, description=KIND_DESCRIPTION)],
    connection: ConnectionQuery = None,
) -> EventsAccepted:
    return await receive(request, kind, connection)


webhooks.signed_by = "the connector's signature scheme"  # type: ignore[attr-defined]


def _add_routes() -> None:
    # The fixed alias paths first: a literal path must match before the `{kind}` template.
    for kind in registry.kinds():
        source = registry.connector(kind).webhooks
        for name, path in source.aliases if source is not None else ():
            _add_alias(kind, name, path)
    router.add_api_route(
        "/v1/webhooks/{kind}",
        webhooks,
        methods=["POST"],
        summary="CRM webhook deliveries, signed in the CRM's own scheme (no API key)",
        responses={**RESPONSES, 404: {"description": "No connector of this kind takes webhooks"}},
        openapi_extra=_body_doc("The CRM's event deliveries, in the form its connector documents"),
    )


_add_routes()
