"""The Zendesk reader on its emulator, beyond the shared pull contract: what each stream makes
of tickets, comments, internal notes and ratings, and how a pull rides out rate limits and
failures (the one retry layer, Retry-After honoured)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from adapters.pacing import Pacer, Window
from adapters.zendesk.client import INCREMENTAL
from sandbox.zendesk.harness import ZendeskHarness
from service.domain import Case, Interaction, SurveyResponse
from service.domain.events import CaseStatus, Channel, Direction
from tests.contract.harness import SandboxAdmin, ids_of

CUSTOMERS = 60


@pytest.fixture(scope="module")
def zendesk() -> Iterator[ZendeskHarness]:
    with ZendeskHarness(CUSTOMERS, 25) as running:
        yield running


@pytest.fixture
def admin(zendesk: ZendeskHarness) -> Iterator[SandboxAdmin]:
    control = SandboxAdmin(zendesk.server)
    control.reset()
    control.clear_requests()
    yield control
    control.reset()


def _records(zendesk: ZendeskHarness, name: str) -> list[object]:
    reader = zendesk.reader()
    stream = next(s for s in reader.streams() if s.name == name)
    return [r for b in reader.pull(stream, None) for r in b.records]


def test_comments_are_inbound_from_the_requester_and_internal_notes_stay_notes(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    store = zendesk.emulator.store
    interactions = _records(zendesk, "ticket_comments")
    assert all(isinstance(i, Interaction) for i in interactions)
    by_id = {i.id: i for i in interactions if isinstance(i, Interaction)}
    for ticket_id, comments in store.comments.items():
        ticket = store.tickets.rows[ticket_id]
        for comment in comments:
            read = by_id[str(comment["id"])]
            assert read.customer_id == str(ticket["requester_id"])
            if not comment["public"]:
                assert (read.channel, read.direction) == (Channel.NOTE, Direction.INTERNAL)
            elif comment["author_id"] == ticket["requester_id"]:
                assert read.direction is Direction.INBOUND
            else:
                assert read.direction is Direction.OUTBOUND
    assert any(i.direction is Direction.INTERNAL for i in by_id.values())


def test_cases_take_their_times_from_the_metric_sets(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    store = zendesk.emulator.store
    metrics = {m["ticket_id"]: m for m in store.metrics.rows.values()}
    cases = [c for c in _records(zendesk, "tickets") if isinstance(c, Case)]
    assert len(cases) == len(store.tickets.rows)
    for case in cases:
        metric = metrics[int(case.id)]
        reply = metric["reply_time_in_minutes"]["calendar"]
        if reply is not None:
            assert case.first_response_at is not None
            assert (case.first_response_at - case.opened_at).total_seconds() == reply * 60
        if metric["solved_at"] is not None:
            assert case.closed_at is not None
            assert case.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ") == metric["solved_at"]
        status = store.tickets.rows[int(case.id)]["status"]
        read_as = {"hold": "pending", "solved": "resolved"}.get(status, status)
        assert case.status is CaseStatus(read_as)
        # The effort the times do not show comes along.
        assert case.reopens == metric["reopens"]
        wait = metric["requester_wait_time_in_minutes"]["calendar"]
        assert case.requester_wait_hours == (None if wait is None else wait / 60)
    assert any(c.reopens for c in cases)


def test_ratings_are_csat_answers_good_five_bad_one_with_their_comment(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    store = zendesk.emulator.store
    answers = [
        a for a in _records(zendesk, "satisfaction_ratings") if isinstance(a, SurveyResponse)
    ]
    assert len(answers) == len(store.ratings.rows)
    for answer in answers:
        rating = store.ratings.rows[int(answer.id)]
        assert answer.value == (5 if rating["score"] == "good" else 1)
        assert answer.comment == (rating["comment"] or None)
        assert answer.customer_id == str(rating["requester_id"])
    assert {a.value for a in answers} == {1, 5}


def test_a_pull_rides_out_429s_with_retry_after_and_failures(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    expected = set(zendesk.customer_ids())
    admin.clear_requests()
    admin.faults(
        [
            {
                "route": "GET /api/v2/incremental/*",
                "rate_limited": 0.5,
                "error_5xx": 0.2,
                "retry_after_seconds": 0,
                "times": 6,
            }
        ]
    )
    batches = list(zendesk.reader().pull(zendesk.customer_stream(), None))
    assert set(ids_of(batches)) == expected
    statuses = [r["status"] for r in admin.requests() if "/incremental/" in r["path"]]
    assert 429 in statuses
    assert statuses[-1] == 200


def test_incremental_calls_are_paced_apart_within_their_share(zendesk: ZendeskHarness) -> None:
    reader = zendesk.reader(incremental_per_minute=10, rate_share=0.5)
    assert reader.client.pacer.window(INCREMENTAL) == Window(5, 60)
    unpaced = zendesk.reader(incremental_per_minute=None)
    assert unpaced.client.pacer.window(INCREMENTAL) is None


def test_a_third_export_call_in_a_minute_waits_for_a_window_of_two(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    reader = zendesk.reader()
    sent_before_each_wait: list[int] = []

    def wait(seconds: float) -> None:
        exports = [r for r in admin.requests() if "/incremental/" in r["path"]]
        sent_before_each_wait.append(len(exports))

    # A window of two a minute; the waits are recorded, not slept (the pacer then gives up
    # after half a second of them and sends, which lets the pull end).
    reader.client.pacer = Pacer(
        "Zendesk",
        f"pace-{uuid.uuid4()}",
        {INCREMENTAL: Window(2, 60)},
        sleep=wait,
        max_wait_seconds=0.5,
    )
    batches = list(reader.pull(zendesk.customer_stream(), None))
    assert len(batches) >= 3  # three export calls at least
    assert sent_before_each_wait, "the third call did not wait"
    # Nothing waited before two calls had gone: the window, not every call, is paced.
    assert min(sent_before_each_wait) == 2


def test_get_rereads_by_id_and_comment_reads_go_by_ticket(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    reader = zendesk.reader()
    streams = {s.name: s for s in reader.streams()}
    store = zendesk.emulator.store
    ticket = next(iter(store.tickets.rows))
    cases = reader.get(streams["tickets"], [str(ticket), "999"])
    assert [c.id for c in cases] == [str(ticket)]
    comments = reader.get(streams["ticket_comments"], [str(ticket)])
    assert {c.id for c in comments} == {str(c["id"]) for c in store.comments[ticket]}
    rating = next(iter(store.ratings.rows))
    assert [a.id for a in reader.get(streams["satisfaction_ratings"], [str(rating)])] == [
        str(rating)
    ]


def test_the_excluded_last_minute_comes_on_the_next_pull(
    zendesk: ZendeskHarness, admin: SandboxAdmin
) -> None:
    exports = {"exports": {"exclude_last_seconds": 60, "too_recent_seconds": 60}}
    settings = admin._session().put(admin._url("zendesk/settings"), json=exports)
    assert settings.status_code == 200
    try:
        stream = zendesk.customer_stream()
        cursor = list(zendesk.reader().pull(stream, None))[-1].cursor
        (fresh,) = zendesk.create_customers(1, prefix="JustNow")
        assert fresh not in ids_of(list(zendesk.reader().pull(stream, cursor)))
        admin.advance_clock(61)
        assert fresh in ids_of(list(zendesk.reader().pull(stream, cursor)))
    finally:
        off = {"exports": {"exclude_last_seconds": 0, "too_recent_seconds": 0}}
        admin._session().put(admin._url("zendesk/settings"), json=off)
