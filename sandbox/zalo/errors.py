"""Zalo's error answers: HTTP 200 with a non-zero `error` and a `message` (docs/zalo.md)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

# The codes the emulator answers with (sources in docs/zalo.md "Errors").
INVALID_PARAMETER = -201
NOT_FOLLOWER = -213
INVALID_TOKEN = -216
OUTSIDE_WINDOW = -230
RATE_LIMITED = -32

MESSAGES = {
    INVALID_PARAMETER: "Parameters are invalid",
    NOT_FOLLOWER: "User has not followed OA",
    INVALID_TOKEN: "Access token is invalid",
    OUTSIDE_WINDOW: "User has not interacted with the OA in the past 7 days",
    RATE_LIMITED: "Exceeded the rate limit of the app",
}


class ZaloError(Exception):
    """An error answer; raised below a route, rendered once as HTTP 200 + `error`."""

    def __init__(self, code: int, message: str | None = None, **headers: str) -> None:
        super().__init__(message or MESSAGES.get(code, "Unknown error"))
        self.code = code
        self.message = message or MESSAGES.get(code, "Unknown error")
        self.headers = headers

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        return JSONResponse(body, status_code=200, headers=self.headers or None)


def ok(data: Any) -> dict[str, Any]:
    """Zalo's success envelope."""
    return {"data": data, "error": 0, "message": "Success"}
