"""The loop for one connection: pull what changed, score the customers it touched, push.

Every step is idempotent and resumable: cursors are saved after each stored batch, unchanged
records do not count as changes (our own writes coming back included), the push ledger leaves
unchanged fields out, and tasks are keyed so a rerun never makes a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Protocol

from service.domain import ActionTask, DomainModel
from service.ports import CrmError, CrmReader, CrmWriter, FieldUpdate, ReadOnlyWriter
from service.scoring.churn.features import FeatureSpec
from service.scoring.churn.labelled import Verdict, judge
from service.scoring.churn.thresholds import FlagPolicy
from service.scoring.customer import CustomerScore, History, ScoringModels, score_customers
from service.store.churn_models import ChurnModelRepository
from service.store.records import Customers
from service.store.rescore_marks import RescoreMarks
from service.testing_hooks import crash_point
from service.usecases.annotate import SignalSource, with_sentiment
from service.usecases.announce import announce_scores, announce_tasks
from service.usecases.fields import owned_fields
from service.usecases.models import joined_history, scoring_models
from service.usecases.prefetch import prefetched
from service.usecases.repositories import (
    CursorStore,
    PushLedger,
    RecordRepository,
    ScoreStore,
    TaskStore,
)
from service.webhooks.events import EventSink

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]  # (counter name, increment)

# Field updates are sent and recorded in the push ledger this many at a time, so a crash between
# the CRM's answer and the ledger write costs at most one chunk of repeated (idempotent) writes.
PUSH_CHUNK = 1000


def ignore_progress(_name: str, _count: int) -> None:
    return None


class ActOn(Protocol):
    """The shape of `act_on` (what `sync` calls to score and push the changed customers)."""

    def __call__(
        self,
        connection: str,
        customer_ids: Iterable[str],
        writer: CrmWriter,
        stores: SyncStores,
        as_of: datetime,
        models: ScoringModels,
        report: SyncReport,
        progress: Progress = ...,
    ) -> object: ...


@dataclass
class SyncStores:
    records: RecordRepository
    cursors: CursorStore
    ledger: PushLedger
    tasks: TaskStore
    scores: ScoreStore
    # Where webhook events go (the outbox); None sends none.
    events: EventSink | None = None
    # What the churn-train job left (None: scoring uses the label-free models only).
    churn_models: ChurnModelRepository | None = None
    # Persons whose history changed through another connection (None: not tracked).
    marks: RescoreMarks | None = None


@dataclass
class SyncReport:
    pulled: int = 0
    refused: list[str] = field(default_factory=list)
    changed_customers: set[str] = field(default_factory=set)
    scored: int = 0
    pushed: int = 0
    push_failed: list[str] = field(default_factory=list)
    tasks_created: int = 0
    write_calls: int = 0
    # A few created tasks per staff language, for people to read (the demo prints them).
    examples: dict[str, list[ActionTask]] = field(default_factory=dict)


def pull(
    connection: str,
    reader: CrmReader,
    stores: SyncStores,
    analyzer: SignalSource | None,
    report: SyncReport,
    progress: Progress = ignore_progress,
) -> None:
    """Pull every stream from its cursor; the cursor is saved after each stored batch."""
    ours = stores.tasks.crm_task_ids(connection)
    # Messages take their customer's language as the detection prior (annotate.py).
    languages = partial(stores.records.customer_languages, connection)
    for stream in reader.streams():
        cursor = stores.cursors.load(connection, stream.name)
        # The next page comes over the network while this one is scored and stored.
        for batch in prefetched(reader.pull(stream, cursor)):
            # Loop prevention: the tasks we created come back as activities; they are ours.
            theirs = [r for r in batch.records if _crm_id(r) not in ours]
            records = with_sentiment(theirs, analyzer, languages)
            stored = stores.records.upsert(connection, records)
            report.changed_customers |= stored.changed_customers
            report.changed_customers |= stores.records.mark_deleted(
                connection, stream.name, batch.deleted_ids
            )
            stores.cursors.save(connection, batch.cursor)
            report.pulled += len(batch.records)
            report.refused.extend(batch.rejected)
            progress("pulled", len(batch.records))


def _crm_id(record: DomainModel) -> str | None:
    source = getattr(record, "source", None)
    return source.crm_id if source is not None else None


def score(
    connection: str,
    histories: Mapping[str, Customers],
    stores: SyncStores,
    as_of: datetime,
    models: ScoringModels,
) -> dict[str, CustomerScore]:
    """Score customers from their stored history, with their account and the staff who own them."""
    owners = stores.records.owners(connection)
    accounts = stores.records.accounts(
        connection, {h.crm_account_id for h in histories.values() if h.crm_account_id}
    )
    verdicts = _labelled_verdicts(connection, histories, stores, as_of, models)
    # All at once through the vectorised core (score_customers), not one by one.
    scored = score_customers(
        [
            History(
                h.customer,
                surveys=h.surveys,
                interactions=h.interactions,
                cases=h.cases,
                transactions=h.transactions,
                account=accounts.get(h.crm_account_id or ""),
                verdict=verdicts.get(customer_id),
            )
            for customer_id, h in histories.items()
        ],
        as_of,
        models=models,
        owners=owners,
    )
    return dict(zip(histories, scored, strict=True))


def _labelled_verdicts(
    connection: str,
    histories: Mapping[str, Customers],
    stores: SyncStores,
    as_of: datetime,
    models: ScoringModels,
) -> dict[str, Verdict]:
    """The labelled churn models' verdicts, one prediction per model.

    A person is judged by the model of the first connection (by name) that holds a record of
    them and has a labelled model in use, with their record there, whichever connection's sync
    scores them: every CRM holding the person gets the same risk. Persons no such connection
    holds get no verdict (the label-free model judges them)."""
    by_connection = dict(models.labelled_elsewhere)
    if models.labelled is not None:
        by_connection[connection] = models.labelled
    if not by_connection:
        return {}
    spec = FeatureSpec(models.bgnbd, models.horizon_days, models.weights)
    undecided = set(histories)
    verdicts: dict[str, Verdict] = {}
    for decider in sorted(by_connection):
        held = set(stores.records.crm_ids(decider, sorted(undecided)))
        if not held:
            continue
        undecided -= held
        # Their record in the deciding CRM: its attributes are what that model learned from.
        group = (
            {p: histories[p] for p in held}
            if decider == connection
            else stores.records.history(sorted(held), decider)
        )
        verdicts |= judge(
            by_connection[decider],
            [h.customer for h in group.values()],
            as_of,
            joined_history(group),
            spec,
        )
        if not undecided:
            break
    return verdicts


def act_on(
    connection: str,
    customer_ids: Iterable[str],
    writer: CrmWriter,
    stores: SyncStores,
    as_of: datetime,
    models: ScoringModels,
    report: SyncReport,
    progress: Progress = ignore_progress,
) -> dict[str, CustomerScore]:
    """Score the customers, keep and announce the scorings, push: shared by sync, ingestion and
    CRM events. Each history is read once and serves both scoring and the pushed fields."""
    histories = stores.records.history(customer_ids, connection)
    scores = score(connection, histories, stores, as_of, models)
    record_scores(connection, stores, scores)
    report.scored += len(scores)
    progress("scored", len(scores))
    push(connection, writer, scores, histories, stores, as_of, report, progress)
    return scores


def record_scores(connection: str, stores: SyncStores, scores: dict[str, CustomerScore]) -> None:
    """Keep the scorings in the history and announce flags and moved scores to subscribers."""
    previous = stores.scores.latest(scores)
    stores.scores.record(scores.values())
    announce_scores(stores.events, connection, previous, scores.values())


def push(
    connection: str,
    writer: CrmWriter,
    scores: dict[str, CustomerScore],
    histories: Mapping[str, Customers],
    stores: SyncStores,
    as_of: datetime,
    report: SyncReport,
    progress: Progress = ignore_progress,
) -> None:
    """Push changed fields and new tasks for the scored customers."""
    if isinstance(writer, ReadOnlyWriter):
        return  # a source we only read: its persons' CRMs get the scores (see `act_everywhere`)
    links = stores.records.crm_ids(connection, scores)
    updates = [
        FieldUpdate(
            crm_object=links[cid][0],
            crm_id=links[cid][1],
            external_id=f"cem-{cid}",
            fields=owned_fields(score, histories[cid], as_of),
        )
        for cid, score in scores.items()
        if cid in links and cid in histories and links[cid][0] in writer.pushable
    ]
    changed = stores.ledger.changed(connection, updates)
    for start in range(0, len(changed), PUSH_CHUNK):
        chunk = changed[start : start + PUSH_CHUNK]
        written = writer.upsert_fields(chunk)
        crash_point("after_crm_write")
        done = set(written.written)
        stores.ledger.record(
            connection,
            [u for u in chunk if u.external_id in done],
            {u.external_id: u.external_id.removeprefix("cem-") for u in chunk},
        )
        report.pushed += len(done)
        report.write_calls += written.calls
        report.push_failed.extend(str(r) for r in written.rejected)
        progress("pushed", len(done))
    owners = {cid: h.customer.owner_id for cid, h in histories.items()}
    _push_tasks(connection, writer, scores, links, owners, stores, report)


def _push_tasks(
    connection: str,
    writer: CrmWriter,
    scores: dict[str, CustomerScore],
    links: dict[str, tuple[str, str]],
    record_owners: dict[str, str | None],
    stores: SyncStores,
    report: SyncReport,
) -> None:
    # Tasks go to the CRM with its own ids; the key is computed on them, so it is stable per CRM.
    tasks: list[ActionTask] = []
    owner_of: dict[str, str] = {}
    for cid, score in scores.items():
        if cid not in links:
            continue  # no CRM record to hang a task on
        for task in score.actions.tasks:
            owner = task.owner_id
            if owner is None or owner.startswith("queue:"):
                # Queues are a playbook's last resort; CRM tasks need a user, so the record's
                # owner takes them (the CRM's own assignment rules can route them further).
                owner = record_owners.get(cid) or None
            crm_task = task.model_copy(update={"customer_id": links[cid][1], "owner_id": owner})
            tasks.append(crm_task)
            owner_of[crm_task.idempotency_key] = cid
    known = stores.tasks.known(connection, owner_of)
    new = [t for t in tasks if t.idempotency_key not in known]
    if not new:
        return
    stores.tasks.intend(connection, new, owner_of)
    result = writer.create_tasks(new)
    crash_point("after_task_write")
    created = set(result.written)
    confirmed = [t for t in new if t.idempotency_key in created]
    stores.tasks.record(connection, confirmed, owner_of, dict(result.created_ids))
    stores.tasks.forget_pending(connection, [t.idempotency_key for t in new if t not in confirmed])
    announce_tasks(stores.events, connection, confirmed, result.created_ids, owner_of)
    report.tasks_created += len(created)
    for task in new:
        shown = report.examples.setdefault(task.language, [])
        if task.idempotency_key in created and len(shown) < 2:
            shown.append(task)
    report.write_calls += result.calls
    report.push_failed.extend(str(r) for r in result.rejected)


def sync(
    connection: str,
    reader: CrmReader,
    writer: CrmWriter,
    stores: SyncStores,
    as_of: datetime,
    *,
    analyzer: SignalSource | None = None,
    models: ScoringModels | None = None,
    flag_policy: FlagPolicy | None = None,
    progress: Progress = ignore_progress,
    rescore: Iterable[str] = (),
    act: ActOn | None = None,
) -> SyncReport:
    """Pull, score the customers whose history changed (and those in `rescore`), push.

    `rescore` is for a run that resumes one that stopped after storing records it had not yet
    pushed: those records no longer count as changes when pulled again, so the caller names the
    customers to score anyway (the ledger and task keys keep what was already pushed from
    being written twice).

    `act` scores and pushes the changed customers (default `act_on`, here and now); a sync job
    passes one that spreads them in batches over the task queue's workers."""
    report = SyncReport()
    unconfirmed = stores.tasks.pending_customers(connection)
    if unconfirmed:
        # A run stopped between the CRM creating tasks and our ledger learning their ids: send
        # them again first (an upsert by key, no duplicate) so this pull knows them as ours
        # instead of taking them for customer activity.
        before = models or scoring_models(
            stores.records, connection, as_of, flag_policy, stores.churn_models
        )
        act_on(connection, unconfirmed, writer, stores, as_of, before, SyncReport())
    pull(connection, reader, stores, analyzer, report, progress)
    if models is None:
        # Fitted once per sync, here: every batch, wherever it runs, scores with the same models.
        models = scoring_models(stores.records, connection, as_of, flag_policy, stores.churn_models)
    # A person whose history changed through another CRM is scored here too, so this CRM's
    # copy of their scores is current (service/store/rescore_marks.py).
    marked = stores.marks.pending(connection) if stores.marks is not None else {}
    customers = report.changed_customers | set(rescore) | set(marked)
    (act or act_on)(connection, customers, writer, stores, as_of, models, report, progress)
    if stores.marks is not None:
        stores.marks.clear(connection, marked)
    # Only persons this pull changed: marked ones carry no news for the other CRMs.
    mark_elsewhere(stores, connection, report.changed_customers)
    return report


@dataclass(frozen=True)
class Elsewhere:
    """What a real-time path needs to act on a person's other connections at once: each
    connection's writer and scoring models (built, and cached, by the composition root)."""

    writer: Callable[[str], CrmWriter]
    models: Callable[[str], ScoringModels]
    # The configured connections (a mark may name one removed since: its marks just stay).
    connections: Collection[str]


def act_elsewhere(
    stores: SyncStores,
    connection: str,
    changed: set[str],
    as_of: datetime,
    elsewhere: Elsewhere,
    report: SyncReport,
) -> None:
    """Mark the persons changed here for their other connections, then act on those marks now:
    score and push to every other connection holding one of their records that takes our
    writes. A Zalo complaint must reach the CRM in seconds, not at the CRM's next sync.

    Marks are the safety net: a connection that fails here (its CRM down, its connection not
    buildable) keeps its marks, and its next sync scores and pushes them; the failure is
    reported, and the delivery that brought the change still counts as applied (it is stored)."""
    mark_elsewhere(stores, connection, changed)
    if stores.marks is None or not changed:
        return
    for other, taken in sorted(stores.marks.of_persons(changed).items()):
        if other not in elsewhere.connections:
            continue
        try:
            writer = elsewhere.writer(other)
            if isinstance(writer, ReadOnlyWriter):
                continue  # a source we only read: nothing to push there; its sync clears them
            act_on(other, list(taken), writer, stores, as_of, elsewhere.models(other), report)
        except CrmError as error:
            report.push_failed.append(f"{other}: {error}")
            continue
        stores.marks.clear(other, taken)


def mark_elsewhere(stores: SyncStores, connection: str, changed: set[str]) -> None:
    """Persons whose history changed here are scored again at the next sync of every other
    connection holding one of their records, so each CRM gets the same scores (a sync, a CRM
    webhook or a posted message: every path that changes a person calls this)."""
    if stores.marks is not None and changed:
        stores.marks.mark_elsewhere(connection, changed)
