"""Qualtrics' answer envelope: `meta.httpStatus` ("200 - OK") and `requestId` on every answer,
`meta.error {errorCode, errorMessage}` on errors (README.md "Envelope")."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

# The emulator's error codes: Qualtrics' own codes are not documented per status, so these
# name the case; the connector keys on the status (adapters/qualtrics/errors.py).
CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
}


def http_status(status: int) -> str:
    """`"200 - OK"`, as `meta.httpStatus` writes it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"{status} - {phrase}"


def meta(status: int) -> dict[str, Any]:
    return {"httpStatus": http_status(status), "requestId": str(uuid.uuid4())}


def ok(result: Any, status: int = 200) -> JSONResponse:
    """A success envelope."""
    return JSONResponse({"result": result, "meta": meta(status)}, status_code=status)


class QualtricsError(Exception):
    """An error answer in Qualtrics' envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "SERVER_ERROR" if status >= 500 else "ERROR")
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body_meta = meta(self.status)
        body_meta["error"] = {"errorCode": self.code, "errorMessage": self.message}
        if self.status >= 500:
            body_meta["error"]["instanceId"] = "sandbox-1"
        return JSONResponse({"meta": body_meta}, status_code=self.status, headers=self.headers)
