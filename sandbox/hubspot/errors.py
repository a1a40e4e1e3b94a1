"""HubSpot's error body and the exception the emulator raises to produce one.

Every error answer has the shape of docs/crm-api-facts.md §3.10: ``status: "error"``, ``message``,
``correlationId`` (a fresh UUID), ``category`` and, where HubSpot sends them, ``subCategory``,
``errors`` and ``context``. The generated client's ``Error`` model expects ``message``,
``correlationId`` and ``category``, so those three are always present.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json;charset=utf-8"


class HubSpotError(Exception):
    """An error answer in HubSpot's format; raised anywhere below a route, rendered once."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        sub_category: str | None = None,
        context: dict[str, list[str]] | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.sub_category = sub_category
        self.context = context
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The JSON body HubSpot sends for this error."""
        data: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
        }
        if self.sub_category:
            data["subCategory"] = self.sub_category
        if self.errors:
            data["errors"] = self.errors
        if self.context:
            data["context"] = self.context
        data.update(self.extra)
        return data

    def response(self) -> Response:
        """The HTTP response carrying :meth:`body`."""
        return json_response(self.body(), self.status, self.headers)

    def __repr__(self) -> str:
        return f"HubSpotError({self.status}, {self.category!r}, {self.message!r})"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact UTF-8 JSON response (orjson: a list page is the read benchmark's hot path)."""
    return Response(orjson.dumps(data), status, headers, media_type=JSON_MEDIA_TYPE)


def validation_error(message: str, **kwargs: Any) -> HubSpotError:
    """400 ``VALIDATION_ERROR``, the category of every malformed input."""
    return HubSpotError(400, "VALIDATION_ERROR", message, **kwargs)


def not_found(message: str = "resource not found") -> HubSpotError:
    """404 ``OBJECT_NOT_FOUND`` (docs/crm-api-facts.md §3.10: the message is literally this)."""
    return HubSpotError(404, "OBJECT_NOT_FOUND", message)


def conflict(message: str, **kwargs: Any) -> HubSpotError:
    """409 ``CONFLICT`` (duplicate contact email, existing property or group name)."""
    return HubSpotError(409, "CONFLICT", message, **kwargs)
