"""CRM webhooks in: `POST /v1/crm-events/hubspot/{connection}` (authenticated by signature).

HubSpot cannot send our API key; its v3 signature (HMAC-SHA256 with the app's client secret,
over method, URL, body and a timestamp no older than 5 minutes) authenticates the delivery.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from service.api.problems import ProblemError
from service.api.routes.interactions import purchase_models
from service.config import CrmKind
from service.ports import CrmError
from service.realtime.hubspot import RecentIds, SignatureError, malformed, plan, verify_v3
from service.usecases.realtime import apply_changes

router = APIRouter(prefix="/v1/crm-events", tags=["real time"])
MAX_EVENTS = 100  # HubSpot sends at most 100 events a delivery


class EventsAccepted(BaseModel):
    events: int
    duplicates: int
    ignored: int
    reread: int
    deleted: int
    customers_rescored: int
    fields_pushed: int
    tasks_created: int


def _uri(request: Request) -> str:
    base = request.app.state.settings.public_url
    if base is None:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{str(base).rstrip('/')}{request.url.path}{query}"


def _handle(request: Request, connection: str, body: bytes) -> EventsAccepted:
    events: list[dict[str, Any]] = json.loads(body)
    seen: RecentIds = request.app.state.hubspot_event_ids
    changes = plan(events, seen)
    stores = request.app.state.sync_stores()
    try:
        # Inside the try: a connection that cannot be built (no base URL, bad credentials) is
        # a CrmConfigError, which must not become a 500.
        wiring = request.app.state.build_connection(connection)
        report = apply_changes(
            connection,
            wiring.reader,
            wiring.writer,
            stores,
            changes,
            datetime.now(UTC),
            analyzer=request.app.state.analyzer_factory(),
            models=purchase_models(request, connection, stores.records),
        )
    except CrmError as error:
        # A 5xx makes HubSpot retry the delivery later, which is what a CRM outage needs.
        raise ProblemError(503, f"the CRM failed: {error}", kind="crm-unavailable") from None
    return EventsAccepted(
        events=len(events),
        duplicates=changes.duplicates,
        ignored=changes.ignored,
        reread=sum(len(v) for v in changes.reread.values()),
        deleted=sum(len(v) for v in changes.deleted.values()),
        customers_rescored=report.scored,
        fields_pushed=report.pushed,
        tasks_created=report.tasks_created,
    )


@router.post(
    "/hubspot/{connection}",
    summary="HubSpot webhook deliveries (v3-signed; no API key)",
    responses={
        401: {"description": "Bad or stale signature"},
        404: {"description": "No HubSpot connection of that name with a webhook secret"},
        503: {"description": "The CRM failed; HubSpot retries the delivery later"},
    },
)
async def hubspot_events(
    request: Request,
    connection: Annotated[str, Path(max_length=64)],
    signature: Annotated[str, Header(alias="X-HubSpot-Signature-v3")] = "",
    timestamp: Annotated[str, Header(alias="X-HubSpot-Request-Timestamp")] = "",
) -> EventsAccepted:
    settings = request.app.state.settings
    config = settings.connections.get(connection)
    if config is None or config.kind is not CrmKind.HUBSPOT or config.webhook_secret is None:
        raise ProblemError(404, f"no HubSpot connection {connection!r} with a webhook secret")
    body = await request.body()
    try:
        verify_v3(
            config.webhook_secret.get_secret_value(),
            request.method,
            _uri(request),
            body,
            signature,
            timestamp,
            int(time.time() * 1000),
        )
    except SignatureError as error:
        raise ProblemError(
            401, f"not a valid HubSpot delivery: {error}", kind="bad-signature"
        ) from None
    try:
        events = json.loads(body)
    except ValueError:
        raise ProblemError(400, "the body is not JSON", kind="bad-request") from None
    if (
        not isinstance(events, list)
        or len(events) > MAX_EVENTS
        or not all(isinstance(e, dict) for e in events)
    ):
        raise ProblemError(
            422,
            f"expected a JSON array of up to {MAX_EVENTS} event objects",
            kind="validation-error",
        )
    problems = [(i, why) for i, e in enumerate(events) if (why := malformed(e))]
    if problems:
        index, why = problems[0]
        raise ProblemError(
            422,
            f"event {index}: {why}; nothing in this delivery was processed",
            kind="validation-error",
        )
    return await run_in_threadpool(_handle, request, connection, body)
