"""The in-memory job store behaves as the database one: each check runs on both, so the tests
that run the runner on the fake (test_jobs.py) learn nothing the real store would not do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from service.jobs.store import JobStore
from service.store.jobs import JobConflictError, JobRepository
from service.store.paging import Sort
from service.store.tables import JobState
from tests.fakes.jobs import InMemoryJobStore

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def the_lock_is_per_kind_and_connection_while_active(jobs: JobStore) -> None:
    first = jobs.submit("sync", connection="acme", now=T0)
    with pytest.raises(JobConflictError) as conflict:
        jobs.submit("sync", connection="acme", now=T0)
    assert conflict.value.existing is not None
    assert conflict.value.existing.id == first.id
    jobs.submit("sync", connection="globex", now=T0)
    jobs.submit("free", connection="acme", exclusive=False, now=T0)
    jobs.submit("free", connection="acme", exclusive=False, now=T0)
    active = jobs.active("sync", "acme")
    assert active is not None
    assert active.id == first.id
    (claimed,) = jobs.claim("w", T0, 1, kinds={"sync"})
    jobs.finish(claimed.id, "w", JobState.SUCCEEDED, T0, progress={}, checkpoint={})
    assert jobs.active("sync", "acme") is None
    jobs.submit("sync", connection="acme", now=T0 + MINUTE)  # the lock is free again


def claims_take_due_jobs_oldest_first_and_once(jobs: JobStore) -> None:
    later = jobs.submit("sync", connection="b", now=T0 + MINUTE)
    sooner = jobs.submit("sync", connection="a", now=T0)
    jobs.submit("sync", connection="c", now=T0, run_after=T0 + 10 * MINUTE)
    jobs.submit("rescore", now=T0)
    claimed = jobs.claim("w1", T0 + 2 * MINUTE, 5, kinds={"sync"})
    assert [j.id for j in claimed] == [sooner.id, later.id]
    assert all(j.state == JobState.RUNNING.value and j.worker == "w1" for j in claimed)
    assert claimed[0].attempts == 1
    assert claimed[0].started_at == T0 + 2 * MINUTE
    assert jobs.claim_one(sooner.id, "w2", T0 + 2 * MINUTE) is None
    assert jobs.claim("w2", T0 + 2 * MINUTE, 5, kinds={"sync"}) == []
    assert len(jobs.claim("w2", T0 + 10 * MINUTE, 5, kinds={"sync"})) == 1


def only_the_holder_beats_and_finishes(jobs: JobStore) -> None:
    job = jobs.submit("sync", connection="acme", now=T0)
    assert jobs.claim_one(job.id, "w1", T0) is not None
    assert not jobs.beat(job.id, "w2", T0, progress={"pulled": 1}).owned
    beat = jobs.beat(job.id, "w1", T0 + MINUTE, progress={"pulled": 2}, checkpoint={"p": 1})
    assert beat.owned
    assert not beat.cancel_requested
    assert not jobs.finish(job.id, "w2", JobState.FAILED, T0, progress={}, checkpoint={})
    assert jobs.finish(
        job.id, "w1", JobState.PAUSED, T0, progress={"pulled": 3}, checkpoint={"p": 2},
        error="paused: quota", run_after=T0 + 60 * MINUTE,
    )  # fmt: skip
    paused = jobs.get(job.id)
    assert paused is not None
    assert (paused.state, paused.worker, paused.progress, paused.checkpoint, paused.error) == (
        JobState.PAUSED.value, None, {"pulled": 3}, {"p": 2}, "paused: quota",
    )  # fmt: skip
    assert paused.finished_at is None
    assert jobs.resume_paused(T0 + 59 * MINUTE) == 0
    assert jobs.resume_paused(T0 + 60 * MINUTE) == 1
    assert jobs.get(job.id).state == JobState.QUEUED.value  # type: ignore[union-attr]


def cancel_stops_a_waiting_job_and_asks_a_running_one(jobs: JobStore) -> None:
    waiting = jobs.submit("sync", connection="a", now=T0)
    running = jobs.submit("sync", connection="b", now=T0)
    jobs.claim_one(running.id, "w", T0)
    cancelled = jobs.cancel(waiting.id, T0 + MINUTE)
    assert cancelled is not None
    assert cancelled.state == JobState.CANCELLED.value
    assert cancelled.finished_at == T0 + MINUTE
    asked = jobs.cancel(running.id, T0)
    assert asked is not None
    assert (asked.state, asked.cancel_requested) == (JobState.RUNNING.value, True)
    assert jobs.beat(running.id, "w", T0).cancel_requested
    jobs.finish(running.id, "w", JobState.SUCCEEDED, T0, progress={}, checkpoint={})
    assert jobs.cancel(running.id, T0).state == JobState.SUCCEEDED.value  # type: ignore[union-attr]
    assert jobs.cancel("0" * 32, T0) is None


def resume_queues_a_cancelled_job_unless_another_holds_the_lock(jobs: JobStore) -> None:
    job = jobs.submit("sync", connection="acme", now=T0)
    jobs.cancel(job.id, T0)
    resumed = jobs.resume(job.id)
    assert resumed is not None
    assert (resumed.state, resumed.cancel_requested, resumed.error) == (
        JobState.QUEUED.value, False, None,
    )  # fmt: skip
    jobs.cancel(job.id, T0)
    other = jobs.submit("sync", connection="acme", now=T0 + MINUTE)
    with pytest.raises(JobConflictError) as conflict:
        jobs.resume(job.id)
    assert conflict.value.existing is not None
    assert conflict.value.existing.id == other.id


def stale_runs_are_requeued_or_given_up(jobs: JobStore) -> None:
    once = jobs.submit("sync", connection="a", now=T0)
    twice = jobs.submit("sync", connection="b", now=T0)
    kept = jobs.submit("sync", connection="c", now=T0)
    fresh = jobs.submit("sync", connection="d", now=T0)
    for job in (once, twice, kept):
        jobs.claim_one(job.id, "dead", T0)
    jobs.finish(twice.id, "dead", JobState.QUEUED, T0, progress={}, checkpoint={})
    jobs.claim_one(twice.id, "dead", T0)
    jobs.claim_one(fresh.id, "alive", T0 + 5 * MINUTE)
    assert jobs.recover_stale(T0 + 5 * MINUTE, 2 * MINUTE, 2, keep={kept.id}) == 2
    states = [jobs.get(j.id).state for j in (once, twice, kept, fresh)]  # type: ignore[union-attr]
    assert states == [
        JobState.QUEUED.value,  # stale, one attempt of two used: queued again
        JobState.FAILED.value,  # stale with its attempts used up
        JobState.RUNNING.value,  # the caller runs it itself
        JobState.RUNNING.value,  # beating recently
    ]


def undispatched_lists_queued_jobs_without_a_recent_message(jobs: JobStore) -> None:
    sent = jobs.submit("sync", connection="a", now=T0)
    unsent = jobs.submit("sync", connection="b", now=T0 + MINUTE)
    jobs.dispatched(sent.id, T0 + MINUTE)
    assert jobs.undispatched(T0 + 2 * MINUTE, 5 * MINUTE) == [unsent.id]
    assert jobs.undispatched(T0 + 7 * MINUTE, 5 * MINUTE) == [sent.id, unsent.id]


def pages_filter_sort_and_follow_cursors(jobs: JobStore) -> None:
    ids = [jobs.submit("sync", connection=f"c{i}", now=T0 + i * MINUTE).id for i in range(5)]
    jobs.submit("rescore", now=T0)
    first = jobs.page(kind="sync", limit=2)
    assert [j.id for j in first.items] == ids[::-1][:2]
    assert first.next_cursor is not None
    second = jobs.page(kind="sync", limit=2, cursor=first.next_cursor)
    assert [j.id for j in second.items] == ids[::-1][2:4]
    oldest = jobs.page(kind="sync", sort=Sort.parse("created_at"), limit=10)
    assert [j.id for j in oldest.items] == ids
    assert oldest.next_cursor is None
    assert [j.connection for j in jobs.page(connection="c3").items] == ["c3"]
    latest = jobs.latest("sync", "c4")
    assert latest is not None
    assert latest.id == ids[4]


CHECKS: list[Callable[[JobStore], None]] = [
    the_lock_is_per_kind_and_connection_while_active,
    claims_take_due_jobs_oldest_first_and_once,
    only_the_holder_beats_and_finishes,
    cancel_stops_a_waiting_job_and_asks_a_running_one,
    resume_queues_a_cancelled_job_unless_another_holds_the_lock,
    stale_runs_are_requeued_or_given_up,
    undispatched_lists_queued_jobs_without_a_recent_message,
    pages_filter_sort_and_follow_cursors,
]


def _name(check: Callable[[JobStore], None]) -> str:
    return check.__name__


@pytest.mark.parametrize("check", CHECKS, ids=_name)
def test_the_in_memory_store(check: Callable[[JobStore], None]) -> None:
    check(InMemoryJobStore())


@pytest.mark.parametrize("check", CHECKS, ids=_name)
def test_the_database_store(check: Callable[[JobStore], None], engine: Engine) -> None:
    check(JobRepository(engine))


def test_both_satisfy_the_protocol(engine: Engine) -> None:
    assert isinstance(InMemoryJobStore(), JobStore)
    assert isinstance(JobRepository(engine), JobStore)
    _typed: JobStore = InMemoryJobStore()  # and to mypy, where it checks the tests
