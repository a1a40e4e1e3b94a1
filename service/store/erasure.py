"""Erasure in the database: what one customer left behind, a suppression list, and the delete.

- `footprint()` lists what must be undone in the CRMs before the rows may go: the customer's CRM
  records (where we wrote fields) and our open tasks. The rows themselves are the record of what
  remains, so they are deleted last, in one transaction, once every CRM write has succeeded.
- `delete()` removes every row about the customer in every table (checked table by table by the
  tests) and writes one `erase` audit entry holding only an opaque hash, counts and the time.
- Suppression: the next pull must not re-create an erased customer from a CRM record that still
  exists. The list is its own table of keyed hashes (service/store/suppression.py);
  `RecordStore.upsert` skips records of a suppressed customer (`is_suppressed`).
- A customer is a person: their records in every connection are linked to them by the identity
  graph (docs/identity.md), so the footprint and the delete cover every connection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, String, cast, delete, or_, update
from sqlmodel import Session, col, select

from service.domain import Customer as CustomerRecord
from service.domain import DomainModel
from service.store.database import session_scope
from service.store.suppression import Matcher, SuppressedRecord, SuppressionList
from service.store.tables import (
    ACTIVE_JOB_STATES,
    Account,
    AuditEntry,
    CrmLink,
    Customer,
    EntityType,
    IdentityDecision,
    IdentityRef,
    Job,
    JobState,
    PushLedger,
    RescoreMark,
    ScoreHistory,
    SyncCursor,
    TaskLedger,
    WebhookDelivery,
    WebhookDeliveryState,
    utcnow,
)

ERASE = "erase"
SUPPRESS = "suppress"
CLEAR_FIELDS = "clear_fields"
CLOSE_TASK = "close_task"
ANY_CONNECTION = "*"
REDACTED_ERROR = "the customer was erased before this event was delivered"


def subject_hash(customer_id: str) -> str:
    """The opaque name of an erased customer in the audit log (proves an erasure, names no one)."""
    return hashlib.sha256(f"cem-customer\x1f{customer_id}".encode()).hexdigest()


@dataclass(frozen=True)
class LinkedRecord:
    """One CRM record of the customer (a contact or lead) on one connection."""

    connection: str
    crm_object: str
    crm_id: str
    deleted: bool = False  # deleted in the CRM: nothing there to clear


@dataclass(frozen=True)
class Footprint:
    """What an erasure must undo in the CRMs before the customer's rows are deleted."""

    customer_id: str
    records: tuple[LinkedRecord, ...]
    open_tasks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # conn -> keys

    @property
    def connections(self) -> list[str]:
        return sorted({r.connection for r in self.records} | set(self.open_tasks))

    def clearable(self, connection: str, pushable: Iterable[str]) -> dict[str, list[str]]:
        """CRM object -> ids of live records on `connection` whose object gets our fields."""
        objects = set(pushable)
        found: dict[str, list[str]] = {}
        for record in self.records:
            live = record.connection == connection and not record.deleted
            if live and record.crm_object in objects:
                found.setdefault(record.crm_object, []).append(record.crm_id)
        return found


def is_suppressed(record: DomainModel, matcher: Matcher) -> bool:
    """True for the CRM record of an erased customer, or a history record pointing at one."""
    if not matcher:
        return False
    if isinstance(record, CustomerRecord):
        source = record.source
        return source is not None and matcher.matches(source.crm_id)
    customer = getattr(record, "customer_id", None)
    return bool(customer) and matcher.matches(str(customer))


def _text(column: Any) -> Any:
    """A JSON or text column compared as text (LIKE works on SQLite and PostgreSQL alike)."""
    return cast(column, String)


class ErasureStore:
    """Reads and deletes a customer's rows; keeps the audit trail and the suppression list."""

    def __init__(self, engine: Engine, suppressions: SuppressionList | None = None) -> None:
        self._engine = engine
        self._suppressions = suppressions or SuppressionList(engine)

    def footprint(self, customer_id: str) -> Footprint | None:
        """What is left of the customer, or None when nothing is (unknown, or erased)."""
        with Session(self._engine) as session:
            links = session.exec(
                select(CrmLink).where(
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    CrmLink.entity_id == customer_id,
                )
            ).all()
            row = session.get(Customer, customer_id)
            tasks = session.exec(
                select(TaskLedger).where(
                    TaskLedger.customer_id == customer_id, TaskLedger.state == "open"
                )
            ).all()
        if row is None and not links:
            return None
        open_tasks: dict[str, list[str]] = {}
        for task in tasks:
            open_tasks.setdefault(task.connection, []).append(task.task_key)
        return Footprint(
            customer_id,
            tuple(
                LinkedRecord(
                    link.connection, link.crm_object, link.crm_id, link.deleted_at is not None
                )
                for link in links
            ),
            {conn: tuple(keys) for conn, keys in open_tasks.items()},
        )

    def suppress(self, records: Iterable[LinkedRecord], job_id: str | None) -> int:
        """Put the customer's CRM records on the suppression list (idempotent)."""
        return self._suppressions.add(
            (SuppressedRecord(r.connection, r.crm_object, r.crm_id) for r in records), job_id
        )

    def audit(self, entries: Iterable[AuditEntry]) -> None:
        """Record CRM writes (the caller keeps CRM ids and values out of them)."""
        with session_scope(self._engine) as session:
            session.add_all(list(entries))

    def running_jobs(
        self,
        customer_id: str,
        connections: Iterable[str],
        *,
        per_connection: str,
        per_customer: str,
    ) -> int:
        """Running jobs that may push the customer: `per_connection` jobs (syncs) of one of
        `connections`, `per_customer` jobs (rescores) of this customer."""
        with Session(self._engine) as session:
            syncs = session.exec(
                select(Job.id).where(
                    Job.kind == per_connection,
                    Job.state == JobState.RUNNING.value,
                    col(Job.connection).in_(list(connections)),
                )
            ).all()
        own = active_job_for(self._engine, per_customer, customer_id)
        return len(syncs) + int(own is not None and own.state == JobState.RUNNING.value)

    def delete(
        self, customer_id: str, job_id: str | None, counts: Mapping[str, int]
    ) -> dict[str, int]:
        """Delete or redact every row about the customer, in one transaction; rows per table."""
        deleted: dict[str, int] = {}
        with session_scope(self._engine) as session:
            links = session.exec(
                select(CrmLink).where(
                    or_(
                        col(CrmLink.customer_id) == customer_id,
                        (col(CrmLink.entity_type) == EntityType.CUSTOMER.value)
                        & (col(CrmLink.entity_id) == customer_id),
                    )
                )
            ).all()
            record_ids: dict[str, set[str]] = {}
            accounts: dict[str, set[str]] = {}  # connection -> CRM account ids it pointed at
            for link in links:
                record_ids.setdefault(link.connection, set()).add(link.crm_id)
                if link.entity_type == EntityType.CUSTOMER.value and link.payload:
                    account = link.payload.get("account_id")
                    if account:
                        accounts.setdefault(link.connection, set()).add(str(account))
            tasks = session.exec(
                select(TaskLedger).where(TaskLedger.customer_id == customer_id)
            ).all()
            for task in tasks:
                if task.crm_task_id:
                    record_ids.setdefault(task.connection, set()).add(task.crm_task_id)
            deleted["identity_refs"] = sum(
                self._delete_where(
                    session,
                    IdentityRef,
                    (col(IdentityRef.connection) == connection)
                    & col(IdentityRef.crm_id).in_(sorted(ids)),
                )
                for connection, ids in record_ids.items()
            )
            deleted["crm_links"] = self._delete_rows(session, links)
            deleted["task_ledger"] = self._delete_rows(session, tasks)
            deleted["push_ledger"] = self._delete_where(
                session,
                PushLedger,
                or_(
                    col(PushLedger.customer_id) == customer_id,
                    col(PushLedger.crm_id) == f"cem-{customer_id}",
                ),
            )
            deleted["score_history"] = self._delete_where(
                session, ScoreHistory, col(ScoreHistory.customer_id) == customer_id
            )
            deleted["rescore_marks"] = self._delete_where(
                session, RescoreMark, col(RescoreMark.customer_id) == customer_id
            )
            # Why their records were one person: hashes of their e-mail and phone among it.
            deleted["identity_decisions"] = self._delete_where(
                session,
                IdentityDecision,
                or_(
                    col(IdentityDecision.customer_id) == customer_id,
                    col(IdentityDecision.previous_customer_id) == customer_id,
                ),
            )
            row = session.get(Customer, customer_id)
            own_account = row.account_id if row is not None else None
            if row is not None:
                session.delete(row)
                session.flush()
                deleted["customers"] = 1
            deleted["accounts"] = self._drop_orphan_accounts(
                session, accounts, own_account, customer_id
            )
            deleted["webhook_deliveries_redacted"] = self._redact_deliveries(session, customer_id)
            deleted["jobs_scrubbed"] = self._scrub_jobs(session, customer_id)
            deleted["audit_redacted"] = self._forget_ids(session, record_ids)
            session.add(
                AuditEntry(
                    connection=ANY_CONNECTION,
                    operation=ERASE,
                    crm_object="customer",
                    crm_id=subject_hash(customer_id),
                    outcome="ok",
                    job_id=job_id,
                    detail=json.dumps({**counts, **deleted}, sort_keys=True)[:500],
                )
            )
        return deleted

    # -- the parts of delete() -------------------------------------------------------------

    @staticmethod
    def _delete_rows(session: Session, rows: Iterable[Any]) -> int:
        count = 0
        for row in rows:
            session.delete(row)
            count += 1
        session.flush()
        return count

    @staticmethod
    def _delete_where(session: Session, table: Any, condition: Any) -> int:
        result = session.exec(delete(table).where(condition))
        return int(result.rowcount or 0)

    @staticmethod
    def _drop_orphan_accounts(
        session: Session,
        crm_accounts: Mapping[str, set[str]],
        own_account: str | None,
        customer_id: str,
    ) -> int:
        """Delete accounts only this customer used (an account other customers use stays)."""
        dropped = 0
        for connection, crm_ids in crm_accounts.items():
            for crm_id in crm_ids:
                # Narrowed in SQL by the id's text, confirmed on the parsed payload.
                others = session.exec(
                    select(CrmLink.payload).where(
                        CrmLink.connection == connection,
                        CrmLink.entity_type == EntityType.CUSTOMER.value,
                        _text(CrmLink.payload).like(f"%{crm_id}%"),
                    )
                ).all()
                if any(p and str(p.get("account_id")) == crm_id for p in others):
                    continue
                account_links = session.exec(
                    select(CrmLink).where(
                        CrmLink.connection == connection,
                        CrmLink.entity_type == EntityType.ACCOUNT.value,
                        CrmLink.crm_id == crm_id,
                    )
                ).all()
                for link in account_links:
                    dropped += ErasureStore._drop_account(session, link.entity_id)
                    session.delete(link)
        if own_account:
            dropped += ErasureStore._drop_account(session, own_account)
        session.flush()
        return dropped

    @staticmethod
    def _drop_account(session: Session, account_id: str) -> int:
        used = session.exec(select(Customer.id).where(Customer.account_id == account_id)).first()
        linked = session.exec(
            select(CrmLink.id).where(
                CrmLink.entity_type == EntityType.ACCOUNT.value, CrmLink.entity_id == account_id
            )
        ).all()
        account = session.get(Account, account_id)
        if used is not None or account is None or len(linked) > 1:
            return 0
        session.delete(account)
        return 1

    @staticmethod
    def _redact_deliveries(session: Session, customer_id: str) -> int:
        """Webhook bodies naming the customer keep their envelope, lose their data; pending
        ones are not sent any more."""
        rows = session.exec(
            select(WebhookDelivery).where(col(WebhookDelivery.body).like(f"%{customer_id}%"))
        ).all()
        for row in rows:
            body = json.loads(row.body)
            body["data"] = {"erased": True}
            row.body = json.dumps(body, separators=(",", ":"))
            if row.state == WebhookDeliveryState.PENDING.value:
                row.state = WebhookDeliveryState.FAILED.value
                row.last_error = REDACTED_ERROR
            session.add(row)
        return len(rows)

    @staticmethod
    def _scrub_jobs(session: Session, customer_id: str) -> int:
        """Jobs whose params, progress, checkpoint or error name the customer keep only its hash
        (the running erasure job among them)."""
        pattern = f"%{customer_id}%"
        rows = session.exec(
            select(Job).where(
                or_(
                    _text(Job.params).like(pattern),
                    _text(Job.progress).like(pattern),
                    _text(Job.checkpoint).like(pattern),
                    col(Job.error).like(pattern),
                )
            )
        ).all()
        for job in rows:
            job.params = {"subject": subject_hash(customer_id)}
            job.checkpoint = {}
            job.progress = {
                k: v for k, v in job.progress.items() if customer_id not in json.dumps(v)
            }
            if job.error and customer_id in job.error:
                job.error = job.error.replace(customer_id, "<erased>")
            session.add(job)
        return len(rows)

    @staticmethod
    def _forget_ids(session: Session, record_ids: Mapping[str, set[str]]) -> int:
        """Audit entries and sync cursors that hold one of the customer's CRM ids lose it."""
        changed = 0
        for connection, ids in record_ids.items():
            wanted = list(ids)
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                result = session.exec(
                    update(AuditEntry)
                    .where(
                        col(AuditEntry.connection) == connection, col(AuditEntry.crm_id).in_(chunk)
                    )
                    .values(crm_id=None)
                )
                changed += int(result.rowcount or 0)
                # A cursor's tie-break id may be the customer's; without it the next pull
                # re-reads that one timestamp (unchanged records cost nothing).
                session.exec(
                    update(SyncCursor)
                    .where(
                        col(SyncCursor.connection) == connection, col(SyncCursor.last_id).in_(chunk)
                    )
                    .values(last_id=None, updated_at=utcnow())
                )
        return changed


def active_job_for(engine: Engine, kind: str, customer_id: str) -> Job | None:
    """The queued, running or paused job of `kind` for this customer, if any (the newest)."""
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(Job)
            .where(
                Job.kind == kind,
                col(Job.state).in_(list(ACTIVE_JOB_STATES)),
                _text(Job.params).like(f"%{customer_id}%"),
            )
            .order_by(col(Job.created_at).desc())
        ).all()
    return next((job for job in rows if job.params.get("customer_id") == customer_id), None)
