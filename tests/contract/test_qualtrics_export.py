"""The Qualtrics reader's export runs (adapters/qualtrics/exports.py) against the emulator over
HTTP: a reader killed between polls or between batches resumes the same export from its saved
cursor (no new export started, nothing lost); a failed or forgotten export starts over; polls
back off and are bounded; the next run asks only for newer responses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.qualtrics.client import QualtricsClient
from adapters.qualtrics.exports import TOKEN_ROOM, Exporter, ExportState
from adapters.qualtrics.reader import QualtricsReader
from sandbox.qualtrics.harness import NPS, QualtricsHarness
from service.domain import Batch, Cursor, DomainModel
from service.ports import CrmUnavailableError
from tests.contract.harness import SandboxAdmin, ids_of

PAGE = 100


@pytest.fixture(scope="module")
def harness() -> Iterator[QualtricsHarness]:
    with QualtricsHarness(300, PAGE) as running:
        yield running


@pytest.fixture
def admin(harness: QualtricsHarness) -> Iterator[SandboxAdmin]:
    control = SandboxAdmin(harness.server)
    control.reset()
    control.clear_requests()
    yield control
    control.reset()


def _calls(admin: SandboxAdmin, method: str, fragment: str) -> list[str]:
    return [r["path"] for r in admin.requests() if r["method"] == method and fragment in r["path"]]


def _starts(admin: SandboxAdmin) -> int:
    return len(_calls(admin, "POST", "/export-responses"))


def test_killed_between_polls_the_next_run_polls_the_same_export(
    harness: QualtricsHarness, admin: SandboxAdmin
) -> None:
    stream = harness.customer_stream()
    run = harness.reader().pull(stream, None)
    first = next(run)  # the export is started and its progressId saved before any poll
    run.close()  # the process dies while the export runs
    assert first.records == ()
    state = ExportState.read(first.cursor)
    assert state.phase == "run"
    assert state.progress_id is not None
    assert _starts(admin) == 1
    rest = list(harness.reader().pull(stream, first.cursor))
    assert _starts(admin) == 1, "the saved export is reused, not started again"
    polls = _calls(admin, "GET", f"/export-responses/{state.progress_id}")
    assert len(polls) >= harness.emulator.config.polls_to_complete
    assert set(ids_of(rest)) == set(harness.customer_ids())


def test_killed_between_batches_the_next_run_skips_what_was_stored(
    harness: QualtricsHarness, admin: SandboxAdmin
) -> None:
    stream = harness.customer_stream()
    kept: list[Batch[DomainModel]] = []
    for batch in harness.reader().pull(stream, None):
        kept.append(batch)
        if len(kept) == 3:  # the run batch and two pages stored, then the process dies
            break
    saved = kept[-1].cursor
    state = ExportState.read(saved)
    assert state.phase == "file"
    assert state.delivered == 2 * PAGE
    admin.clear_requests()
    rest = list(harness.reader().pull(stream, saved))
    assert _starts(admin) == 0
    assert len(_calls(admin, "GET", "/file")) == 1
    stored = {r.id for b in kept for r in b.records if r.id.endswith("-nps")}
    again = {r.id for b in rest for r in b.records if r.id.endswith("-nps")}
    assert not stored & again, "responses already stored are not delivered again"
    assert set(ids_of(kept)) | set(ids_of(rest)) == set(harness.customer_ids())
    final = ExportState.read(rest[-1].cursor)
    assert final.phase == "next"
    assert final.token


def test_a_failed_export_starts_over(harness: QualtricsHarness, admin: SandboxAdmin) -> None:
    session = admin._session()
    base = f"{harness.server.base_url}/__sandbox/qualtrics"
    session.post(f"{base}/exports/fail", json={"count": 1}).raise_for_status()
    batches = list(harness.reader().pull(harness.customer_stream(), None))
    assert _starts(admin) == 2
    assert set(ids_of(batches)) == set(harness.customer_ids())


def test_a_forgotten_export_starts_over_from_the_saved_date(
    harness: QualtricsHarness, admin: SandboxAdmin
) -> None:
    stream = harness.customer_stream()
    everything = list(harness.reader().pull(stream, None))
    done = everything[-1].cursor
    run = harness.reader().pull(stream, done)
    saved = next(run).cursor
    run.close()
    session = admin._session()
    base = f"{harness.server.base_url}/__sandbox/qualtrics"
    assert session.post(f"{base}/exports/expire").json()["expired"] >= 1
    admin.clear_requests()
    admin.faults([])
    session.put(f"{harness.server.base_url}/__sandbox/requests/capture", json={"path_glob": "*"})
    rest = list(harness.reader().pull(stream, saved))
    bodies = [r.get("body") for r in admin.requests() if r["method"] == "POST"]
    assert len(bodies) == 1
    assert "startDate" in str(bodies[0]), "the fallback is recordedDate, the token being lost"
    assert ExportState.read(rest[-1].cursor).phase == "next"


def test_the_next_run_asks_only_for_newer_responses(
    harness: QualtricsHarness, admin: SandboxAdmin
) -> None:
    stream = harness.customer_stream()
    done = list(harness.reader().pull(stream, None))[-1].cursor
    assert list(harness.reader().pull(stream, done))[-1].records == ()
    new = harness.create_customers(3, prefix="Later")
    later = list(harness.reader().pull(stream, done))
    assert set(ids_of(later)) == set(new)
    harness.delete_customer(new[0])


def test_polls_back_off_within_bounds_and_give_up_in_time(harness: QualtricsHarness) -> None:
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    client = QualtricsClient("q-test", harness.settings(), harness.policy)
    exporter = Exporter(
        client, first_wait=1, max_wait=4, timeout=60, sleep=sleep, clock=lambda: now[0]
    )
    harness.emulator.config.polls_to_complete = 6
    try:
        progress = exporter.start(NPS, ExportState(""), None)
        exporter.wait(NPS, progress)
        assert waits == [1, 2, 4, 4, 4]
        assert all(w > 0 for w in waits), "never a busy poll"
        short = Exporter(
            client, first_wait=1, max_wait=4, timeout=5, sleep=sleep, clock=lambda: now[0]
        )
        progress = short.start(NPS, ExportState(""), None)
        with pytest.raises(CrmUnavailableError, match="not complete after"):
            short.wait(NPS, progress)
    finally:
        harness.emulator.config.polls_to_complete = 3
    reader = QualtricsReader(client, harness.mappings, timedelta(seconds=60), exporter=short)
    assert reader.streams()


def test_a_token_too_long_for_the_cursor_falls_back_to_the_date() -> None:
    fits = ExportState("next", token="t" * TOKEN_ROOM)
    assert fits.last_id() == "next:" + "t" * TOKEN_ROOM
    assert ExportState("next", token="t" * (TOKEN_ROOM + 1)).last_id() is None
    back = ExportState.read(Cursor(stream=NPS, last_id=fits.last_id()))
    assert back == fits
