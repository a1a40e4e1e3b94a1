"""Running sub-requests inside one API call (`/composite`, `/composite/batch`).

Each sub-request goes through the app's router in-process, in the caller's task, with the
caller's `Authorization` header. The whole call counts as ONE API request
(docs/crm-api-facts.md §2.7): `counting_disabled()` tells `authorize` not to count the sub-requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Scope

from sandbox.salesforce.errors import NOT_FOUND_MESSAGE, RecordError, SalesforceApiError

_COUNTING: ContextVar[bool] = ContextVar("salesforce_count_requests", default=True)
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")


def counting_enabled() -> bool:
    """False inside a composite call: its sub-requests are not separate API calls."""
    return _COUNTING.get()


@contextmanager
def counting_disabled() -> Iterator[None]:
    """Sub-requests made in this context are free."""
    token = _COUNTING.set(False)
    try:
        yield
    finally:
        _COUNTING.reset(token)


@dataclass
class SubResponse:
    """What a sub-request answered."""

    status: int
    body: Any
    headers: dict[str, str]


class UnresolvedReferenceError(Exception):
    """`@{ref.path}` names a result that does not exist (yet)."""


def _lookup(value: Any, path: str) -> Any:
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        name, index = step
        if name:
            if not isinstance(value, dict) or name not in value:
                raise KeyError(name)
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                raise KeyError(index)
            value = value[int(index)]
    return value


def substitute(value: Any, results: dict[str, Any]) -> Any:
    """Replace `@{refId.field}` references in strings (recursively) with earlier results."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            ref, path = match.group(1), match.group(2)
            if ref not in results:
                raise UnresolvedReferenceError(f"{ref}{path}")
            try:
                return str(_lookup(results[ref], path))
            except KeyError:
                raise UnresolvedReferenceError(f"{ref}{path}") from None

        return _REFERENCE.sub(replace, value)
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, results) for k, v in value.items()}
    return value


async def dispatch(router: ASGIApp, parent: Scope, method: str, url: str, body: Any) -> SubResponse:
    """Run one sub-request through `router`; errors become their Salesforce responses."""
    parts = urlsplit(url)
    payload = b"" if body is None else json.dumps(body).encode()
    headers = [
        (name, value)
        for name, value in parent.get("headers", [])
        if name in (b"authorization", b"sforce-query-options")
    ]
    headers.append((b"content-type", b"application/json"))
    scope: Scope = {
        **parent,
        "method": method.upper(),
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": headers,
    }
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    status = 500
    response_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            for name, value in message.get("headers", []):
                response_headers[name.decode("latin-1")] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await router(scope, receive, send)
    except SalesforceApiError as exc:
        return SubResponse(exc.status, exc.body(), {})
    except RecordError as exc:
        return SubResponse(400, [exc.as_rest_error()], {})
    except HTTPException as exc:
        code = "NOT_FOUND" if exc.status_code == 404 else "METHOD_NOT_ALLOWED"
        message = (
            NOT_FOUND_MESSAGE if exc.status_code == 404 else f"HTTP Method '{method}' not allowed."
        )
        return SubResponse(exc.status_code, [{"errorCode": code, "message": message}], {})
    raw = b"".join(chunks)
    parsed: Any = None
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
    return SubResponse(status, parsed, response_headers)
