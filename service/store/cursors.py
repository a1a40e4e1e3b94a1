"""Sync cursors: where each stream's incremental pull stopped, saved after every batch."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from service.domain import Cursor
from service.store.database import session_scope
from service.store.tables import SyncCursor, utcnow


class CursorRepository:
    """Load and save `Cursor`s per (connection, stream)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load(self, connection: str, stream: str) -> Cursor | None:
        with Session(self._engine) as session:
            row = session.get(SyncCursor, (connection, stream))
            if row is None:
                return None
            return Cursor(stream=stream, modified_at=row.modified_at, last_id=row.last_id)

    def save(self, connection: str, cursor: Cursor) -> None:
        """Persist `cursor` (insert or update) in its own transaction."""
        with session_scope(self._engine) as session:
            row = session.get(SyncCursor, (connection, cursor.stream))
            if row is None:
                row = SyncCursor(connection=connection, stream=cursor.stream)
            row.modified_at = cursor.modified_at
            row.last_id = cursor.last_id
            row.updated_at = utcnow()
            session.add(row)

    def reset(self, connection: str, stream: str | None = None) -> int:
        """Forget cursors (all streams of a connection when `stream` is None): a full resync."""
        with session_scope(self._engine) as session:
            query = select(SyncCursor).where(SyncCursor.connection == connection)
            if stream is not None:
                query = query.where(SyncCursor.stream == stream)
            rows = list(session.exec(query))
            for row in rows:
                session.delete(row)
            return len(rows)
