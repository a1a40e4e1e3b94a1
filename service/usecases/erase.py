"""Erasing one customer: the fields we wrote cleared, our tasks closed, our rows deleted.

Order, so that no failure leaves half-erased state without a record of what remains:
1. the customer's CRM records go on the suppression list (the next pull skips them, so a sync
   running meanwhile cannot bring the customer back);
2. in every CRM the customer is linked on: every field we own and our external id are emptied
   on the customer's records, and our open tasks are closed (closed, not deleted: they are the
   staff's history too). Each write leaves an audit entry without CRM ids or values;
3. only when every CRM write succeeded are the rows deleted, in one transaction, with one
   `erase` audit entry (an opaque hash of the id, counts, the time).
A CRM failure stops the run before step 3: the rows are the record of what remains, and running
the erasure again (it is idempotent: clearing an empty field changes nothing, closed tasks are
skipped) completes it. Once erased, the id is unknown: a second erasure finds nothing to do.

A person is one customer across every CRM (the identity graph: docs/identity.md): the footprint
is every record linked to them, in every connection, so one erasure clears each CRM that holds
one of their records. Records the graph did not link (a role address, a value shared within a
connection, a manual unlink) are other customers and are not erased with this one: matching by
e-mail or phone at erasure time, as before the graph, would erase whoever shares an info@
address or a family landline. `ErasureReport.matched` stays empty (kept for its readers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from service.ports import CrmError, CrmRejectedError, CrmWriter, WriteReport
from service.store.erasure import (
    CLEAR_FIELDS,
    CLOSE_TASK,
    ErasureStore,
    Footprint,
    subject_hash,
)
from service.store.tables import AuditEntry
from service.usecases.repositories import TaskStore

Progress = Callable[[str, int], None]  # (counter name, increment)


def _ignore(_name: str, _count: int) -> None:
    return None


class ErasureIncompleteError(CrmError):
    """Some CRM writes were refused; the customer's rows are kept until a rerun succeeds."""


@dataclass
class ErasureReport:
    found: bool = True  # False: unknown id, or already erased
    records_cleared: int = 0
    tasks_closed: int = 0
    rows_deleted: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # one line each, no CRM ids
    # The same person's other customers erased too: {"reasons": [...], "connections": [...],
    # "records": n}, one per customer (why it matched, where; nothing that names them).
    matched: list[dict[str, object]] = field(default_factory=list)


@dataclass
class StepLog:
    """Steps already done (names of connections and CRM objects only: no personal data);
    `saved` is called after each new one, so a job can keep them in its checkpoint."""

    done: set[str] = field(default_factory=set)
    saved: Callable[[set[str]], None] | None = None

    def record(self, step: str) -> None:
        self.done.add(step)
        if self.saved is not None:
            self.saved(self.done)


@dataclass
class ErasureStores:
    erasure: ErasureStore
    tasks: TaskStore


def erase_customer(
    customer_id: str,
    writers: Callable[[str], CrmWriter | None],
    stores: ErasureStores,
    *,
    job_id: str | None = None,
    progress: Progress = _ignore,
    settle: Callable[[Footprint], None] | None = None,
    steps: StepLog | None = None,
) -> ErasureReport:
    """Erase one customer everywhere we wrote or stored something about them.

    `writers(connection)` is None for a connection whose connector declares no erasure (it
    never took our writes); its records are still suppressed and our rows of them deleted.

    `settle` runs once the suppression is in place and before any CRM write: the job uses it to
    wait for work that started earlier and may still score and push the customer (a running
    sync of one of their connections), so nothing is written back after the fields are cleared.
    `steps` remembers the clearing steps done (a resumed job skips them, and counts them once).
    """
    steps = steps if steps is not None else StepLog()
    footprint = stores.erasure.footprint(customer_id)
    if footprint is None:
        return ErasureReport(found=False)
    report = ErasureReport()
    # One subject: the person, with every record the identity graph links to them.
    subjects: list[tuple[Footprint, str]] = []
    subjects.append((footprint, ""))
    for each, _ in subjects:
        stores.erasure.suppress(each.records, job_id)
    if settle is not None:
        settle(_combined(footprint, [each for each, _ in subjects]))
    for each, reason in subjects:
        subject = subject_hash(each.customer_id)
        # Step names of a matched customer carry (a prefix of) its hash: each customer's steps
        # are its own, and none names anyone.
        prefix = f"{subject[:16]}:" if reason else ""
        for connection in each.connections:
            writer = writers(connection)
            if writer is None:
                continue  # its connector takes none of our writes: nothing there to clear
            _clear(connection, writer, each, stores, subject, job_id, report, progress, steps,
                   prefix)  # fmt: skip
            _close(connection, writer, each, stores, subject, job_id, report, progress)
    if report.refused:
        raise ErasureIncompleteError(
            f"{len(report.refused)} CRM write(s) refused ({'; '.join(report.refused[:3])}); "
            "the customer's data is kept until they succeed: erase again to retry"
        )
    counts = {"records_cleared": report.records_cleared, "tasks_closed": report.tasks_closed,
              "customers_matched": len(report.matched)}  # fmt: skip
    for each, reason in subjects:
        extra = {f"matched_by_{r}": 1 for r in reason.split("+") if r}
        deleted = stores.erasure.delete(each.customer_id, job_id, {**counts, **extra})
        for table, rows in deleted.items():
            report.rows_deleted[table] = report.rows_deleted.get(table, 0) + rows
    progress("rows_deleted", sum(report.rows_deleted.values()))
    return report


def _combined(main: Footprint, all_of: Sequence[Footprint]) -> Footprint:
    """One footprint over several customers (what `settle` waits on)."""
    tasks: dict[str, tuple[str, ...]] = {}
    for each in all_of:
        for connection, keys in each.open_tasks.items():
            tasks[connection] = tasks.get(connection, ()) + tuple(keys)
    records = tuple(r for each in all_of for r in each.records)
    return Footprint(main.customer_id, records, tasks)


def _settled(result: WriteReport) -> tuple[set[str], list[CrmRejectedError]]:
    """Keys done (written, or their record is gone) and the refusals that still matter."""
    done = set(result.written)
    left: list[CrmRejectedError] = []
    for refusal in result.rejected:
        # The record is gone: nothing of ours is left on it to clear or close.
        if refusal.gone:
            done.add(refusal.record_id)
        else:
            left.append(refusal)
    return done, left


def _audited(
    connection: str,
    operation: str,
    crm_object: str,
    keys: Sequence[str],
    outcome: Callable[[str], str],
    *,
    subject: str,
    job_id: str | None,
) -> list[AuditEntry]:
    # The CRM id is not kept: it would name the erased customer in our database.
    return [
        AuditEntry(
            connection=connection,
            operation=operation,
            crm_object=crm_object,
            outcome=outcome(key),
            job_id=job_id,
            detail=f"erasure of subject {subject[:16]}",
        )
        for key in keys
    ]


def _write(
    call: Callable[[], WriteReport],
    audit: Callable[[Callable[[str], str]], list[AuditEntry]],
    stores: ErasureStores,
) -> tuple[set[str], list[CrmRejectedError]]:
    """Make one CRM write and audit it, also when it fails outright."""
    try:
        result = call()
    except CrmError:
        stores.erasure.audit(audit(lambda _key: "failed"))
        raise
    done, left = _settled(result)
    refused = {r.record_id for r in left}
    stores.erasure.audit(audit(lambda key: "rejected" if key in refused else "ok"))
    return done, left


def _clear(
    connection: str,
    writer: CrmWriter,
    footprint: Footprint,
    stores: ErasureStores,
    subject: str,
    job_id: str | None,
    report: ErasureReport,
    progress: Progress,
    steps: StepLog,
    prefix: str = "",
) -> None:
    for crm_object, ids in footprint.clearable(connection, writer.pushable).items():
        step = f"clear:{prefix}{connection}:{crm_object}"
        if step in steps.done:
            continue
        audit = partial(
            _audited, connection, CLEAR_FIELDS, crm_object, ids, subject=subject, job_id=job_id
        )
        done, left = _write(partial(writer.clear_fields, crm_object, ids), audit, stores)
        report.records_cleared += len(done)
        report.refused.extend(f"clear {crm_object}: {r.code}" for r in left)
        progress("records_cleared", len(done))
        if not left:
            steps.record(step)


def _close(
    connection: str,
    writer: CrmWriter,
    footprint: Footprint,
    stores: ErasureStores,
    subject: str,
    job_id: str | None,
    report: ErasureReport,
    progress: Progress,
) -> None:
    keys = list(footprint.open_tasks.get(connection, ()))
    if not keys:
        return
    audit = partial(_audited, connection, CLOSE_TASK, "Task", keys, subject=subject, job_id=job_id)
    written, left = _write(partial(writer.close_tasks, keys), audit, stores)
    refused = {r.record_id for r in left}
    # A key the CRM has no task for (deleted by hand) has nothing left to close: done too.
    done = [k for k in keys if k in written or k not in refused]
    stores.tasks.close(connection, done)
    report.tasks_closed += len(done)
    report.refused.extend(f"close task: {r.code}" for r in left)
    progress("tasks_closed", len(done))
