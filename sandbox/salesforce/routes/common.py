"""Helpers every Salesforce route module uses: auth, JSON bodies, record rendering."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import SalesforceApiError, not_found
from sandbox.salesforce.schema import ObjectDef
from sandbox.salesforce.sessions import Session
from sandbox.salesforce.store import Record
from sandbox.salesforce.subrequests import counting_enabled

DATA = "/services/data/v{version}"
# The versions `GET /services/data/` lists; others answer 404 NOT_FOUND like the real API.
SUPPORTED_VERSIONS = tuple(f"{v}.0" for v in range(52, 63))
Endpoint = Callable[..., Coroutine[Any, Any, Response]]


def add(router: APIRouter, path: str, endpoint: Endpoint, methods: list[str]) -> None:
    """Register `path` with and without a trailing slash.

    simple-salesforce asks for `.../query/?q=` and `.../sobjects/Contact/` while other clients
    drop the slash (docs/crm-api-facts.md §1.1); a redirect would lose PATCH bodies in some clients.
    """
    bare = path.rstrip("/")
    router.add_api_route(bare, endpoint, methods=methods, include_in_schema=False)
    router.add_api_route(bare + "/", endpoint, methods=methods, include_in_schema=False)


def authorize(emu: SalesforceEmulator, request: Request) -> Session:
    """The caller's session (401 INVALID_SESSION_ID otherwise), counted against the quota."""
    version = request.path_params.get("version")
    if version is not None and version not in SUPPORTED_VERSIONS:
        raise not_found()
    session = emu.sessions.validate(request.headers.get("authorization"))
    if counting_enabled():
        emu.limits.consume()
    return session


async def read_json(request: Request) -> Any:
    """The parsed JSON body; 400 JSON_PARSER_ERROR like the real API when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "The request body is empty.")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SalesforceApiError(
            400, "JSON_PARSER_ERROR", f"Unexpected character at [line:{exc_line(exc)}]"
        ) from None


def exc_line(exc: Exception) -> str:
    """`line, column` of a JSON error, as in Salesforce's parser messages."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.lineno}, column:{exc.colno}"
    return "1, column:1"


async def read_form(request: Request) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body (the OAuth endpoints' format).

    Parsed here rather than with Starlette's `request.form()`, which needs python-multipart.
    """
    raw = await request.body()
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


def read_object(body: Any, what: str = "body") -> dict[str, Any]:
    """`body` as a JSON object, else 400 JSON_PARSER_ERROR."""
    if not isinstance(body, dict):
        raise SalesforceApiError(
            400, "JSON_PARSER_ERROR", f"Cannot deserialize {what}: expected a JSON object"
        )
    return body


def record_url(version: str, object_name: str, record_id: str) -> str:
    """The `attributes.url` of a record."""
    return f"/services/data/v{version}/sobjects/{object_name}/{record_id}"


def render_record(
    obj: ObjectDef, record: Record, version: str, field_names: list[str] | None = None
) -> dict[str, Any]:
    """A record as `GET /sobjects/{Obj}/{id}` returns it: attributes, then every field."""
    names = field_names if field_names is not None else [f.name for f in obj.fields.values()]
    out: dict[str, Any] = {
        "attributes": {"type": obj.name, "url": record_url(version, obj.name, record["Id"])}
    }
    for name in names:
        out[name] = record.get(name)
    return out


def requested_fields(obj: ObjectDef, fields_param: str | None) -> list[str] | None:
    """Canonical names of a `?fields=A,B` parameter (INVALID_FIELD for unknown ones)."""
    if not fields_param:
        return None
    return [obj.field(name.strip()).name for name in fields_param.split(",") if name.strip()]
