"""The OpenAPI routes: OAuth v4 token and permission, users, chats and consultation sends.

Conventions (docs/zalo.md "OpenAPI"): the OA access token in an `access_token` header; GET
parameters as one JSON `data` query parameter; answers `{"data", "error", "message"}`, errors as
HTTP 200 with a negative `error` (`-216` for a missing, unknown or expired token).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from sandbox.zalo.emulator import VIETNAM, ZaloEmulator, ms
from sandbox.zalo.errors import (
    INVALID_PARAMETER,
    INVALID_TOKEN,
    NOT_FOLLOWER,
    OUTSIDE_WINDOW,
    ZaloError,
    ok,
)
from sandbox.zalo.events import oa_sent
from sandbox.zalo.tokens import TokenRefusedError

FOLLOWERS_MAX, CHATS_MAX = 50, 10
MAX_OFFSET = 9_951  # user/getlist lists at most 10,000 users


def _data(request: Request) -> dict[str, Any]:
    raw = request.query_params.get("data")
    try:
        parsed = json.loads(raw) if raw is not None else {}
    except ValueError:
        raise ZaloError(INVALID_PARAMETER, "data is not JSON") from None
    if not isinstance(parsed, dict):
        raise ZaloError(INVALID_PARAMETER, "data must be a JSON object")
    return parsed


def _int(data: dict[str, Any], name: str, default: int, high: int) -> int:
    value = data.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ZaloError(INVALID_PARAMETER, f"{name} is invalid") from None
    if number < 0 or number > high:
        raise ZaloError(INVALID_PARAMETER, f"{name} must be between 0 and {high}")
    return number


def _days(period: str, now: datetime) -> tuple[str, str] | None:
    """`last_interaction_period` as (first, last) Vietnamese days "YYYY_MM_DD"; None: all."""
    today = now.astimezone(VIETNAM).date()
    named = {
        "TODAY": (today, today),
        "YESTERDAY": (today - timedelta(days=1), today - timedelta(days=1)),
        "L7D": (today - timedelta(days=6), today),
        "L30D": (today - timedelta(days=29), today),
    }
    if not period:
        return None
    if period in named:
        first, last = named[period]
        return f"{first:%Y_%m_%d}", f"{last:%Y_%m_%d}"
    start, _, end = period.partition(":")
    try:
        for day in (start, end):
            datetime.strptime(day, "%Y_%m_%d")
    except ValueError:
        raise ZaloError(INVALID_PARAMETER, "last_interaction_period is invalid") from None
    return start, end


def build_router(emu: ZaloEmulator) -> APIRouter:
    router = APIRouter()
    config = emu.config

    def guard(request: Request) -> dict[str, str]:
        """Check the `access_token` header and count the call; the rate headers."""
        token = request.headers.get("access_token", "")
        if not token or not emu.tokens.valid(token):
            raise ZaloError(INVALID_TOKEN)
        return emu.count_request()

    def answer(data: Any, headers: dict[str, str]) -> JSONResponse:
        return JSONResponse(ok(data), headers=headers or None)

    # --- OAuth v4 (oauth.zaloapp.com) ------------------------------------------------------

    @router.get("/v4/oa/permission")
    async def permission(request: Request) -> Response:
        """The OA admin's consent page, consented at once: back to `redirect_uri` with a code."""
        q = request.query_params
        if q.get("app_id") != config.app_id or not q.get("redirect_uri"):
            return JSONResponse(TokenRefusedError(-14001, "Invalid app", "unknown app_id").body())
        code = emu.tokens.authorize(q.get("code_challenge", ""))
        query = urlencode({"code": code, "oa_id": config.oa_id, "state": q.get("state", "")})
        return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

    @router.post("/v4/oa/access_token")
    async def access_token(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            return JSONResponse(emu.tokens.exchange(request.headers.get("secret_key", ""), form))
        except TokenRefusedError as refusal:
            return JSONResponse(refusal.body())  # HTTP 200, like every Zalo error

    # --- users ---------------------------------------------------------------------------

    @router.get("/v3.0/oa/user/getlist")
    async def getlist(request: Request) -> JSONResponse:
        headers = guard(request)
        data = _data(request)
        offset = _int(data, "offset", 0, MAX_OFFSET)
        count = _int(data, "count", 5, FOLLOWERS_MAX)
        following = str(data.get("is_follower", "true")).lower() != "false"
        days = _days(str(data.get("last_interaction_period") or ""), emu.now())
        with emu.lock:
            users = [
                f
                for f in emu.followers.values()
                if f.following is following
                and (
                    days is None
                    or days[0] <= f"{f.last_interaction_at.astimezone(VIETNAM):%Y_%m_%d}" <= days[1]
                )
            ]
        users.sort(key=lambda f: (f.followed_at, f.user_id))  # new followers come last
        page = users[offset : offset + count]
        return answer(
            {
                "total": len(users),
                "count": len(page),
                "offset": offset,
                "users": [{"user_id": f.user_id} for f in page],
            },
            headers,
        )

    @router.get("/v3.0/oa/user/detail")
    async def detail(request: Request) -> JSONResponse:
        headers = guard(request)
        user_id = str(_data(request).get("user_id") or "")
        with emu.lock:
            follower = emu.followers.get(user_id)
            if follower is None:
                raise ZaloError(NOT_FOLLOWER)
            return answer(follower.profile(config.app_id), headers)

    # --- chats ---------------------------------------------------------------------------

    def _name(user_id: str) -> str:
        follower = emu.followers.get(user_id)
        return follower.display_name if follower else ""

    @router.get("/v2.0/oa/listrecentchat")
    async def recent(request: Request) -> JSONResponse:
        headers = guard(request)
        data = _data(request)
        offset = _int(data, "offset", 0, 10**6)
        count = _int(data, "count", 5, CHATS_MAX)
        with emu.lock:
            latest = [chat[-1] for chat in emu.conversations.values() if chat]
            latest.sort(key=lambda m: (m.time_ms, m.message_id), reverse=True)
            page = [
                m.item(config.oa_id, config.oa_name, _name(m.user_id))
                for m in latest[offset : offset + count]
            ]
        return answer(page, headers)

    @router.get("/v2.0/oa/conversation")
    async def conversation(request: Request) -> JSONResponse:
        headers = guard(request)
        data = _data(request)
        user_id = str(data.get("user_id") or "")
        offset = _int(data, "offset", 0, 10**6)
        count = _int(data, "count", 5, CHATS_MAX)
        with emu.lock:
            if user_id not in emu.followers:
                raise ZaloError(NOT_FOLLOWER)
            newest_first = list(reversed(emu.conversations.get(user_id, [])))
            page = [
                m.item(config.oa_id, config.oa_name, _name(user_id))
                for m in newest_first[offset : offset + count]
            ]
        return answer(page, headers)

    # --- sending ---------------------------------------------------------------------------

    @router.post("/v3.0/oa/message/cs")
    async def send_cs(request: Request) -> JSONResponse:
        """A consultation message: free replies within 48 h of the user's last message (8 per
        message), then paid quota, refused (-230) after 7 days."""
        headers = guard(request)
        try:
            body = json.loads(await request.body())
            user_id = str(body["recipient"]["user_id"])
            text = str(body["message"]["text"])
        except (ValueError, KeyError, TypeError):
            raise ZaloError(
                INVALID_PARAMETER, "recipient.user_id and message.text are required"
            ) from None
        if user_id not in emu.followers:
            raise ZaloError(NOT_FOLLOWER)
        last = emu.last_user_message(user_id)
        now = emu.now()
        if last is None or ms(now) - last.time_ms > config.window_days * 86_400_000:
            raise ZaloError(OUTSIDE_WINDOW)
        used = emu.replies_since(user_id, last.time_ms)
        free = ms(now) - last.time_ms <= config.free_reply_hours * 3_600_000
        if free and used < config.free_replies:
            quota = {"quota_type": "reply", "remain": config.free_replies - used - 1,
                     "total": config.free_replies}  # fmt: skip
        else:
            quota = {"quota_type": "sub_quota", "remain": None, "total": None}
        message = emu.oa_sends(user_id, text)
        oa_sent(emu, message)
        return answer(
            {"message_id": message.message_id, "user_id": user_id, "quota": quota}, headers
        )

    return router
