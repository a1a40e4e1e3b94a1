"""Pull contract: paging, cursors, ties at page boundaries, deletes, crash and resume."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from sandbox.core.harness import PAGED, PullShape
from service.domain import Cursor
from tests.contract.harness import Harness, SandboxAdmin, ids_of

LOOKBACK = 60  # the harness's lookback_seconds
EVERY_KIND = frozenset(
    {"owner", "account", "customer", "transaction", "interaction", "case", "survey"}
)


def _shape(harness: Harness) -> PullShape:
    """What the harness says its stream is (sandbox.core.harness.PullShape); a CRM's by default."""
    shape: PullShape = getattr(harness, "shape", PAGED)
    return shape


def test_full_pull_pages_through_everything(harness: Harness, admin: SandboxAdmin) -> None:
    expected = set(harness.customer_ids())
    admin.clear_requests()
    batches = list(harness.reader().pull(harness.customer_stream(), None))
    pulled = ids_of(batches)
    assert set(pulled) == expected
    assert len(pulled) == len(set(pulled))
    data_calls = [r for r in admin.requests() if harness.data_path in r["path"]]
    if _shape(harness).pages:
        assert len(batches) == math.ceil(len(expected) / harness.page_size)
        # One call per page plus the login.
        assert len(data_calls) == len(batches)
    else:  # an export: one file for the whole pull, however many batches it makes
        assert len(data_calls) == 1
    # Cursors only move forward, batch after batch.
    stamps = [(b.cursor.modified_at, b.cursor.last_id) for b in batches]
    assert stamps == sorted(stamps)


def test_incremental_pull_sees_only_changes_and_deletes(
    harness: Harness, admin: SandboxAdmin
) -> None:
    stream = harness.customer_stream()
    batches = list(harness.reader().pull(stream, None))
    cursor = batches[-1].cursor
    admin.advance_clock(3600)  # an hour later, beyond the look-back window
    new_ids = harness.create_customers(3, prefix="Incremental")
    gone = ids_of(batches)[0]
    harness.delete_customer(gone)
    reader = harness.reader()
    later = list(reader.pull(stream, cursor))
    assert set(new_ids) <= set(ids_of(later))
    # Besides the changes, only the look-back window before the cursor is read again.
    assert cursor.modified_at is not None
    window = harness.ids_modified_since(cursor.modified_at - timedelta(seconds=LOOKBACK))
    assert set(ids_of(later)) <= window | set(new_ids)
    if _shape(harness).deletes:
        assert gone in {d for b in later for d in b.deleted_ids}


def test_records_sharing_a_stamp_across_a_page_boundary_are_all_pulled(
    harness: Harness, admin: SandboxAdmin
) -> None:
    stream = harness.customer_stream()
    cursor = list(harness.reader().pull(stream, None))[-1].cursor
    admin.advance_clock(3600)
    # Freeze the clock: 150 records share one modification stamp, more than a page holds.
    admin._session().post(admin._url("clock"), json={"set": cursor_time_plus(cursor, 7200)})
    tied = harness.create_customers(harness.page_size + 50, prefix="Tied")
    first = list(harness.reader().pull(stream, cursor))
    assert set(tied) <= set(ids_of(first))
    # Resume from the cursor saved after the first page only: nothing is lost.
    resumed = list(harness.reader().pull(stream, first[0].cursor))
    assert set(tied) <= set(ids_of(first[:1])) | set(ids_of(resumed))


def test_crash_mid_pull_resumes_without_loss(harness: Harness, admin: SandboxAdmin) -> None:
    stream = harness.customer_stream()
    everyone = set(harness.customer_ids())
    seen: list[str] = []
    saved: Cursor | None = None
    for i, batch in enumerate(harness.reader().pull(stream, None)):
        seen.extend(r.id for r in batch.records)
        saved = batch.cursor  # the use case saves the cursor after storing the batch
        if i == 1:
            break  # the process dies here
    assert saved is not None
    rest = list(harness.reader().pull(stream, saved))
    assert set(seen) | set(ids_of(rest)) == everyone


def cursor_time_plus(cursor: Cursor, seconds: int) -> str:
    assert cursor.modified_at is not None
    return (cursor.modified_at + timedelta(seconds=seconds)).isoformat()


def test_every_stream_pulls_the_sandbox_history(harness: Harness, admin: SandboxAdmin) -> None:
    """Each mapped object reads into canonical records, with nearly nothing refused."""
    reader = harness.reader()
    counts: dict[str, tuple[int, int]] = {}
    for stream in reader.streams():
        batches = list(reader.pull(stream, None))
        pulled = sum(len(b.records) for b in batches)
        refused = sum(len(b.rejected) for b in batches)
        counts[stream.name] = (pulled, refused)
    assert counts, "the connector maps no stream"
    for name, (pulled, refused) in counts.items():
        assert pulled > 0, f"{name}: nothing pulled ({counts})"
        assert refused <= pulled * 0.02, (
            f"{name}: {refused} refused of {pulled + refused} ({counts})"
        )


@pytest.mark.needs("push_fields")
def test_a_crm_maps_every_canonical_kind(harness: Harness) -> None:
    """A CRM (a connector we push scores to) feeds every canonical kind; a read-only source
    (a chat channel, a survey tool) maps only what it holds. A helpdesk we push to holds no
    transactions: its harness names the kinds it holds as `canonical_kinds`."""
    kinds = {s.canonical.value for s in harness.reader().streams()}
    assert getattr(harness, "canonical_kinds", EVERY_KIND) <= kinds
