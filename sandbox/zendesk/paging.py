"""Zendesk's two list paginations (docs/zendesk.md "Pagination").

Cursor: `page[size]` (at most 100) and `page[after]`/`page[before]`; the answer has
`meta{has_more, after_cursor, before_cursor}` and `links{next, prev}` as absolute URLs on the
account's own origin (clients follow them verbatim). Offset (no `page[size]`): `page`,
`per_page` (at most 100), `next_page`, `previous_page`, `count`; past 10,000 records a 400.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from sandbox.zendesk.errors import ZendeskError

MAX_PAGE = 100
OFFSET_CAP = 10_000


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        raise ZendeskError(400, "InvalidPaginationParameter", "cursor is invalid") from None


def self_url(request: Request, **params: Any) -> str:
    """This endpoint's absolute URL on the emulator's origin with the given query."""
    base = str(request.base_url).rstrip("/")
    query = {k: v for k, v in request.query_params.items() if k not in params}
    query.update({k: v for k, v in params.items() if v is not None})
    return f"{base}{request.url.path}?{urlencode(query)}"


def _int(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise ZendeskError(400, "InvalidPaginationParameter", f"{name} must be a whole number")
    return int(value)


def paginate(
    request: Request, key: str, rows: Sequence[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """One page of `rows` (already in id order) by cursor or offset, as the request asks."""
    query = request.query_params
    size = query.get("page[size]")
    if size is not None:
        limit = _int(size, "page[size]", MAX_PAGE)
        if limit < 1 or limit > MAX_PAGE:
            raise ZendeskError(
                400, "InvalidPaginationParameter", f"page[size] must be at most {MAX_PAGE}"
            )
        after = query.get("page[after]")
        start = 0
        if after:
            last = int(decode_cursor(after))
            start = next((n for n, r in enumerate(rows) if int(r["id"]) > last), len(rows))
        page = list(rows[start : start + limit])
        more = start + limit < len(rows)
        after_cursor = encode_cursor(str(page[-1]["id"])) if page else None
        before_cursor = encode_cursor(str(page[0]["id"])) if page else None
        return {
            key: page,
            **extra,
            "meta": {
                "has_more": more,
                "after_cursor": after_cursor,
                "before_cursor": before_cursor,
            },
            "links": {
                "next": self_url(request, **{"page[after]": after_cursor}) if more else None,
                "prev": self_url(request, **{"page[before]": before_cursor}) if page else None,
            },
        }
    per_page = min(_int(query.get("per_page"), "per_page", MAX_PAGE), MAX_PAGE)
    number = max(1, _int(query.get("page"), "page", 1))
    if number * per_page > OFFSET_CAP:
        raise ZendeskError(
            400,
            "InvalidPaginationParameter",
            "Offset pagination is limited to the first 10,000 records: use cursor pagination",
        )
    start = (number - 1) * per_page
    page = list(rows[start : start + per_page])
    more = start + per_page < len(rows)
    return {
        key: page,
        **extra,
        "next_page": self_url(request, page=number + 1, per_page=per_page) if more else None,
        "previous_page": self_url(request, page=number - 1, per_page=per_page)
        if number > 1
        else None,
        "count": len(rows),
    }
