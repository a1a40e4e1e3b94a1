"""Storage on SQLite and the real PostgreSQL: migrations, round-trips, model/migration sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from service.store.database import downgrade, make_engine, session_scope, upgrade
from service.store.tables import (
    Account,
    ApiKey,
    AuditEntry,
    CrmLink,
    Customer,
    Job,
    JobState,
    PushLedger,
    ScoreHistory,
    SyncCursor,
    TaskLedger,
)

ALL_TABLES = {
    "accounts",
    "customers",
    "crm_links",
    "sync_cursors",
    "push_ledger",
    "task_ledger",
    "score_history",
    "jobs",
    "audit_log",
    "api_keys",
}
WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_migrations_apply_from_empty_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) == set()
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= ALL_TABLES
    upgrade(engine)  # a second upgrade is a no-op
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= ALL_TABLES
    engine.dispose()


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def _sample_rows() -> list[SQLModel]:
    account = Account(id="a1", name="Công ty TNHH Sao Mai", domain="saomai.vn")
    return [
        account,
        Customer(
            id="c1",
            account_id="a1",
            display_name="Nguyễn Thị Lan",
            email="lan@saomai.vn",
            language="vi",
            owner_ref="005000000000001AAA",
            segment="loyal",
        ),
        CrmLink(
            entity_type="customer",
            entity_id="c1",
            connection="sf-prod",
            crm_object="Contact",
            crm_id="003000000000001AAA",
        ),
        SyncCursor(connection="sf-prod", stream="Contact", modified_at=WHEN, last_id="003x"),
        PushLedger(
            connection="sf-prod",
            crm_object="Contact",
            crm_id="003000000000001AAA",
            field="CEM_Experience_Score__c",
            value_hash="ab" * 32,
            customer_id="c1",
        ),
        TaskLedger(
            connection="sf-prod", task_key="k" * 64, customer_id="c1", playbook="detractor_call"
        ),
        ScoreHistory(
            customer_id="c1",
            as_of=WHEN,
            experience_score=61.5,
            nps_class="passive",
            churn_risk=0.31,
            contributions={"survey": -4.0, "sentiment": 2.5},
            scoring_version="1",
        ),
        Job(id="j1", kind="sync", connection="sf-prod", progress={"pulled": 10, "failed": 0}),
        AuditEntry(
            connection="sf-prod",
            operation="upsert",
            crm_object="Contact",
            crm_id="003000000000001AAA",
            fields=["CEM_Experience_Score__c"],
            outcome="ok",
            job_id="j1",
        ),
        ApiKey(id="0123456789ab", name="ci", key_hash="f" * 64, scopes=["read", "write"]),
    ]


def test_every_table_round_trips(engine: Engine) -> None:
    rows = _sample_rows()
    written = {type(row): row.model_dump() for row in rows}
    with session_scope(engine) as session:
        session.add_all(rows)
    with Session(engine) as session:
        for model, expected in written.items():
            stored = session.exec(select(model)).all()
            assert len(stored) == 1, model.__name__
            got = stored[0].model_dump()
            for field, value in expected.items():
                if value is None and field == "id":
                    continue  # autoincrement ids are assigned by the database
                assert got[field] == value, f"{model.__name__}.{field}"
    assert {type(r).__tablename__ for r in rows} == ALL_TABLES  # type: ignore[attr-defined]


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    plus7 = timezone(timedelta(hours=7))  # Vietnam
    local = datetime(2026, 3, 1, 19, 30, tzinfo=plus7)
    with session_scope(engine) as session:
        session.add(SyncCursor(connection="c", stream="s", modified_at=local))
    with Session(engine) as session:
        cursor = session.exec(select(SyncCursor)).one()
    assert cursor.modified_at == WHEN
    assert cursor.modified_at is not None
    assert cursor.modified_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="naive datetime"), session_scope(engine) as session:
        session.add(SyncCursor(connection="c", stream="s", modified_at=datetime(2026, 1, 1)))


def test_push_ledger_is_unique_per_record_field(engine: Engine) -> None:
    def entry() -> PushLedger:
        return PushLedger(
            connection="hs", crm_object="contacts", crm_id="101", field="cem_score", value_hash="1"
        )

    with session_scope(engine) as session:
        session.add(entry())
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(entry())


def test_task_key_is_unique_per_connection(engine: Engine) -> None:
    def task() -> TaskLedger:
        return TaskLedger(connection="hs", task_key="same", customer_id="c", playbook="p")

    with session_scope(engine) as session:
        session.add(task())
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(task())


def test_job_state_and_progress_update(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Job(id="j2", kind="rescore"))
    with session_scope(engine) as session:
        job = session.get(Job, "j2")
        assert job is not None
        assert job.state == JobState.QUEUED
        job.state = JobState.RUNNING
        job.progress = {"scored": 5}
        session.add(job)
    with Session(engine) as session:
        job = session.get(Job, "j2")
        assert job is not None
        assert (job.state, job.progress) == (JobState.RUNNING, {"scored": 5})
