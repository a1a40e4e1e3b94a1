"""The Qualtrics emulator as a FastAPI app on the shared sandbox machinery (sandbox/core).

The v3 API lives under `/API/v3` (so a connection's base URL is the server's root, as
`https://{datacenter}.qualtrics.com`), the OAuth token endpoint at `/oauth2/token`. Every
answer is Qualtrics' envelope (errors.py). Each API call is authenticated (`X-API-TOKEN` or a
Bearer from client credentials) and counted against the brand's bucket (429 when it is full);
parameter names are checked case-sensitively, as Qualtrics does (400 "Missing or invalid
parameter"). Admin endpoints under `/__sandbox/qualtrics/` send events, fail or expire exports,
give responses their CRM ids and show the ground truth.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from sandbox.core.faults import Fault, FaultKind
from sandbox.core.install import install_sandbox
from sandbox.core.middleware import FaultRenderer
from sandbox.core.state import ADMIN_PREFIX
from sandbox.qualtrics import events
from sandbox.qualtrics.emulator import QualtricsConfig, QualtricsEmulator
from sandbox.qualtrics.errors import QualtricsError, ok
from sandbox.qualtrics.responses import iso_z
from sandbox.qualtrics.surveys import SURVEYS
from sandbox.qualtrics.view import QualtricsView

logger = logging.getLogger(__name__)
API = "/API/v3"
ADMIN = f"{ADMIN_PREFIX}/qualtrics"

# The export's body parameters (names are case-sensitive) and the formats it writes.
EXPORT_PARAMS = frozenset(
    {
        "format",
        "startDate",
        "endDate",
        "limit",
        "useLabels",
        "seenUnansweredRecode",
        "multiselectSeenUnansweredRecode",
        "includeDisplayOrder",
        "timeZone",
        "questionIds",
        "embeddedDataIds",
        "surveyMetadataIds",
        "compress",
        "exportResponsesInProgress",
        "filterId",
        "allowContinuation",
        "continuationToken",
        "formatDecimalAsComma",
        "breakoutSets",
        "newlineReplacement",
        "sortByLastModifiedDate",
    }
)
FORMATS = frozenset({"json", "csv", "tsv"})
SUBSCRIPTION_PARAMS = frozenset({"topics", "publicationUrl", "encrypt", "sharedKey"})


def _invalid(name: str) -> QualtricsError:
    return QualtricsError(400, f"Missing or invalid parameter: {name}")


def _instant(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise _invalid(name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(name) from None
    if parsed.tzinfo is None:
        raise _invalid(name)
    return parsed


def _no_query(request: Request, allowed: frozenset[str] = frozenset()) -> None:
    for key in request.query_params:
        if key not in allowed:
            raise _invalid(key)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise QualtricsError(400, "Invalid JSON in request body") from None
    if not isinstance(body, dict):
        raise QualtricsError(400, "Request body must be a JSON object")
    return body


class Gate:
    """Authentication and the brand's rate bucket, checked by every API route."""

    def __init__(self, emu: QualtricsEmulator) -> None:
        self.emu = emu

    def __call__(self, request: Request, *, admin: bool = False) -> None:
        cfg = self.emu.config
        token = request.headers.get("x-api-token")
        bearer = request.headers.get("authorization", "")
        if token is not None:
            if token == cfg.api_token:
                pass
            elif token in cfg.user_tokens:
                if admin:
                    raise QualtricsError(403, "The user is not a brand administrator")
            else:
                raise QualtricsError(401, "Invalid API token")
        elif bearer.lower().startswith("bearer "):
            expiry = self.emu.access_tokens.get(bearer[7:].strip())
            if expiry is None or expiry < time.monotonic():
                raise QualtricsError(401, "Invalid or expired access token")
        else:
            raise QualtricsError(401, "Missing authentication (X-API-TOKEN or Bearer)")
        if self.emu.bucket is not None:
            with self.emu.lock:
                wait = self.emu.bucket.take(time.monotonic())
            if wait is not None:
                raise QualtricsError(429, "Too many requests: the brand's limit is reached")


def _api_router(emu: QualtricsEmulator) -> APIRouter:
    router = APIRouter(prefix=API)
    gate = Gate(emu)

    @router.get("/surveys")
    def list_surveys(request: Request) -> Response:
        gate(request)
        _no_query(request, frozenset({"offset"}))
        elements = [
            {"id": s.id, "name": s.name, "ownerId": "UR_sandbox", "isActive": True} for s in SURVEYS
        ]
        return ok({"elements": elements, "nextPage": None})

    @router.get("/surveys/{survey_id}")
    def get_survey(request: Request, survey_id: str) -> Response:
        gate(request)
        _no_query(request)
        survey = emu.survey(survey_id)
        return ok({"id": survey.id, "name": survey.name, "isActive": True})

    @router.get("/survey-definitions/{survey_id}")
    def definition(request: Request, survey_id: str) -> Response:
        gate(request)
        _no_query(request, frozenset({"format"}))
        return ok(emu.survey(survey_id).definition())

    @router.post("/surveys/{survey_id}/export-responses")
    async def start_export(request: Request, survey_id: str) -> Response:
        gate(request)
        body = await _json_object(request)
        for key in body:
            if key not in EXPORT_PARAMS:
                raise _invalid(key)  # "Format" is not "format"
        if body.get("format") not in FORMATS:
            raise _invalid("format")
        params: dict[str, Any] = {"format": body["format"]}
        for name in ("startDate", "endDate"):
            if name in body:
                params[name] = _instant(body[name], name)
        for name in ("useLabels", "compress", "allowContinuation", "exportResponsesInProgress"):
            if name in body:
                if not isinstance(body[name], bool):
                    raise _invalid(name)
                params[name] = body[name]
        if "limit" in body:
            if not isinstance(body["limit"], int) or body["limit"] < 1:
                raise _invalid("limit")
            params["limit"] = body["limit"]
        if "continuationToken" in body:
            if not isinstance(body["continuationToken"], str):
                raise _invalid("continuationToken")
            params["continuationToken"] = body["continuationToken"]
            params["allowContinuation"] = True
        job = emu.start_export(survey_id, params)
        return ok({"progressId": job.id, "percentComplete": 0.0, "status": "inProgress"})

    @router.get("/surveys/{survey_id}/export-responses/{progress_id}")
    def export_progress(request: Request, survey_id: str, progress_id: str) -> Response:
        gate(request)
        _no_query(request)
        job = emu.poll_export(survey_id, progress_id)
        total = emu.config.polls_to_complete
        done = job.status == "complete"
        result: dict[str, Any] = {
            "fileId": job.file_id,
            "percentComplete": 100.0 if done else round(100.0 * job.polls / (total + 1), 1),
            "status": job.status,
        }
        if done and job.token is not None:
            result["continuationToken"] = job.token
        return ok(result)

    @router.get("/surveys/{survey_id}/export-responses/{file_id}/file")
    def export_file(request: Request, survey_id: str, file_id: str) -> Response:
        gate(request)
        _no_query(request)
        job = emu.export_file(survey_id, file_id)
        zipped = job.filename.endswith(".zip")
        media = "application/zip" if zipped else "application/octet-stream"
        return Response(
            job.content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{job.filename}"'},
        )

    @router.get("/surveys/{survey_id}/responses/{response_id}")
    def get_response(request: Request, survey_id: str, response_id: str) -> Response:
        gate(request)
        _no_query(request)
        return ok(emu.response(survey_id, response_id).record())

    @router.post("/surveys/{survey_id}/responses")
    async def create_response(request: Request, survey_id: str) -> Response:
        gate(request)
        body = await _json_object(request)
        values = body.get("values")
        if set(body) - {"values"} or not isinstance(values, dict):
            raise _invalid("values")
        response = emu.add_response(survey_id, values, emu.sandbox.clock.now())
        return ok({"responseId": response.id})

    @router.delete("/surveys/{survey_id}/responses/{response_id}")
    def delete_response(request: Request, survey_id: str, response_id: str) -> Response:
        gate(request)
        emu.delete_response(survey_id, response_id)
        return ok({})

    @router.post("/eventsubscriptions/")
    async def subscribe(request: Request) -> Response:
        gate(request, admin=True)
        body = await _json_object(request)
        for key in body:
            if key not in SUBSCRIPTION_PARAMS:
                raise _invalid(key)
        for name in ("topics", "publicationUrl"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise _invalid(name)
        subscription = {
            "id": "SUB_" + secrets.token_hex(8),
            "topics": body["topics"],
            "publicationUrl": body["publicationUrl"],
            "encrypt": bool(body.get("encrypt", False)),
            "sharedKey": body.get("sharedKey"),
            "successfulCalls": 0,
        }
        with emu.lock:
            emu.subscriptions[subscription["id"]] = subscription
        return ok({"id": subscription["id"]})

    def _public(subscription: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in subscription.items() if k != "sharedKey"}

    @router.get("/eventsubscriptions/")
    def list_subscriptions(request: Request) -> Response:
        gate(request, admin=True)
        _no_query(request)
        with emu.lock:
            elements = [_public(s) for s in emu.subscriptions.values()]
        return ok({"elements": elements, "nextPage": None})

    @router.get("/eventsubscriptions/{subscription_id}")
    def get_subscription(request: Request, subscription_id: str) -> Response:
        gate(request, admin=True)
        found = emu.subscriptions.get(subscription_id)
        if found is None:
            raise QualtricsError(404, f"Subscription {subscription_id} not found")
        return ok(_public(found))

    @router.delete("/eventsubscriptions/{subscription_id}")
    def unsubscribe(request: Request, subscription_id: str) -> Response:
        gate(request, admin=True)
        with emu.lock:
            if emu.subscriptions.pop(subscription_id, None) is None:
                raise QualtricsError(404, f"Subscription {subscription_id} not found")
        return ok({})

    return router


def _oauth_router(emu: QualtricsEmulator) -> APIRouter:
    router = APIRouter()

    @router.post("/oauth2/token")
    async def token(request: Request) -> Response:
        """Client credentials: Basic client_id:client_secret, form grant_type and scope."""
        cfg = emu.config
        basic = request.headers.get("authorization", "")
        try:
            pair = base64.b64decode(basic.removeprefix("Basic ").strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            pair = ""
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if pair != f"{cfg.client_id}:{cfg.client_secret}":
            return JSONResponse(
                {"error": "invalid_client", "error_description": "client authentication failed"},
                status_code=401,
            )
        access = secrets.token_urlsafe(24)
        with emu.lock:
            emu.access_tokens[access] = time.monotonic() + cfg.access_token_seconds
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": cfg.access_token_seconds,
                "scope": str(form.get("scope") or ""),
            }
        )

    return router


def _admin_router(emu: QualtricsEmulator) -> APIRouter:
    router = APIRouter(prefix=ADMIN)

    @router.post("/events/send")
    def send_event(body: Annotated[dict[str, Any], Body()]) -> Response:
        """Send the completed-response event of one response to every matching
        subscription (signed when it has a sharedKey); the deliveries' answers. Synchronous
        (a worker thread), so the sender may post to an app served by the same process."""
        response = emu.response(str(body.get("surveyId")), str(body.get("responseId")))
        fields = events.event_fields(
            emu.config.brand_id,
            response.survey_id,
            response.id,
            response.recorded.strftime("%Y-%m-%d %H:%M:%S"),
        )
        with emu.lock:
            targets = [
                s for s in emu.subscriptions.values() if events.matches(s, response.survey_id)
            ]
        sent = []
        for subscription in targets:
            delivery = events.deliver(
                subscription, events.form_body(fields, subscription.get("sharedKey"))
            )
            if delivery.status is not None and 200 <= delivery.status < 300:
                subscription["successfulCalls"] += 1
            sent.append(delivery.to_json())
        return JSONResponse({"deliveries": sent})

    @router.post("/exports/fail")
    async def fail_exports(request: Request) -> Response:
        """The next `count` exports end `failed` instead of `complete`."""
        body = await _json_object(request)
        with emu.lock:
            emu.fail_next = int(body.get("count", 1))
        return JSONResponse({"failNext": emu.fail_next})

    @router.post("/exports/expire")
    def expire_exports() -> Response:
        """Forget every export and file: their polls and downloads answer 404."""
        return JSONResponse({"expired": emu.expire_exports()})

    @router.put("/crm-ids")
    async def crm_ids(request: Request) -> Response:
        """`{"ids": {generator person id: CRM contact id}}`: the responses' `crm_contact_id`."""
        body = await _json_object(request)
        ids = body.get("ids")
        if not isinstance(ids, dict):
            return JSONResponse({"detail": "ids must be an object"}, status_code=422)
        changed = emu.set_crm_ids({str(k): str(v) for k, v in ids.items()})
        return JSONResponse({"changed": changed})

    @router.get("/truth")
    def truth() -> Response:
        """Ground truth: every response's generator person, kind, score and language."""
        return JSONResponse({"responses": emu.truth()})

    @router.get("/now")
    def now() -> Response:
        return JSONResponse({"now": iso_z(emu.sandbox.clock.now())})

    return router


def _fault_renderer() -> FaultRenderer:
    """Core faults as Qualtrics fails: 429 for throttling (no daily quota exists: a spent
    quota is the same brand limit), 401 for an expired token, the 5xx envelope."""

    def render(fault: Fault, scope: Scope) -> Response | None:
        del scope
        if fault.kind in (FaultKind.RATE_LIMITED, FaultKind.QUOTA_EXHAUSTED):
            headers = (
                {"Retry-After": str(fault.retry_after_seconds)}
                if fault.kind is FaultKind.RATE_LIMITED and fault.retry_after_seconds
                else {}
            )
            return QualtricsError(429, "Too many requests", headers=headers).response()
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            return QualtricsError(401, "Invalid or expired access token").response()
        if fault.kind is FaultKind.ERROR_5XX:
            return QualtricsError(fault.status_5xx, "An internal error occurred").response()
        return None  # row locks do not exist in Qualtrics

    return render


def create_app(
    config: QualtricsConfig | None = None, emulator: QualtricsEmulator | None = None
) -> FastAPI:
    """A Qualtrics emulator app (`app.state.qualtrics` is the emulator)."""
    emu = emulator or QualtricsEmulator(config)
    app = FastAPI(
        title="Qualtrics sandbox",
        description="A local emulator of the Qualtrics v3 API subset cem-bridge uses.",
        docs_url="/__sandbox/docs",
        openapi_url="/__sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.qualtrics = emu
    app.include_router(_api_router(emu))
    app.include_router(_oauth_router(emu))
    app.include_router(_admin_router(emu))
    _install_error_handlers(app)
    install_sandbox(app, emu.sandbox, _fault_renderer(), view=QualtricsView(emu))
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """Every API error leaves in Qualtrics' envelope, never as a traceback."""

    async def qualtrics_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, QualtricsError)
        return exc.response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(ADMIN_PREFIX):
            return await http_exception_handler(request, exc)
        message = "Resource not found" if exc.status_code == 404 else str(exc.detail)
        return QualtricsError(exc.status_code, message).response()

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith(ADMIN_PREFIX):
            return await request_validation_exception_handler(request, exc)
        return QualtricsError(400, "Missing or invalid parameter").response()

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("qualtrics sandbox: unhandled error on %s", request.url.path)
        return QualtricsError(500, f"Internal error ({type(exc).__name__})").response()

    app.add_exception_handler(QualtricsError, qualtrics_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)
