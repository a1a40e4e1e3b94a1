"""Set-based writes: many rows in one `INSERT … ON CONFLICT (key) DO UPDATE`.

Building one ORM object per row and letting the unit of work flush them cost more than the rest
of a sync (a 3,000-customer Salesforce pull stores some 50,000 records: `sqlmodel`'s validating
constructor and the flush were three quarters of the store's time). These helpers take plain
column dicts and write them in one statement per chunk: on PostgreSQL a multi-row VALUES list
(one round trip), on SQLite one prepared statement run for every row (`executemany`, a C loop).
Both dialects spell the upsert the same way (`on_conflict_do_update`), with the rows' new values
taken from `excluded`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

# Rows per PostgreSQL statement: at ~12 columns a row, far inside its 65,535 bound parameters.
_PG_ROWS = 2000


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def upsert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    keep: Sequence[str] = (),
) -> None:
    """Insert `rows` (dicts with the same columns); a row whose `key` exists gets the `update`
    columns of the new row instead (its other columns, the primary key included, stay); of
    those, a `keep` column whose new value is NULL keeps the stored one."""
    if not rows:
        return
    # Core on the session's connection (its transaction): no ORM layer, as for every set-based
    # statement of the store.
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    step = _PG_ROWS if postgres else len(rows)
    for start in range(0, len(rows), step):
        chunk = list(rows[start : start + step])
        statement = insert(table).values(chunk) if postgres else insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(key),
            set_={
                c: func.coalesce(statement.excluded[c], table.c[c])
                if c in keep
                else statement.excluded[c]
                for c in update
            },
        )
        # PostgreSQL: the rows are in the statement; SQLite: the statement runs once per row.
        connection.execute(statement, None if postgres else chunk)
