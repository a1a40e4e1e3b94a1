"""Pure ASGI middleware: request ids, access log, metrics, body limits and content types.

Written as plain ASGI callables rather than BaseHTTPMiddleware: they add almost nothing to a
request's cost, which matters for the stateless scoring endpoint's throughput.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import INTERNAL_ERROR_DETAIL, problem_response
from service.logs import request_id_var

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}

access_log = logging.getLogger("cem.access")


class HttpMetrics:
    """Prometheus collectors for HTTP traffic, in a registry owned by one app."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "cem_http_requests",
            "HTTP requests handled",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "cem_http_request_duration_seconds",
            "Time to handle an HTTP request",
            ["method", "route"],
            registry=registry,
        )


def _route_template(scope: Scope) -> str:
    # Label by the route's template, never the raw path: raw paths hold ids (unbounded labels).
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Request id in/out, one access-log line per request, metrics, and a last-resort 500."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER)
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else None
        request_id = request_id or uuid.uuid4().hex
        request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            access_log.exception("unhandled error")
            if response_started:
                raise
            response = problem_response(500, INTERNAL_ERROR_DETAIL)
            await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.duration.labels(method, route).observe(elapsed)
            access_log.info(
                "%s %s %s %.1fms",
                method,
                scope["path"],
                status,
                elapsed * 1000,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 2)},
            )


class BodyGuardMiddleware:
    """413 for bodies over the limit (declared or streamed) and 415 for non-JSON bodies.

    Paths listed in `raw_body_prefixes` accept other media types (e.g. a CRM's webhook that
    posts XML); the size limit applies to them too.
    """

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, raw_body_prefixes: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.raw_body_prefixes = tuple(raw_body_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = _header(scope, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        content_type = (_header(scope, "content-type") or "").split(";")[0].strip().lower()
        has_body = declared != "0" and (declared is not None or _header(scope, "transfer-encoding"))
        if (
            has_body
            and not _is_json(content_type)
            and not scope["path"].startswith(self.raw_body_prefixes)
        ):
            response = problem_response(
                415, f"send the body as application/json, not {content_type or 'no content type'}"
            )
            await response(scope, receive, send)
            return

        if declared is not None:
            # The server enforces Content-Length, so a declared size within the limit is safe.
            await self.app(scope, receive, send)
            return
        # A chunked body has no declared size: buffer it up to the limit, then replay it.
        # (Raising from inside `receive` would be swallowed by the framework as a 400.)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body.extend(message.get("body", b""))
            if len(body) > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            f"request body is larger than {self.max_body_bytes} bytes",
            max_bytes=self.max_body_bytes,
        )
        await response(scope, receive, send)


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None
