"""CRM webhooks in: `POST /v1/webhooks/hubspot` and `POST /v1/webhooks/salesforce`.

CRMs cannot send our API key; a signature over the body with the connection's shared secret
(`webhook_secret`) and a timestamp no older than 5 minutes authenticates each delivery instead:
HubSpot's v3 signature, and for Salesforce change events the Standard Webhooks signature of the
relay that forwards them. The connection is named by `?connection=`, or implied when exactly one
connection of that CRM is configured. One handler serves both CRMs: events become notices
(`service.realtime`), duplicates and stale events are dropped, the records are re-read by id and
the customers touched are rescored and pushed at once (`service.usecases.realtime`).
`POST /v1/crm-events/hubspot/{connection}` is the older HubSpot path, kept for existing apps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from service.api.problems import ProblemError
from service.api.routes.interactions import purchase_models
from service.config import ConnectionSettings, CrmKind
from service.domain.limits import epoch_ms_in_range
from service.ports import CrmError
from service.realtime import hubspot, salesforce
from service.realtime.changes import Changes, Inbox, Notice, SignatureError
from service.usecases.realtime import apply_changes
from service.usecases.sync import SyncReport

router = APIRouter(tags=["real time"])

Verify = Callable[[str, str, str, Mapping[str, str], bytes, int], None]
Read = Callable[[Any, frozenset[str]], tuple[list[Notice], int]]
SOURCES: dict[CrmKind, tuple[Verify, Read]] = {
    CrmKind.HUBSPOT: (hubspot.verify, hubspot.notices),
    CrmKind.SALESFORCE: (salesforce.verify, salesforce.notices),
}
LABELS = {CrmKind.HUBSPOT: "HubSpot", CrmKind.SALESFORCE: "Salesforce"}
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Not JSON (or nested too deep), or no connection named and several "
        "configured"
    },
    401: {"description": "Bad or stale signature, or no such connection (not told apart)"},
    422: {"description": "Not an array of at most 100 events"},
    503: {"description": "The CRM failed while re-reading or pushing: deliver again later"},
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


def _body_doc(kind: CrmKind) -> dict[str, Any]:
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
                        "description": (
                            "HubSpot webhook events (signed with X-HubSpot-Signature-v3 and "
                            "X-HubSpot-Request-Timestamp)"
                            if kind is CrmKind.HUBSPOT
                            else "Change Data Capture events in CometD JSON form (signed with "
                            "webhook-id, webhook-timestamp and webhook-signature)"
                        ),
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
    base = request.app.state.settings.public_url
    if base is None:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{str(base).rstrip('/')}{request.url.path}{query}"


def _connection(request: Request, kind: CrmKind, name: str | None) -> tuple[str, str]:
    """(connection name, its webhook secret) for this CRM; a problem when there is none."""
    label = LABELS[kind]
    connections: dict[str, ConnectionSettings] = request.app.state.settings.connections
    if name is None:
        mine = [n for n, c in connections.items() if c.kind is kind]
        if len(mine) > 1:
            raise ProblemError(
                400,
                f"{len(mine)} {label} connections are configured: name one with ?connection=",
                kind="bad-request",
            )
        name = mine[0] if mine else None
    config = connections.get(name) if name is not None else None
    if name is None or config is None or config.kind is not kind or not config.webhook_secret:
        # The same answer as a bad signature: an unauthenticated caller must not be able to
        # probe which connection names exist.
        raise ProblemError(
            401,
            f"not a valid {label} delivery for this connection",
            kind="bad-signature",
        )
    return name, config.webhook_secret.get_secret_value()


def _apply(request: Request, connection: str, changes: Changes, events: int) -> EventsAccepted:
    state = request.app.state
    inbox: Inbox = state.realtime
    stores = state.sync_stores()
    try:
        # Inside the try: a connection that cannot be built (no base URL, bad credentials) is
        # a CrmConfigError, which must not become a 500.
        wiring = inbox.wiring(connection, state.build_connection)
        report = apply_changes(
            connection,
            wiring.reader,
            wiring.writer,
            stores,
            changes,
            datetime.now(UTC),
            analyzer=state.analyzer_factory(),
            models=purchase_models(request, connection, stores.records),
            serial=inbox.lock(connection),
        )
    except CrmError as error:
        # A 5xx makes the CRM deliver again later, which is what a CRM outage needs; nothing
        # was remembered, so the retry is processed in full.
        raise ProblemError(503, f"the CRM failed: {error}", kind="crm-unavailable") from None
    inbox.applied(connection, changes)
    return _accepted(changes, events, report)


def _accepted(changes: Changes, events: int, report: SyncReport) -> EventsAccepted:
    return EventsAccepted(
        events=events,
        duplicates=changes.duplicates,
        ignored=changes.ignored,
        stale=changes.stale,
        reread=sum(len(v) for v in changes.reread.values()),
        deleted=sum(len(v) for v in changes.deleted.values()),
        customers_rescored=report.scored,
        fields_pushed=report.pushed,
        tasks_created=report.tasks_created,
    )


async def receive(request: Request, kind: CrmKind, name: str | None) -> EventsAccepted:
    """The one handler behind every CRM webhook route."""
    connection, secret = _connection(request, kind, name)
    verify, read = SOURCES[kind]
    body = await request.body()
    try:
        verify(
            secret,
            request.method,
            _uri(request),
            request.headers,
            body,
            int(time.time() * 1000),
        )
    except salesforce.SecretError:
        raise ProblemError(
            503, "the connection's webhook secret is misconfigured", kind="misconfigured"
        ) from None
    except SignatureError as error:
        raise ProblemError(
            401, f"not a valid {LABELS[kind]} delivery: {error}", kind="bad-signature"
        ) from None
    payload = parse_json(body)
    try:
        found, ignored = read(payload, request.app.state.own_fields(connection))
    except ValueError as error:
        raise ProblemError(422, str(error), kind="validation-error") from None
    # An event time before 1970 or more than a day ahead is no event time: such an event is
    # ignored like any other malformed one (a far-future stamp would make every later, real
    # change of the record look stale and be dropped).
    now_ms = int(time.time() * 1000)
    timely = [n for n in found if epoch_ms_in_range(n.stamp, now_ms)]
    ignored += len(found) - len(timely)
    found = timely
    inbox: Inbox = request.app.state.realtime
    changes = inbox.plan(connection, found, ignored)
    if not changes.reread and not changes.deleted:
        # Only duplicates, stale events or our own writes coming back: nothing to read.
        inbox.applied(connection, changes)
        return _accepted(changes, len(payload), SyncReport())
    return await run_in_threadpool(_apply, request, connection, changes, len(payload))


ConnectionQuery = Annotated[
    str | None,
    Query(max_length=64, description="the connection; optional when only one of this CRM"),
]


@router.post(
    "/v1/webhooks/hubspot",
    summary="HubSpot webhook deliveries (v3-signed; no API key)",
    responses=RESPONSES,
    openapi_extra=_body_doc(CrmKind.HUBSPOT),
)
async def hubspot_webhooks(request: Request, connection: ConnectionQuery = None) -> EventsAccepted:
    return await receive(request, CrmKind.HUBSPOT, connection)


@router.post(
    "/v1/webhooks/salesforce",
    summary="Salesforce change events (signed by the shared secret; no API key)",
    responses=RESPONSES,
    openapi_extra=_body_doc(CrmKind.SALESFORCE),
)
async def salesforce_webhooks(
    request: Request, connection: ConnectionQuery = None
) -> EventsAccepted:
    return await receive(request, CrmKind.SALESFORCE, connection)


@router.post(
    "/v1/crm-events/hubspot/{connection}",
    summary="HubSpot webhook deliveries (use POST /v1/webhooks/hubspot)",
    responses=RESPONSES,
    openapi_extra=_body_doc(CrmKind.HUBSPOT),
    deprecated=True,
)
async def hubspot_events(
    request: Request, connection: Annotated[str, Path(max_length=64)]
) -> EventsAccepted:
    return await receive(request, CrmKind.HUBSPOT, connection)


hubspot_webhooks.signed_by = "HubSpot v3 signature"  # type: ignore[attr-defined]
hubspot_events.signed_by = "HubSpot v3 signature"  # type: ignore[attr-defined]
salesforce_webhooks.signed_by = "Standard Webhooks signature"  # type: ignore[attr-defined]
