"""Keyset ("cursor") pagination for every list endpoint.

A page is read with `WHERE (sort, id) > (last sort value, last id) ORDER BY sort, id LIMIT n+1`,
so deep pages cost the same as the first and rows inserted meanwhile never shift a page (offset
paging would skip or repeat them). The cursor handed to clients is opaque: URL-safe base64 of
the sort field and the last row's (value, id); a cursor made for another sort is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import literal, tuple_
from sqlmodel import Session, SQLModel
from sqlmodel.sql.expression import SelectOfScalar

RowT = TypeVar("RowT", bound=SQLModel)


class BadCursorError(ValueError):
    """The cursor is malformed or was made for another sort order."""


@dataclass(frozen=True)
class Sort:
    """A sort order: a field name and its direction (`-field` in a query string = descending)."""

    field: str
    descending: bool

    @classmethod
    def parse(cls, text: str) -> Sort:
        return cls(text.lstrip("-"), text.startswith("-"))

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field


@dataclass(frozen=True)
class Page(Generic[RowT]):
    items: list[RowT]
    next_cursor: str | None


def _plain(value: Any) -> Any:
    return {"dt": value.isoformat()} if isinstance(value, datetime) else value


def _restore(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"dt"}:
        return datetime.fromisoformat(value["dt"])
    return value


def encode_cursor(sort: Sort, value: Any, row_id: Any) -> str:
    raw = json.dumps([str(sort), _plain(value), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, Any]:
    """The (sort value, id) a cursor points after; `BadCursorError` when it does not fit `sort`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, row_id = json.loads(raw)
        restored = _restore(value)
    except (binascii.Error, ValueError, TypeError) as error:
        raise BadCursorError("the cursor is not one this API handed out") from error
    if made_for != str(sort):
        raise BadCursorError(f"the cursor was made for sort={made_for}, not sort={sort}")
    return restored, row_id


def keyset_page(
    session: Session,
    query: SelectOfScalar[RowT],
    *,
    sort: Sort,
    columns: Mapping[str, Any],  # sort field -> column (an InstrumentedAttribute)
    id_column: Any,
    cursor: str | None,
    limit: int,
    nullable: bool = False,
) -> Page[RowT]:
    """One page of `query` ordered by `sort` (a key of `columns`) then by id.

    With `nullable`, rows whose sort value is NULL come last in either direction (a customer
    not scored yet is neither the best nor the worst); otherwise the column must be non-null.
    Nulls-last in both directions is not an order one (column, id) index can serve (PostgreSQL
    and SQLite would sort the whole table per page), so such a page is read in two index-ordered
    parts: the rows with a value, then, when they run out, the NULL rows by id.
    """
    column = columns[sort.field]
    value: Any = None
    row_id: Any = None
    if cursor is not None:
        value, row_id = decode_cursor(cursor, sort)
    by_id = id_column.desc() if sort.descending else id_column.asc()

    def id_after() -> Any:
        return id_column < row_id if sort.descending else id_column > row_id

    rows: list[RowT] = []
    if not (nullable and cursor is not None and value is None):
        valued = query.where(column.is_not(None)) if nullable else query
        if cursor is not None:
            # A row-value comparison, not "a > v OR (a = v AND id > i)": SQLite and PostgreSQL
            # turn it into one range seek on the (sort, id) index; the OR form scanned from the
            # start of the index, so deep pages cost more than early ones.
            # Bound with the columns' own types (UtcDateTime normalises times to UTC).
            after = tuple_(literal(value, column.type), literal(row_id, id_column.type))
            key = tuple_(column, id_column)
            valued = valued.where(key < after if sort.descending else key > after)
        ordered = column.desc() if sort.descending else column.asc()
        rows = list(session.exec(valued.order_by(ordered, by_id).limit(limit + 1)))
    if nullable and len(rows) <= limit:
        empty = query.where(column.is_(None))
        if cursor is not None and value is None:
            empty = empty.where(id_after())
        rows += list(session.exec(empty.order_by(by_id).limit(limit + 1 - len(rows))))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(sort, getattr(last, sort.field), getattr(last, id_column.key))
    return Page(items=rows, next_cursor=next_cursor)
