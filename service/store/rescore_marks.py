"""Persons to score again in another connection: one CRM's copy of a person's scores goes stale
when their history changes through another CRM.

A person with records in two connections is scored by whichever connection's sync sees a change;
that sync pushes to its own CRM only (it holds that CRM's writer). So a sync that scored persons
because *its* pull changed them marks them for every other connection they have a live record
in; the next sync of each of those connections scores them too (with the rest of what changed)
and clears the marks it took. A sync scoring persons only because they were marked marks no one:
the same unchanged history would otherwise bounce between the two CRMs' syncs for ever. Set-based
(one statement per chunk of persons), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from more_itertools import chunked
from sqlalchemy import Engine, and_, delete, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from service.store.tables import CrmLink, EntityType, RescoreMark, utcnow
from service.store.upserts import table_of

_LINKS = table_of(CrmLink)
_MARKS = table_of(RescoreMark)
_CHUNK = 1000
# Marks cleared per statement: one OR term each, well inside SQLite's expression depth (1,000).
_CLEAR_CHUNK = 200


class RescoreMarks:
    """The marks table: who to score again at a connection's next sync."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def mark_elsewhere(self, connection: str, persons: Iterable[str]) -> None:
        """Mark each person for every other connection they have a live record in."""
        now = utcnow()
        with self._engine.begin() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            for chunk in chunked(sorted(set(persons)), _CHUNK):
                others = select(_LINKS.c.connection, _LINKS.c.entity_id, literal(now)).where(
                    _LINKS.c.entity_type == EntityType.CUSTOMER.value,
                    _LINKS.c.entity_id.in_(chunk),
                    _LINKS.c.connection != connection,
                    _LINKS.c.crm_object != "?",
                    _LINKS.c.deleted_at.is_(None),
                )
                statement = insert(_MARKS).from_select(
                    ["connection", "customer_id", "marked_at"], others
                )
                conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["connection", "customer_id"],
                        set_={"marked_at": statement.excluded.marked_at},
                    )
                )

    def pending(self, connection: str) -> dict[str, datetime]:
        """The persons marked for `connection`, with when (what `clear` takes back)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(_MARKS.c.customer_id, _MARKS.c.marked_at).where(
                    _MARKS.c.connection == connection
                )
            )
            return {str(person): at for person, at in rows.all()}

    def of_persons(self, persons: Iterable[str]) -> dict[str, dict[str, datetime]]:
        """connection -> {person: marked at} for the marks these persons have (a real-time path
        acts on them at once, then clears what it took)."""
        found: dict[str, dict[str, datetime]] = {}
        with self._engine.connect() as conn:
            for chunk in chunked(sorted(set(persons)), _CHUNK):
                rows = conn.execute(
                    select(_MARKS.c.connection, _MARKS.c.customer_id, _MARKS.c.marked_at).where(
                        _MARKS.c.customer_id.in_(chunk)
                    )
                )
                for connection, person, at in rows:
                    found.setdefault(str(connection), {})[str(person)] = at
        return found

    def clear(self, connection: str, taken: dict[str, datetime]) -> None:
        """Remove the marks taken, unless marked again since (a newer change elsewhere)."""
        if not taken:
            return
        with self._engine.begin() as conn:
            for chunk in chunked(sorted(taken.items()), _CLEAR_CHUNK):
                conn.execute(
                    delete(_MARKS).where(
                        _MARKS.c.connection == connection,
                        or_(*(
                            and_(_MARKS.c.customer_id == person, _MARKS.c.marked_at <= at)
                            for person, at in chunk
                        )),
                    )
                )  # fmt: skip
