"""SQLModel tables: the service's operating state.

The CRM stays the system of record; these tables hold what the loop needs between runs:
canonical customers/accounts and their ids in each CRM, sync cursors, the push ledger, score
history, jobs, the audit log of CRM writes and API keys. Portable types only, so the same tables
(and Alembic migrations) run on SQLite and PostgreSQL. Times are stored as timezone-aware UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from service.store.types import UtcDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def stamp(*, index: bool = False) -> Any:
    """A required UTC timestamp column that defaults to now (a new Column per use)."""
    return Field(
        default_factory=utcnow,
        sa_column=Column(UtcDateTime(), nullable=False, index=index),
    )


def optional_stamp() -> Any:
    """A nullable UTC timestamp column."""
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class EntityType(StrEnum):
    """What a `CrmLink` points at (the canonical kinds of service.ports.Canonical)."""

    CUSTOMER = "customer"
    ACCOUNT = "account"
    OWNER = "owner"
    INTERACTION = "interaction"
    SURVEY = "survey"
    TRANSACTION = "transaction"
    CASE = "case"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # stopped cleanly (e.g. CRM quota spent); resumes from its cursor


class Account(SQLModel, table=True):
    """A canonical company/account."""

    __tablename__ = "accounts"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(default="", max_length=255)
    domain: str | None = Field(default=None, max_length=255)
    created_at: datetime = stamp()
    updated_at: datetime = stamp()


class Customer(SQLModel, table=True):
    """A canonical person (CRM contact or lead), with its latest scoring for lists and filters.

    The score columns repeat the newest `score_history` row so `GET /v1/customers` filters and
    sorts on one indexed table instead of finding each customer's latest scoring per request;
    `segment` is the loyalty stage we push as the CEM segment. Sort indexes end in `id`, the
    keyset tie-breaker.
    """

    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_experience_score_id", "experience_score", "id"),
        Index("ix_customers_churn_risk_id", "churn_risk", "id"),
        Index("ix_customers_updated_at_id", "updated_at", "id"),
        Index("ix_customers_display_name_id", "display_name", "id"),
        Index("ix_customers_owner_ref", "owner_ref"),
        Index("ix_customers_language", "language"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    account_id: str | None = Field(default=None, foreign_key="accounts.id", index=True)
    display_name: str = Field(default="", max_length=255)
    email: str | None = Field(default=None, max_length=320, index=True)
    # The phone number's digits (service.store.identity.phone_digits), for erasure's matching.
    phone: str | None = Field(default=None, max_length=32, index=True)
    language: str | None = Field(default=None, max_length=16)
    owner_ref: str | None = Field(default=None, max_length=64)
    segment: str | None = Field(default=None, max_length=32, index=True)
    created_at: datetime = stamp()
    # The last time the CRM record or the customer's scores changed here.
    updated_at: datetime = stamp()
    experience_score: float | None = None
    churn_risk: float | None = None
    churn_flag: bool | None = None
    nps_class: str | None = Field(default=None, max_length=16)
    scored_at: datetime | None = optional_stamp()


class CustomerProfile(SQLModel, table=True):
    """The latest full scoring of a customer (contributions with evidence, churn drivers and
    warnings, loyalty stage, planned actions) as JSON, read by `GET /v1/customers/{id}`.

    Kept apart from `customers` so lists never load it; removed with its customer.
    """

    __tablename__ = "customer_profiles"

    customer_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
        )
    )
    as_of: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    scoring_version: str = Field(max_length=32)
    profile: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class CrmLink(SQLModel, table=True):
    """One pulled CRM record: which canonical entity it is, and its canonical form.

    Customers and accounts point at their rows in `customers` / `accounts`; history records
    (interactions, surveys, transactions, cases) and owners live here whole, as the canonical
    model in `payload` (message text removed unless CEM_KEEP_MESSAGE_TEXT is on). The
    `fingerprint` of the canonical form tells a real change from our own write coming back
    (our pushed fields are not part of any pull mapping, so they never change it).
    """

    __tablename__ = "crm_links"
    __table_args__ = (
        UniqueConstraint("connection", "crm_object", "crm_id", name="uq_crm_links_record"),
        Index("ix_crm_links_entity", "entity_type", "entity_id"),
        Index("ix_crm_links_connection_crm_id", "connection", "crm_id"),
        # Reports read one kind of record in a time window.
        Index("ix_crm_links_type_time", "entity_type", "occurred_at"),
        # The identity graph finds a pulled customer record's person by these.
        Index("ix_crm_links_match_email", "match_email"),
        Index("ix_crm_links_match_phone", "match_phone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=16)  # an EntityType value
    entity_id: str = Field(max_length=32)
    connection: str = Field(max_length=64)
    crm_object: str = Field(max_length=64)
    crm_id: str = Field(max_length=64)
    linked_at: datetime = stamp()
    customer_id: str | None = Field(default=None, max_length=32, index=True)
    occurred_at: datetime | None = optional_stamp()
    fingerprint: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    deleted_at: datetime | None = optional_stamp()
    # A customer record's verified e-mail and E.164 phone (service/domain/identity.py), which
    # the identity graph matches on; None on other records and on values that may not link.
    match_email: str | None = Field(default=None, max_length=320)
    match_phone: str | None = Field(default=None, max_length=32)


class IdentityDecision(SQLModel, table=True):
    """Why a CRM customer record is (or stopped being) part of a person: the identity graph's
    audit. A record without a row founded its person (the first record seen of them).

    The matched value is kept as a hash (`value_hash`), never as the address or number: the row
    says why without being another copy of the contact data. Rows go with their person on
    erasure; `decided_by` is `auto`, `migration` or `key:<API key id>` for a manual decision.
    """

    __tablename__ = "identity_decisions"
    __table_args__ = (Index("ix_identity_decisions_record", "connection", "crm_object", "crm_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(max_length=32, index=True)  # the person the record joined/left for
    previous_customer_id: str | None = Field(default=None, max_length=32, index=True)
    connection: str = Field(max_length=64)
    crm_object: str = Field(max_length=64)
    crm_id: str = Field(max_length=64)
    action: str = Field(max_length=16)  # link | unlink
    rule: str = Field(max_length=16)  # a service.domain.identity.Rule value
    confidence: float = 1.0
    value_hash: str | None = Field(default=None, max_length=64)
    decided_by: str = Field(max_length=64)
    decided_at: datetime = stamp()


class IdentityRef(SQLModel, table=True):
    """An id a customer record names in another system (`Customer.refs`, as `ref_key`s of
    service/domain/identity.py): the identity graph joins it to the record it names, and a
    record pulled later to the records that name it. Rows follow their record: replaced when it
    is pulled again, deleted when its person is erased."""

    __tablename__ = "identity_refs"
    __table_args__ = (Index("ix_identity_refs_record", "connection", "crm_id"),)

    connection: str = Field(primary_key=True, max_length=64)
    crm_id: str = Field(primary_key=True, max_length=64)
    ref_key: str = Field(primary_key=True, max_length=160, index=True)


class RescoreMark(SQLModel, table=True):
    """A person to score again at the next sync of `connection`: their history changed through
    another connection (service/store/rescore_marks.py), so this CRM's copy of their scores is
    stale until then."""

    __tablename__ = "rescore_marks"

    connection: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(primary_key=True, max_length=32)
    marked_at: datetime = stamp()


class SyncCursor(SQLModel, table=True):
    """Where an incremental pull of one stream stopped: modification stamp + tie-breaking id."""

    __tablename__ = "sync_cursors"

    connection: str = Field(primary_key=True, max_length=64)
    stream: str = Field(primary_key=True, max_length=64)
    modified_at: datetime | None = optional_stamp()
    last_id: str | None = Field(default=None, max_length=64)
    updated_at: datetime = stamp()


class PushLedger(SQLModel, table=True):
    """What we last wrote to one field of one CRM record, so an unchanged value costs no call."""

    __tablename__ = "push_ledger"
    __table_args__ = (
        UniqueConstraint(
            "connection", "crm_object", "crm_id", "field", name="uq_push_ledger_field"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64)
    crm_object: str = Field(max_length=64)
    crm_id: str = Field(max_length=64)
    field: str = Field(max_length=128)
    value_hash: str = Field(max_length=64)
    customer_id: str | None = Field(default=None, max_length=32, index=True)
    pushed_at: datetime = stamp()


class TaskLedger(SQLModel, table=True):
    """Next-best-action tasks we created, keyed so that no retry or rerun makes a second one."""

    __tablename__ = "task_ledger"
    __table_args__ = (UniqueConstraint("connection", "task_key", name="uq_task_ledger_key"),)

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64)
    task_key: str = Field(max_length=128)  # hash of (customer, playbook, reason)
    customer_id: str = Field(max_length=32, index=True)
    playbook: str = Field(max_length=64)
    crm_task_id: str | None = Field(default=None, max_length=64)
    state: str = Field(default="open", max_length=16)
    created_at: datetime = stamp()
    closed_at: datetime | None = optional_stamp()


class ScoreHistory(SQLModel, table=True):
    """One scoring of one customer: the numbers and each factor's contribution."""

    __tablename__ = "score_history"
    __table_args__ = (
        Index("ix_score_history_customer_time", "customer_id", "as_of"),
        Index("ix_score_history_as_of", "as_of"),  # the churn report's window
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(max_length=32)
    as_of: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    experience_score: float | None = None
    nps_class: str | None = Field(default=None, max_length=16)
    churn_risk: float | None = None
    churn_flag: bool = False
    contributions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    scoring_version: str = Field(max_length=32)


class ChurnModel(SQLModel, table=True):
    """One run of a connection's churn-train job: the model card, whether scoring uses it, the
    fitted classifier (bytes we wrote ourselves) and the subscription survival curves."""

    __tablename__ = "churn_models"
    __table_args__ = (Index("ix_churn_models_connection_time", "connection", "trained_at"),)

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64)
    trained_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # Whether scoring judges by this model: only when it beat the label-free one out of time.
    in_use: bool = False
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    card: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    survival: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    model: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


# A job in one of these states holds its (kind, connection) lock: the partial unique index below
# lets the database, not one process's memory, refuse a second active sync of a connection (two
# replicas cannot both run it). Paused jobs keep the lock: they resume from their checkpoint.
ACTIVE_JOB_STATES = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.PAUSED.value)
_ACTIVE_SQL = "state IN ({})".format(", ".join(f"'{s}'" for s in ACTIVE_JOB_STATES))


class Job(SQLModel, table=True):
    """A long-running piece of work (sync, rescoring) with persisted state and progress."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_connection_state", "connection", "state"),
        Index("ix_jobs_state_run_after", "state", "run_after"),
        Index(
            "uq_jobs_active_lock",
            "lock_key",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    kind: str = Field(max_length=32)
    connection: str | None = Field(default=None, max_length=64)
    state: str = Field(default=JobState.QUEUED.value, max_length=16)  # a JobState value
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    progress: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # Where a resumed run starts from (a cursor, a page token), saved with the progress counters.
    checkpoint: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    error: str | None = None
    # "<kind>:<connection>" for kinds that run one at a time per connection, else NULL.
    lock_key: str | None = Field(default=None, max_length=128)
    cancel_requested: bool = False
    attempts: int = 0
    worker: str | None = Field(default=None, max_length=64)  # the runner that holds it
    run_after: datetime | None = optional_stamp()  # not before (a paused job's resume time)
    created_at: datetime = stamp(index=True)
    started_at: datetime | None = optional_stamp()
    finished_at: datetime | None = optional_stamp()
    heartbeat_at: datetime | None = optional_stamp()
    # When a message for it last went to the broker (NULL: none yet, or it must go again); the
    # queue's sweeper sends one for queued jobs without a recent one (service/jobs/broker.py).
    dispatched_at: datetime | None = optional_stamp()


class AuditEntry(SQLModel, table=True):
    """One write we made to a CRM (never holds field values or personal data)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = stamp(index=True)
    connection: str = Field(max_length=64)
    operation: str = Field(max_length=32)  # upsert, create_task, close_task, clear_fields, erase
    crm_object: str = Field(max_length=64)
    crm_id: str | None = Field(default=None, max_length=64)
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    outcome: str = Field(max_length=16)  # ok, rejected, failed
    job_id: str | None = Field(default=None, max_length=32, index=True)
    detail: str | None = Field(default=None, max_length=500)


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 hash is stored; the key id is the public part."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=100)
    key_hash: str = Field(max_length=64)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = stamp()
    revoked_at: datetime | None = optional_stamp()
    last_used_at: datetime | None = optional_stamp()


class WebhookSubscription(SQLModel, table=True):
    """A receiver of outbound events. Its signing secret is stored encrypted (webhooks/vault.py)."""

    __tablename__ = "webhook_subscriptions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    url: str = Field(max_length=2048)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # [] = all
    description: str = Field(default="", max_length=200)
    secret_ciphertext: str = Field(max_length=512)
    active: bool = True
    created_at: datetime = stamp()
    disabled_at: datetime | None = optional_stamp()  # set when the receiver answered 410 Gone
    disabled_reason: str | None = Field(default=None, max_length=200)


class WebhookDeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up: attempts exhausted, or the subscription is gone


class WebhookDelivery(SQLModel, table=True):
    """The outbox: one event for one subscriber, kept until delivered or given up.

    Written in the same transaction as the change it announces (when the caller passes its
    session), and read by the dispatcher, so a crash or restart loses no event.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    event_id: str = Field(max_length=32, index=True)
    event_type: str = Field(max_length=32)
    subscription_id: str = Field(max_length=32, index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))  # the exact JSON, every attempt
    state: str = Field(default=WebhookDeliveryState.PENDING.value, max_length=16)
    attempts: int = 0
    # When the next attempt is due; null once the delivery is delivered or given up.
    next_attempt_at: datetime | None = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=True)
    )
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = stamp()
    delivered_at: datetime | None = optional_stamp()


class Suppression(SQLModel, table=True):
    """A CRM record of an erased customer: the pull must not import it again.

    Keyed by an HMAC-SHA256 of (connection, CRM id) under `CEM_SUPPRESSION_KEY`, so the list
    cannot be turned back into ids by hashing every possible id (HubSpot ids are short
    numbers). `scheme` says which hash `key` is (`hmac1`; `sha256` for entries migrated from the
    older unkeyed list, rewritten to `hmac1` when matched: service/store/suppression.py).
    """

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("connection", "key", name="uq_suppressions_key"),)

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64)
    key: str = Field(max_length=64)
    scheme: str = Field(default="hmac1", max_length=16)
    crm_object: str = Field(default="", max_length=64)
    job_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = stamp()


class InstallKey(SQLModel, table=True):
    """Keys this installation generated for itself when none was configured (by name)."""

    __tablename__ = "install_keys"

    name: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=128)
    created_at: datetime = stamp()


class JobTask(SQLModel, table=True):
    """One task of a fanned-out job (a chunk of texts to score, a batch of customers to score
    and push): any worker may run it; the parent job waits for its job's tasks and takes their
    results. Rows live only while their job step runs: a text chunk's payload holds message
    text, which is not kept (it is deleted with the row once scored)."""

    __tablename__ = "job_tasks"
    __table_args__ = (Index("ix_job_tasks_job_state", "job_id", "state"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    job_id: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    state: str = Field(default="queued", max_length=16)  # queued, running, done, failed
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    error: str | None = None
    worker: str | None = Field(default=None, max_length=64)
    created_at: datetime = stamp()
    claimed_at: datetime | None = optional_stamp()
