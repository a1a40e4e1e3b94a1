"""Zendesk's error bodies: `{"error": "<Code>", "description": ...}` (+ `details` for
RecordInvalid), a bare message for 401 (docs/zendesk.md "Errors")."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response


class ZendeskError(Exception):
    """An error answer, rendered as Zendesk writes it."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error}")
        self.status = status
        self.error = error
        self.description = description
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.description is not None:
            body["description"] = self.description
        if self.details is not None:
            body["details"] = self.details
        return body

    def response(self) -> Response:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def not_found() -> ZendeskError:
    return ZendeskError(404, "RecordNotFound", "Not found")


def invalid(field: str, description: str) -> ZendeskError:
    return ZendeskError(
        422,
        "RecordInvalid",
        "Record validation errors",
        {field: [{"description": description, "error": "InvalidValue"}]},
    )


def unauthenticated() -> ZendeskError:
    return ZendeskError(401, "Couldn't authenticate you")


def rate_limited(retry_after: int) -> Response:
    # One observed 429 body was text/plain; Retry-After is whole seconds.
    return Response(
        f"Rate limit for API requests exceeded. Retry after {retry_after} seconds.",
        status_code=429,
        media_type="text/plain",
        headers={"Retry-After": str(retry_after)},
    )
