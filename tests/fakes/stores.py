"""In-memory stores for the use cases' protocols (service/usecases/repositories.py) and the
webhook `EventSink`; `tests/service/test_store_fakes.py` holds each to the real one."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.domain import ActionTask, Cursor
from service.ports import FieldUpdate
from service.scoring.customer import CustomerScore
from service.store.ledger import value_hash
from service.store.tables import ScoreHistory, TaskLedger, new_id
from service.webhooks.events import EventType

PENDING = "pending"


@dataclass(frozen=True)
class Event:
    id: str
    type: EventType
    payload: Mapping[str, Any]


@dataclass
class RecordedEvents:
    """An `EventSink` that keeps what was emitted, in order."""

    events: list[Event] = field(default_factory=list)

    def emit(self, event_type: EventType | str, payload: Mapping[str, Any]) -> str:
        event = Event(new_id(), EventType(event_type), dict(payload))
        self.events.append(event)
        return event.id

    def types(self) -> list[str]:
        return [e.type.value for e in self.events]


class InMemoryCursors:
    """`CursorStore` on a dict."""

    def __init__(self) -> None:
        self._cursors: dict[tuple[str, str], Cursor] = {}

    def load(self, connection: str, stream: str) -> Cursor | None:
        return self._cursors.get((connection, stream))

    def save(self, connection: str, cursor: Cursor) -> None:
        self._cursors[(connection, cursor.stream)] = cursor

    def reset(self, connection: str, stream: str | None = None) -> int:
        gone = [k for k in self._cursors if k[0] == connection and stream in (None, k[1])]
        for key in gone:
            del self._cursors[key]
        return len(gone)


class InMemoryPushLedger:
    """`PushLedger` on a dict of value hashes per (connection, object, external id, field)."""

    def __init__(self) -> None:
        self._hashes: dict[tuple[str, str, str, str], str] = {}

    def changed(self, connection: str, updates: Sequence[FieldUpdate]) -> list[FieldUpdate]:
        result: list[FieldUpdate] = []
        for update in updates:
            fields = {
                name: value
                for name, value in update.fields.items()
                if self._hashes.get(_field(connection, update, name)) != value_hash(value)
            }
            if fields:
                result.append(update.model_copy(update={"fields": fields}))
        return result

    def record(
        self,
        connection: str,
        written: Sequence[FieldUpdate],
        customer_ids: dict[str, str] | None = None,
    ) -> None:
        for update in written:
            for name, value in update.fields.items():
                self._hashes[_field(connection, update, name)] = value_hash(value)


def _field(connection: str, update: FieldUpdate, name: str) -> tuple[str, str, str, str]:
    return connection, update.crm_object, update.external_id, name


class InMemoryTasks:
    """`TaskStore` on a dict of ledger rows per (connection, task key)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], TaskLedger] = {}
        self._ids = itertools.count(1)

    def known(self, connection: str, keys: Iterable[str]) -> set[str]:
        return {
            k for k in keys if (row := self._rows.get((connection, k))) and row.state != PENDING
        }

    def intend(
        self, connection: str, tasks: Sequence[ActionTask], customer_ids: dict[str, str]
    ) -> None:
        for task in tasks:
            key = task.idempotency_key
            if (connection, key) not in self._rows:
                self._rows[(connection, key)] = self._row(
                    connection, task, customer_ids[key], PENDING
                )

    def pending_customers(self, connection: str) -> set[str]:
        return {
            r.customer_id
            for (c, _), r in self._rows.items()
            if c == connection and r.state == PENDING
        }

    def forget_pending(self, connection: str, keys: Iterable[str]) -> None:
        for key in keys:
            row = self._rows.get((connection, key))
            if row is not None and row.state == PENDING:
                del self._rows[(connection, key)]

    def record(
        self,
        connection: str,
        tasks: Sequence[ActionTask],
        customer_ids: dict[str, str],
        crm_ids: dict[str, str],
    ) -> None:
        for task in tasks:
            key = task.idempotency_key
            row = self._rows.get((connection, key)) or self._row(
                connection, task, customer_ids[key], "open"
            )
            if row.state == PENDING:
                row.state = "open"
            row.crm_task_id = crm_ids.get(key) or row.crm_task_id
            self._rows[(connection, key)] = row

    def crm_task_ids(self, connection: str) -> set[str]:
        return {
            r.crm_task_id
            for (c, _), r in self._rows.items()
            if c == connection and r.crm_task_id is not None
        }

    def open_for(self, connection: str, customer_ids: Iterable[str]) -> list[TaskLedger]:
        wanted = set(customer_ids)
        return [
            r.model_copy()
            for (c, _), r in self._rows.items()
            if c == connection and r.customer_id in wanted and r.state == "open"
        ]

    def close(self, connection: str, keys: Iterable[str]) -> None:
        for key in keys:
            row = self._rows.get((connection, key))
            if row is not None:
                row.state = "closed"

    def _row(self, connection: str, task: ActionTask, customer_id: str, state: str) -> TaskLedger:
        return TaskLedger(
            id=next(self._ids),
            connection=connection,
            task_key=task.idempotency_key,
            customer_id=customer_id,
            playbook=task.playbook,
            state=state,
        )


class InMemoryScores:
    """`ScoreStore` on a list of scorings (the latest of a customer: the last recorded)."""

    def __init__(self) -> None:
        self._history: list[ScoreHistory] = []
        self._segments: dict[str, str] = {}

    def record(self, scores: Iterable[CustomerScore]) -> int:
        rows = []
        for score in scores:
            rows.append(_history_row(score))
            self._segments[score.customer_id] = score.loyalty_stage.value
        self._history.extend(rows)
        return len(rows)

    def segments(self) -> dict[str, int]:
        return dict(Counter(self._segments.values()))

    def latest(self, customer_ids: Iterable[str] | None = None) -> dict[str, ScoreHistory]:
        wanted = None if customer_ids is None else set(customer_ids)
        ordered = sorted(self._history, key=lambda r: r.as_of)  # stable: ties keep their order
        return {r.customer_id: r for r in ordered if wanted is None or r.customer_id in wanted}


def _history_row(score: CustomerScore) -> ScoreHistory:
    return ScoreHistory(
        customer_id=score.customer_id,
        as_of=score.as_of,
        experience_score=score.experience.score,
        nps_class=score.nps_class.value if score.nps_class else None,
        churn_risk=score.churn.probability if score.churn else None,
        churn_flag=bool(score.churn and score.churn.flagged),
        contributions={c.factor: round(c.points, 3) for c in score.experience.contributions},
        scoring_version=score.scoring_version,
    )
