"""Erasing one customer after a real sync, on both sandbox CRMs and both databases.

Done when nothing about the customer remains in our database (every table scanned, row by row,
for the customer's ids, e-mail, name and CRM ids) or in the fields we own in the CRM, our tasks
are closed, other customers are untouched, and the next sync does not bring the customer back.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, col, func, select

from adapters.mapping import Mapping
from service.config import Settings
from service.jobs import JobQueue, JobRegistry, JobRunner, JobSettings
from service.jobs.customer_jobs import ERASE, make_erase_job
from service.main import sync_stores
from service.ports import CrmUnavailableError, CrmWriter
from service.store.database import session_scope
from service.store.erasure import ERASE as ERASE_OP
from service.store.erasure import ErasureStore, subject_hash
from service.store.jobs import JobRepository
from service.store.tables import (
    AuditEntry,
    CrmLink,
    Customer,
    EntityType,
    Job,
    JobState,
    PushLedger,
    TaskLedger,
    WebhookDelivery,
    WebhookSubscription,
)
from service.store.tasks import TaskLedgerRepository
from service.store.webhooks import WebhookRepository
from service.usecases.erase import ErasureStores, erase_customer
from service.usecases.sync import SyncReport, sync
from tests.contract.harness import HubSpotHarness, SalesforceHarness, SandboxAdmin
from tests.service import test_sync

crm = test_sync.crm  # both sandbox CRMs, 40 generated customers each
AS_OF = datetime.now(UTC)
Crm = SalesforceHarness | HubSpotHarness


def run_sync(crm: Crm, engine: Engine) -> SyncReport:
    return sync("org", crm.reader(), crm.writer(), sync_stores(Settings(), engine), AS_OF)


def erasure_stores(engine: Engine) -> ErasureStores:
    return ErasureStores(ErasureStore(engine), TaskLedgerRepository(engine))


def push_mapping(crm: Crm) -> Mapping:
    (mapping,) = crm.mappings.for_crm(crm.crm, "push")
    return mapping


@dataclass
class Victim:
    customer_id: str
    crm_id: str
    needles: set[str]  # every string that would name the customer


def pick(engine: Engine, crm: Crm, *, skip: str | None = None) -> Victim:
    """A customer with pushed fields and an open task, and everything that names them."""
    with Session(engine) as session:
        candidates = session.exec(
            select(TaskLedger.customer_id)
            .where(TaskLedger.state == "open")
            .group_by(col(TaskLedger.customer_id))
            .order_by(col(TaskLedger.customer_id))
        ).all()
        for customer_id in candidates:
            if customer_id == skip:
                continue
            link = session.exec(
                select(CrmLink).where(
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    CrmLink.entity_id == customer_id,
                    CrmLink.crm_object == crm.customer_object,
                )
            ).first()
            pushed = session.exec(
                select(PushLedger.id).where(PushLedger.customer_id == customer_id)
            ).first()
            if link is None or pushed is None:
                continue
            row = session.get(Customer, customer_id)
            assert row is not None
            history = session.exec(
                select(CrmLink.crm_id).where(CrmLink.customer_id == customer_id)
            ).all()
            tasks = session.exec(
                select(TaskLedger.crm_task_id).where(TaskLedger.customer_id == customer_id)
            ).all()
            same_name = session.exec(
                select(func.count())
                .select_from(Customer)
                .where(Customer.display_name == row.display_name)
            ).one()
            needles = {customer_id, f"cem-{customer_id}", link.crm_id, *history}
            needles |= {t for t in tasks if t}
            if row.email:
                needles.add(row.email)
            if same_name == 1 and len(row.display_name) >= 5:
                needles.add(row.display_name)
            return Victim(customer_id, link.crm_id, needles)
    raise AssertionError("the sync created no task on a pushable customer")


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield value
        if value[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                yield from _leaves(json.loads(value))
    elif value is not None:
        yield str(value)


def mentions(engine: Engine, needles: set[str]) -> list[str]:
    """Every (table, column) cell naming one of `needles`: short ids must match a whole value,
    longer strings may appear inside one (a body, a payload)."""
    long = {n for n in needles if len(n) >= 8}
    found: list[str] = []
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    assert "customers" in tables
    assert "webhook_deliveries" in tables
    with engine.connect() as connection:
        for table in tables:
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column, value in row.items():
                    for leaf in _leaves(value):
                        if leaf in needles or any(n in leaf for n in long):
                            found.append(f"{table}.{column}")
    return sorted(set(found))


def owned_values(crm: Crm, crm_id: str) -> dict[str, Any]:
    mapping = push_mapping(crm)
    names = [f.crm for f in mapping.fields] + [mapping.external_id_field or ""]
    if isinstance(crm, SalesforceHarness):
        record = crm._sdk().Contact.get(crm_id)
        return {n: record.get(n) for n in names}
    got = crm._sdk().crm.objects.basic_api.get_by_id("contacts", crm_id, properties=names)
    properties = got.to_dict()["properties"]
    return {n: properties.get(n) for n in names}


def is_empty(value: Any) -> bool:
    return value in (None, "", False)  # an unchecked Salesforce checkbox is its empty value


def task_states(crm: Crm, engine_keys: list[str]) -> list[str]:
    if isinstance(crm, SalesforceHarness):
        sdk = crm._sdk()
        return [
            str(r["Status"])
            for key in engine_keys
            for r in sdk.query(f"SELECT Status FROM Task WHERE CEM_Task_Key__c = '{key}'")[
                "records"
            ]
        ]
    rows = crm._all("tasks", ["cem_task_key", "hs_task_status"])
    return [
        str(r["properties"]["hs_task_status"])
        for r in rows
        if r["properties"].get("cem_task_key") in engine_keys
    ]


def task_keys(engine: Engine, customer_id: str) -> list[str]:
    with Session(engine) as session:
        return list(
            session.exec(select(TaskLedger.task_key).where(TaskLedger.customer_id == customer_id))
        )


def rows_of(engine: Engine, customer_id: str) -> int:
    with Session(engine) as session:
        return len(session.exec(select(CrmLink.id).where(CrmLink.customer_id == customer_id)).all())


def account_of(engine: Engine, customer_id: str) -> tuple[str | None, bool]:
    """The customer's CRM account id, and whether another customer has the same account."""
    with Session(engine) as session:
        links = session.exec(
            select(CrmLink).where(CrmLink.entity_type == EntityType.CUSTOMER.value)
        ).all()
    mine = next((link for link in links if link.entity_id == customer_id), None)
    account = (mine.payload or {}).get("account_id") if mine else None
    if account is None:
        return None, False
    others = [
        link
        for link in links
        if link.entity_id != customer_id and (link.payload or {}).get("account_id") == account
    ]
    return str(account), bool(others)


def test_erasure_leaves_nothing_in_any_table_nor_in_our_crm_fields(
    crm: Crm, engine: Engine
) -> None:
    SandboxAdmin(crm.server).reset()
    # A subscriber, so that flag and task events naming customers sit in the outbox.
    WebhookRepository(engine).add(
        WebhookSubscription(url="https://receiver.example/hook", secret_ciphertext="x")
    )
    assert run_sync(crm, engine).pushed > 0
    victim = pick(engine, crm)
    bystander = pick(engine, crm, skip=victim.customer_id)
    with session_scope(engine) as session:
        # Operating state that names the customer too: an audited write, an earlier job.
        session.add(
            AuditEntry(
                connection="org",
                operation="upsert",
                crm_object=crm.customer_object,
                crm_id=victim.crm_id,
                outcome="ok",
            )
        )
        session.add(
            Job(kind="rescore", state="succeeded", params={"customer_id": victim.customer_id})
        )
    with Session(engine) as session:
        outbox = session.exec(
            select(WebhookDelivery.id).where(
                col(WebhookDelivery.body).like(f"%{victim.customer_id}%")
            )
        ).all()
    assert outbox  # the victim's task.created event at least
    account, shared = account_of(engine, victim.customer_id)
    keys = task_keys(engine, victim.customer_id)
    assert mentions(engine, victim.needles)  # the scan sees the customer before the erasure
    before = owned_values(crm, bystander.crm_id)
    bystander_rows = rows_of(engine, bystander.customer_id)
    assert not all(is_empty(v) for v in owned_values(crm, victim.crm_id).values())

    report = erase_customer(victim.customer_id, lambda _name: crm.writer(), erasure_stores(engine))

    assert report.found
    assert report.records_cleared == 1
    assert report.tasks_closed == len(keys) > 0
    assert mentions(engine, victim.needles) == []
    with Session(engine) as session:
        redacted = [session.get(WebhookDelivery, i) for i in outbox]
    assert all(d is not None and json.loads(d.body)["data"] == {"erased": True} for d in redacted)
    assert {k: v for k, v in owned_values(crm, victim.crm_id).items() if not is_empty(v)} == {}
    assert set(task_states(crm, keys)) == {"Completed" if crm.crm == "salesforce" else "COMPLETED"}
    # The account stays when another customer uses it, and goes with its only customer.
    if account is not None:
        with Session(engine) as session:
            kept = session.exec(
                select(CrmLink.id).where(
                    CrmLink.entity_type == EntityType.ACCOUNT.value, CrmLink.crm_id == account
                )
            ).all()
        assert bool(kept) == shared
    # Everybody else is as they were.
    assert owned_values(crm, bystander.crm_id) == before
    assert rows_of(engine, bystander.customer_id) == bystander_rows
    with Session(engine) as session:
        erase = session.exec(select(AuditEntry).where(AuditEntry.operation == ERASE_OP)).one()
        writes = session.exec(
            select(AuditEntry).where(col(AuditEntry.operation).in_(["clear_fields", "close_task"]))
        ).all()
    assert erase.crm_id == subject_hash(victim.customer_id)
    assert json.loads(erase.detail or "{}")["tasks_closed"] == len(keys)
    assert len(writes) == 1 + len(keys)
    assert {w.outcome for w in writes} == {"ok"}
    # A second erasure finds nothing: the id is unknown now.
    again = erase_customer(victim.customer_id, lambda _name: crm.writer(), erasure_stores(engine))
    assert not again.found

    # The next sync reads the (changed) CRM record again, and does not bring the customer back.
    run_sync(crm, engine)
    with Session(engine) as session:
        back = session.exec(select(CrmLink).where(CrmLink.crm_id == victim.crm_id)).all()
        history_back = session.exec(
            select(CrmLink.id).where(col(CrmLink.crm_id).in_(list(victim.needles)))
        ).all()
    assert back == []
    assert history_back == []
    assert {k: v for k, v in owned_values(crm, victim.crm_id).items() if not is_empty(v)} == {}


class FailingOnce:
    """Fails the first task-closing call, like a CRM going down halfway through an erasure."""

    def __init__(self, writer: CrmWriter) -> None:
        self.writer = writer
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.writer, name)

    def close_tasks(self, keys: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise CrmUnavailableError("injected: the CRM is down")
        return self.writer.close_tasks(keys)


def test_an_erasure_the_crm_interrupts_pauses_keeps_the_rows_and_completes_on_resume(
    crm: Crm, engine: Engine
) -> None:
    admin = SandboxAdmin(crm.server)
    admin.reset()
    run_sync(crm, engine)
    victim = pick(engine, crm)
    keys = task_keys(engine, victim.customer_id)
    registry = JobRegistry()
    registry.register(
        ERASE, make_erase_job(lambda _n: crm.writer(), lambda: erasure_stores(engine)),
        exclusive=False,
    )  # fmt: skip
    queue = JobQueue(JobRepository(engine), registry)
    runner = JobRunner(queue, JobSettings(progress_flush_seconds=0))
    job = queue.submit(ERASE, params={"customer_id": victim.customer_id})
    # The sandbox fails every task read/close (after the fields are cleared): the retry layer
    # gives up, the job pauses.
    task_route = "GET /services/data/*/query*" if crm.crm == "salesforce" else "* /crm/*/tasks/*"
    admin.faults([{"route": task_route, "error_5xx": 1.0}])
    runner.drain()
    paused = queue.get(job.id)
    assert paused is not None
    assert paused.state == JobState.PAUSED.value, paused.error
    assert paused.progress.get("records_cleared") == 1
    assert "tasks_closed" not in paused.progress
    # Nothing is deleted yet: the rows are the record of what remains; the pull skips them.
    assert rows_of(engine, victim.customer_id) > 0
    assert ErasureStore(engine).footprint(victim.customer_id) is not None
    assert mentions(engine, {victim.customer_id})

    admin.faults([])
    assert queue.repository.resume(job.id) is not None
    runner.drain()
    done = queue.get(job.id)
    assert done is not None
    assert done.state == JobState.SUCCEEDED.value, done.error
    assert done.progress["tasks_closed"] == len(keys)
    assert done.progress["records_cleared"] == 1  # the resumed run did not clear them twice
    assert done.progress["rows_deleted"] > 0
    assert done.params == {"subject": subject_hash(victim.customer_id)}
    assert mentions(engine, victim.needles) == []
    assert set(task_states(crm, keys)) == {"Completed" if crm.crm == "salesforce" else "COMPLETED"}


def test_a_crm_failure_midway_keeps_the_rows_and_a_rerun_completes(
    crm: Crm, engine: Engine
) -> None:
    SandboxAdmin(crm.server).reset()
    run_sync(crm, engine)
    victim = pick(engine, crm)
    failing = FailingOnce(crm.writer())
    with pytest.raises(CrmUnavailableError):
        erase_customer(victim.customer_id, lambda _n: failing, erasure_stores(engine))  # type: ignore[arg-type,return-value]
    assert rows_of(engine, victim.customer_id) > 0
    with Session(engine) as session:
        failed = session.exec(
            select(AuditEntry).where(
                AuditEntry.operation == "close_task", AuditEntry.outcome == "failed"
            )
        ).all()
    assert failed
    report = erase_customer(victim.customer_id, lambda _n: failing, erasure_stores(engine))  # type: ignore[arg-type,return-value]
    assert report.found
    assert report.rows_deleted["customers"] == 1
    assert mentions(engine, victim.needles) == []
