"""The in-memory stores (tests/fakes/stores.py) behave as the database ones where the use cases
can tell: each check runs on both, on SQLite and PostgreSQL. A fake that drifted from its
store would make the tests that use it prove nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from service.domain import ActionTask, Cursor
from service.ports import FieldUpdate
from service.store.cursors import CursorRepository
from service.store.ledger import PushLedgerRepository
from service.store.scores import ScoreHistoryRepository
from service.store.tasks import TaskLedgerRepository
from service.usecases.announce import announce_scores
from service.usecases.repositories import (
    CursorStore,
    EventSink,
    PushLedger,
    ScoreStore,
    TaskStore,
)
from tests.fakes.stores import (
    InMemoryCursors,
    InMemoryPushLedger,
    InMemoryScores,
    InMemoryTasks,
    RecordedEvents,
)
from tests.unit.usecases.test_announce import unhappy

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def task(customer: str, reason: str) -> ActionTask:
    return ActionTask(
        customer_id=customer,
        playbook="detractor_call",
        reason=reason,
        subject="Call back",
        body="",
        due_at=T0 + timedelta(days=2),
        as_of=T0,
        scoring_version="test",
    )


def cursors_are_per_connection_and_stream(cursors: CursorStore) -> None:
    assert cursors.load("acme", "contacts") is None
    first = Cursor(stream="contacts", modified_at=T0, last_id="7")
    cursors.save("acme", first)
    cursors.save("acme", Cursor(stream="deals", modified_at=T0))
    cursors.save("globex", Cursor(stream="contacts", last_id="1"))
    assert cursors.load("acme", "contacts") == first
    moved = Cursor(stream="contacts", modified_at=T0 + timedelta(hours=1), last_id="9")
    cursors.save("acme", moved)
    assert cursors.load("acme", "contacts") == moved
    assert cursors.reset("acme", "deals") == 1
    assert cursors.load("acme", "deals") is None
    assert cursors.reset("acme") == 1
    assert cursors.load("globex", "contacts") is not None


def the_ledger_drops_what_was_confirmed(ledger: PushLedger) -> None:
    def update(score: Any, flag: Any = False) -> FieldUpdate:
        return FieldUpdate(
            crm_object="Contact", external_id="cem-c1", fields={"Score": score, "Flag": flag}
        )

    assert ledger.changed("acme", [update(71.5)]) == [update(71.5)]
    ledger.record("acme", [update(71.5)], {"cem-c1": "c1"})
    assert ledger.changed("acme", [update(71.5)]) == []
    assert ledger.changed("globex", [update(71.5)]) == [update(71.5)]  # per connection
    (moved,) = ledger.changed("acme", [update(60.0)])
    assert moved.fields == {"Score": 60.0}  # only the changed field
    assert ledger.changed("acme", [update("71.5")]) != []  # typed: "71.5" is not 71.5


def tasks_are_known_once_the_crm_confirms_them(tasks: TaskStore) -> None:
    call, mail = task("101", "nps=2"), task("102", "nps=1")
    owners = {call.idempotency_key: "c1", mail.idempotency_key: "c2"}
    keys = list(owners)
    tasks.intend("acme", [call, mail], owners)
    assert tasks.known("acme", keys) == set()  # pending notes are not known yet
    assert tasks.pending_customers("acme") == {"c1", "c2"}
    tasks.record("acme", [call], owners, {call.idempotency_key: "T-1"})
    tasks.forget_pending("acme", [mail.idempotency_key, call.idempotency_key])
    assert tasks.known("acme", keys) == {call.idempotency_key}
    assert tasks.pending_customers("acme") == set()
    assert tasks.crm_task_ids("acme") == {"T-1"}
    assert tasks.known("globex", keys) == set()
    (open_row,) = tasks.open_for("acme", ["c1", "c2"])
    assert (open_row.task_key, open_row.customer_id, open_row.crm_task_id) == (
        call.idempotency_key, "c1", "T-1",
    )  # fmt: skip
    tasks.close("acme", [call.idempotency_key])
    assert tasks.open_for("acme", ["c1"]) == []
    assert tasks.known("acme", keys) == {call.idempotency_key}  # closed is still ours


def scores_keep_history_and_the_latest(scores: ScoreStore) -> None:
    now = unhappy()
    later = now.model_copy(update={"as_of": now.as_of + timedelta(days=1)})
    assert scores.record([now]) == 1
    assert scores.record(iter([later])) == 1
    latest = scores.latest()
    assert list(latest) == [now.customer_id]
    assert latest[now.customer_id].as_of == later.as_of
    assert latest[now.customer_id].experience_score == now.experience.score
    assert scores.latest(["nobody"]) == {}


CHECKS: dict[str, tuple[Callable[[Any], None], Callable[[], Any], Callable[[Engine], Any]]] = {
    "cursors": (cursors_are_per_connection_and_stream, InMemoryCursors, CursorRepository),
    "ledger": (the_ledger_drops_what_was_confirmed, InMemoryPushLedger, PushLedgerRepository),
    "tasks": (tasks_are_known_once_the_crm_confirms_them, InMemoryTasks, TaskLedgerRepository),
    "scores": (scores_keep_history_and_the_latest, InMemoryScores, ScoreHistoryRepository),
}


@pytest.mark.parametrize("store", list(CHECKS))
def test_the_in_memory_store(store: str) -> None:
    check, fake, _ = CHECKS[store]
    check(fake())


@pytest.mark.parametrize("store", list(CHECKS))
def test_the_database_store(store: str, engine: Engine) -> None:
    check, _, real = CHECKS[store]
    check(real(engine))


def test_each_fake_satisfies_its_protocol() -> None:
    assert isinstance(InMemoryCursors(), CursorStore)
    assert isinstance(InMemoryPushLedger(), PushLedger)
    assert isinstance(InMemoryTasks(), TaskStore)
    assert isinstance(InMemoryScores(), ScoreStore)
    # EventSink is not runtime-checkable; mypy checks this assignment.
    sink: EventSink = RecordedEvents()
    assert sink.emit("flag.raised", {}) != ""


def test_scorings_kept_in_memory_announce_a_raised_flag_once() -> None:
    """The announcing use case on the fakes: a raised flag is news once, not at every scoring."""
    scores, events = InMemoryScores(), RecordedEvents()
    now = unhappy()
    assert now.churn is not None
    flagged = now.model_copy(update={"churn": now.churn.model_copy(update={"flagged": True})})
    for _ in range(2):
        announce_scores(events, "acme", scores.latest([now.customer_id]), [flagged])
        scores.record([flagged])
    assert events.types() == ["flag.raised"]
    assert events.events[0].payload["customer_id"] == now.customer_id
