"""The task ledger: which next-best-action tasks exist in which CRM, by idempotency key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.domain import ActionTask
from service.store.database import session_scope
from service.store.tables import TaskLedger, utcnow


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
                    TaskLedger.connection == connection, col(TaskLedger.task_key).in_(wanted)
                )
            )
            return set(rows)

    def record(
        self,
        connection: str,
        tasks: Sequence[ActionTask],
        customer_ids: dict[str, str],
        crm_ids: dict[str, str],
    ) -> None:
        """Store created tasks; `customer_ids` maps task key -> our customer id."""
        with session_scope(self._engine) as session:
            for task in tasks:
                key = task.idempotency_key
                session.add(
                    TaskLedger(
                        connection=connection,
                        task_key=key,
                        customer_id=customer_ids[key],
                        playbook=task.playbook,
                        crm_task_id=crm_ids.get(key),
                    )
                )

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
