"""The task ledger: which next-best-action tasks exist in which CRM, by idempotency key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.domain import ActionTask
from service.store.database import session_scope
from service.store.tables import TaskLedger, utcnow

# A task we are about to send: written before the CRM call, so a crash between the CRM's answer
# and our record leaves a trace; the next run sends it again (an upsert by key) to learn its id.
PENDING = "pending"


class TaskLedgerRepository:
    """Remember created tasks so a rerun skips them (the CRM upsert guards retries and crashes)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def known(self, connection: str, keys: Iterable[str]) -> set[str]:
        wanted = list(keys)
        if not wanted:
            return set()
        with Session(self._engine) as session:
            rows = session.exec(
                select(TaskLedger.task_key).where(
                    TaskLedger.connection == connection,
                    col(TaskLedger.task_key).in_(wanted),
                    TaskLedger.state != PENDING,
                )
            )
            return set(rows)

    def _rows(self, session: Session, connection: str, keys: list[str]) -> dict[str, TaskLedger]:
        rows = session.exec(
            select(TaskLedger).where(
                TaskLedger.connection == connection, col(TaskLedger.task_key).in_(keys)
            )
        )
        return {row.task_key: row for row in rows}

    def intend(
        self, connection: str, tasks: Sequence[ActionTask], customer_ids: dict[str, str]
    ) -> None:
        """Note tasks as pending just before they are sent to the CRM."""
        with session_scope(self._engine) as session:
            have = self._rows(session, connection, [t.idempotency_key for t in tasks])
            for task in tasks:
                key = task.idempotency_key
                if key not in have:
                    session.add(
                        TaskLedger(
                            connection=connection,
                            task_key=key,
                            customer_id=customer_ids[key],
                            playbook=task.playbook,
                            state=PENDING,
                        )
                    )

    def pending_customers(self, connection: str) -> set[str]:
        """Customers with a task sent to the CRM by a run that stopped before recording it."""
        with Session(self._engine) as session:
            rows = session.exec(
                select(TaskLedger.customer_id).where(
                    TaskLedger.connection == connection, TaskLedger.state == PENDING
                )
            )
            return set(rows)

    def forget_pending(self, connection: str, keys: Iterable[str]) -> None:
        """Drop the pending notes of tasks the CRM did not create (the next run retries them)."""
        with session_scope(self._engine) as session:
            for row in self._rows(session, connection, list(keys)).values():
                if row.state == PENDING:
                    session.delete(row)

    def record(
        self,
        connection: str,
        tasks: Sequence[ActionTask],
        customer_ids: dict[str, str],
        crm_ids: dict[str, str],
    ) -> None:
        """Store created tasks (a pending note becomes the record); `customer_ids` maps task key
        -> our customer id."""
        with session_scope(self._engine) as session:
            have = self._rows(session, connection, [t.idempotency_key for t in tasks])
            for task in tasks:
                key = task.idempotency_key
                row = have.get(key) or TaskLedger(
                    connection=connection,
                    task_key=key,
                    customer_id=customer_ids[key],
                    playbook=task.playbook,
                )
                if row.state == PENDING:
                    row.state = "open"
                row.crm_task_id = crm_ids.get(key) or row.crm_task_id
                session.add(row)

    def crm_task_ids(self, connection: str) -> set[str]:
        """The CRM ids of the tasks we created (they must not come back as customer activity)."""
        with Session(self._engine) as session:
            rows = session.exec(
                select(TaskLedger.crm_task_id).where(
                    TaskLedger.connection == connection, col(TaskLedger.crm_task_id).is_not(None)
                )
            )
            return {str(r) for r in rows}

    def open_for(self, connection: str, customer_ids: Iterable[str]) -> list[TaskLedger]:
        with Session(self._engine) as session:
            return list(
                session.exec(
                    select(TaskLedger).where(
                        TaskLedger.connection == connection,
                        col(TaskLedger.customer_id).in_(list(customer_ids)),
                        TaskLedger.state == "open",
                    )
                )
            )

    def close(self, connection: str, keys: Iterable[str]) -> None:
        with session_scope(self._engine) as session:
            for row in session.exec(
                select(TaskLedger).where(
                    TaskLedger.connection == connection, col(TaskLedger.task_key).in_(list(keys))
                )
            ):
                row.state = "closed"
                row.closed_at = utcnow()
                session.add(row)
