"""Incremental exports (docs/zendesk.md "Incremental exports").

- Cursor-based `/incremental/{tickets,users}/cursor.json`: the first call names `start_time`
  (epoch seconds), later ones `cursor=<after_cursor>`; records in (stamp, id) order, at most
  `per_page` (1,000) a page; `after_cursor`, `after_url` (absolute), `end_of_stream`.
- Time-based `/incremental/organizations.json`: `start_time`, `next_page` (start_time=end_time,
  so records stamped at end_time come again: the documented duplicates), `end_time`, `count`,
  `end_of_stream`.
- The last minute before the request is left out; a start_time inside the "too recent" floor is a
  422 InvalidValue. Deleted tickets come with `status: "deleted"`, deleted users `active: false`,
  deleted organizations with `deleted_at`. `include=metric_sets` side-loads ticket metrics.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from sandbox.zendesk.config import Exports
from sandbox.zendesk.errors import ZendeskError
from sandbox.zendesk.paging import decode_cursor, encode_cursor, self_url
from sandbox.zendesk.store import Table, ZendeskStore


def _whole(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.lstrip("-").isdigit():
        raise ZendeskError(400, "InvalidValue", f"{name} must be epoch seconds")
    return int(value)


def _page_size(request: Request, exports: Exports) -> int:
    size = _whole(request.query_params.get("per_page"), "per_page") or exports.max_per_page
    return max(1, min(size, exports.max_per_page))


def _start(request: Request, store: ZendeskStore, exports: Exports) -> int:
    start = _whole(request.query_params.get("start_time"), "start_time")
    if start is None:
        raise ZendeskError(400, "InvalidValue", "start_time is required")
    if start > store.stamp() - exports.too_recent_seconds:
        minutes = max(1, exports.too_recent_seconds // 60)
        raise ZendeskError(
            422,
            "InvalidValue",
            f"Too recent start_time. Use a start_time older than {minutes} minute"
            + ("s" if minutes > 1 else ""),
        )
    return start


def _horizon(store: ZendeskStore, exports: Exports) -> float:
    """The newest stamp an export may return: a minute before now (no bound when the
    exclusion is switched off, so records stamped by a clock since moved back still come)."""
    if exports.exclude_last_seconds == 0:
        return float("inf")
    return store.stamp() - exports.exclude_last_seconds


def cursor_export(
    request: Request,
    store: ZendeskStore,
    exports: Exports,
    table: Table,
    key: str,
    side: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One page of a cursor-based export of `table`."""
    cursor = request.query_params.get("cursor")
    if cursor:
        stamp_text, _, id_text = decode_cursor(cursor).partition(":")
        if not (stamp_text.lstrip("-").isdigit() and id_text.isdigit()):
            raise ZendeskError(400, "InvalidValue", "cursor is invalid")
        position = (int(stamp_text), int(id_text))
    else:
        position = (_start(request, store, exports), -1)
    size = _page_size(request, exports)
    horizon = _horizon(store, exports)
    with store.lock:
        eligible = [p for p in table.ordered() if p > position and p[0] <= horizon]
        page = eligible[:size]
        rows = [dict(table.rows[i]) for _, i in page]
    last = page[-1] if page else position
    after = encode_cursor(f"{last[0]}:{max(last[1], 0)}")
    body: dict[str, Any] = {
        key: rows,
        "after_cursor": after,
        "before_cursor": encode_cursor(f"{page[0][0]}:{page[0][1]}") if page else None,
        "after_url": self_url(request, cursor=after, start_time=None),
        "before_url": None,
        "end_of_stream": len(eligible) <= size,
    }
    if side:
        body.update(side)
    return body


def time_export(
    request: Request, store: ZendeskStore, exports: Exports, table: Table, key: str
) -> dict[str, Any]:
    """One page of a time-based export of `table` (duplicates at page edges, as Zendesk)."""
    start = _start(request, store, exports)
    size = _page_size(request, exports)
    horizon = _horizon(store, exports)
    with store.lock:
        eligible = [p for p in table.ordered() if start <= p[0] <= horizon]
        page = eligible[:size]
        rows = [dict(table.rows[i]) for _, i in page]
    end_time = page[-1][0] if page else start
    end = len(eligible) <= size
    return {
        key: rows,
        "count": len(rows),
        "end_time": end_time,
        "next_page": self_url(request, start_time=end_time),
        "end_of_stream": end,
    }
