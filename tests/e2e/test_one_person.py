"""One person across both sandbox CRMs, as the demo loads them (`sandbox.demo`): the same
generated people in Salesforce and HubSpot, written differently and with different histories in
each. After both syncs each person is one customer with a record in each CRM holding them (role
mailboxes excepted), both CRMs show the same person's scores, and erasing the person clears them
in both CRMs (asserted on what the sandboxes hold)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from adapters.registry import connection_settings
from sandbox.data.generate import generate
from sandbox.data.model import Person
from sandbox.demo import SANDBOX_SEED, SANDBOX_VARIANTS, first_people, split_customers
from sandbox.serving import RunningSandbox, ServeOptions, connection_values, start_sandbox
from sandbox.watch import HubSpotWatch, SalesforceWatch
from service.config import Settings
from service.domain import Channel, Interaction
from service.domain.identity import email_key
from service.main import build_connection, sync_stores
from service.scoring.customer import ScoringModels
from service.sentiment.settings import SentimentSettings
from service.store.database import make_engine, upgrade
from service.store.erasure import ErasureStore
from service.store.rescore_marks import RescoreMarks
from service.store.tables import CrmLink, EntityType, IdentityDecision, TaskLedger
from service.store.tasks import TaskLedgerRepository
from service.usecases.erase import ErasureStores, erase_customer
from service.usecases.ingest import ingest_interaction
from service.usecases.sync import Elsewhere, SyncReport, sync

RECORDS = 96  # 48 per CRM
SF, HS = "salesforce-one", "hubspot-one"


@dataclass
class World:
    engine: Engine
    settings: Settings
    sandboxes: dict[str, RunningSandbox]
    watches: dict[str, Any]


def _options(crm: str) -> ServeOptions:
    return ServeOptions(
        kinds=(crm,),
        customers=split_customers(RECORDS)[crm],
        seed=SANDBOX_SEED,
        first_customer=first_people(RECORDS)[crm],
        variant=SANDBOX_VARIANTS[crm],
        shared_contacts=True,
    )


# One world per test: several tests change it (erasure, a message, reruns), and pytest-xdist's
# work stealing may run a module's tests on one worker in any order.
@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sandboxes = {crm: start_sandbox(_options(crm)) for crm in ("salesforce", "hubspot")}
    sf: dict[str, Any] = sandboxes["salesforce"].info["salesforce"]
    hs: dict[str, Any] = sandboxes["hubspot"].info["hubspot"]
    database: Path = tmp_path_factory.mktemp("one-person") / "one.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",  # type: ignore[arg-type]
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
        connections={
            SF: connection_settings(connection_values(sandboxes["salesforce"].info, "salesforce")),
            HS: connection_settings(connection_values(sandboxes["hubspot"].info, "hubspot")),
        },
    )
    engine = make_engine(settings.database_url.get_secret_value())
    upgrade(engine)
    stores = sync_stores(settings, engine)
    for name in (SF, HS):
        connection = build_connection(settings, name)
        connection.writer.provision(dry_run=False)
        sync(name, connection.reader, connection.writer, stores, datetime.now(UTC))
    watches = {
        SF: SalesforceWatch(sf["base_url"], sf["session_id"], sf["ca_cert"]),
        HS: HubSpotWatch(hs["base_url"], hs["access_token"]),
    }
    try:
        yield World(engine, settings, sandboxes, watches)
    finally:
        for watch in watches.values():
            watch.close()
        for running in sandboxes.values():
            running.stop()
        engine.dispose()


def _records_by_person(engine: Engine) -> dict[str, dict[str, str]]:
    """person -> {connection: CRM id} of their customer records."""
    with Session(engine) as session:
        rows = session.exec(
            select(CrmLink.entity_id, CrmLink.connection, CrmLink.crm_id).where(
                CrmLink.entity_type == EntityType.CUSTOMER.value, CrmLink.crm_object != "?"
            )
        ).all()
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for person, connection, crm_id in rows:
        found[person][connection] = crm_id
    return found


def _generated_people() -> dict[str, dict[str, Person]]:
    """Generated person id -> {crm: the person as that CRM holds them}."""
    people: dict[str, dict[str, Person]] = defaultdict(dict)
    for crm in ("salesforce", "hubspot"):
        options = _options(crm)
        for record in generate(
            options.seed,
            options.customers,
            first=options.first_customer,
            variant=options.variant,
            shared_contacts=True,
        ):
            if isinstance(record, Person):
                people[record.id][crm] = record
    return people


def test_each_person_is_one_customer_with_a_record_in_each_crm(world: World) -> None:
    generated = _generated_people()
    in_both = {pid: crms for pid, crms in generated.items() if len(crms) == 2}
    # The demo's share: a record in both CRMs for about three in five people.
    assert 0.55 <= len(in_both) / len(generated) <= 0.75
    # Different spellings in the two CRMs (the identity rules make them one).
    assert any(c["salesforce"].email != c["hubspot"].email for c in in_both.values())
    mailboxes = {pid for pid, c in in_both.items() if email_key(c["salesforce"].email) is None}
    linkable = len(in_both) - len(mailboxes)
    records = _records_by_person(world.engine)
    assert sum(len(r) for r in records.values()) == RECORDS
    # Everyone in both CRMs is one person, except those who gave a company mailbox: two.
    assert sum(1 for r in records.values() if len(r) == 2) == linkable
    assert len(records) == len(generated) + len(mailboxes)
    with Session(world.engine) as session:
        rules = Counter(session.exec(select(IdentityDecision.rule)).all())
    # A national number in one CRM and an international one in the other agree (read in the
    # region of the person's language), so many links rest on both; none on a phone alone.
    assert rules["email+phone"] > 0
    assert set(rules) <= {"email", "email+phone"}
    assert sum(rules.values()) == linkable


def test_each_crm_gets_tasks_once_and_scores_from_the_whole_history(world: World) -> None:
    records = _records_by_person(world.engine)
    with Session(world.engine) as session:
        tasks = session.exec(select(TaskLedger.connection, TaskLedger.customer_id)).all()
    per_crm = Counter((connection, person) for connection, person in tasks)
    both = {person for person, r in records.items() if len(r) == 2}
    # People in both CRMs got their tasks in each CRM (the ledger is keyed per connection).
    assert {c for c, p in per_crm if p in both} == {SF, HS}
    seen = {name: world.watches[name].look(sorted(r[name] for r in records.values() if name in r))
            for name in (SF, HS)}  # fmt: skip
    for name, looks in seen.items():
        for crm_id, look in looks.items():
            ours = sum(1 for c, p in tasks if c == name and records[p].get(name) == crm_id)
            assert len(look.task_keys) == ours, (name, crm_id)
    stores = sync_stores(world.settings, world.engine)

    def rerun(name: str) -> SyncReport:
        connection = build_connection(world.settings, name)
        return sync(name, connection.reader, connection.writer, stores, datetime.now(UTC))

    # Salesforce synced first, before HubSpot's half of these people was known: HubSpot's sync
    # marked them, so Salesforce's next sync scores them from their whole history and pushes.
    first = rerun(SF)
    assert first.scored >= len(both)
    assert first.pushed > 0
    for name in (HS, SF):
        again = rerun(name)
        assert (again.scored, again.tasks_created, again.pushed) == (0, 0, 0), name


def test_erasing_a_person_clears_them_in_both_crms(world: World) -> None:
    records = _records_by_person(world.engine)
    person, ids = next((p, r) for p, r in sorted(records.items()) if len(r) == 2)
    before = {name: world.watches[name].look([ids[name]])[ids[name]] for name in (SF, HS)}
    # Both CRMs got the person's scores.
    assert all(seen.scored_at for seen in before.values()), before
    report = erase_customer(
        person,
        lambda name: build_connection(world.settings, name).writer,
        ErasureStores(ErasureStore(world.engine), TaskLedgerRepository(world.engine)),
    )
    assert report.records_cleared == 2
    after = {name: world.watches[name].look([ids[name]])[ids[name]] for name in (SF, HS)}
    for name, seen in after.items():
        assert seen.scored_at in (None, ""), (name, seen)
        assert not seen.flag, (name, seen)
    assert person not in _records_by_person(world.engine)
    assert ErasureStore(world.engine).footprint(person) is None


def test_a_message_in_one_crm_marks_the_person_for_the_other(world: World) -> None:
    """A posted message changes the person through one CRM; the other CRM's next sync scores
    them again (as a sync or a CRM webhook would), so both CRMs keep the same scores."""
    records = _records_by_person(world.engine)
    person, ids = next((p, r) for p, r in sorted(records.items(), reverse=True) if len(r) == 2)
    stores = sync_stores(world.settings, world.engine)
    connection = build_connection(world.settings, SF)
    now = datetime.now(UTC)
    message = Interaction(
        id="one-person-message-1",
        customer_id=ids[SF],
        channel=Channel.CHAT,
        occurred_at=now,
        text="The parcel was late again and nobody answered the phone.",
        language="en",
    )
    marks = RescoreMarks(world.engine)
    assert person not in marks.pending(HS)
    result = ingest_interaction(
        SF, connection.reader, connection.writer, stores, message, now,
        analyzer=None, models=ScoringModels(),
    )  # fmt: skip
    assert result.customer_id == person
    assert person in marks.pending(HS)


def test_a_complaint_in_one_crm_reaches_the_other_at_once_in_real_time(world: World) -> None:
    """The real-time paths (a posted message, a CRM or source webhook) act on the person's other
    connections at once: the other CRM gets the new scores now, and the mark that would have
    waited for its next sync is taken."""
    records = _records_by_person(world.engine)
    person, ids = next((p, r) for p, r in sorted(records.items()) if len(r) == 2)
    stores = sync_stores(world.settings, world.engine)
    connection = build_connection(world.settings, SF)
    now = datetime.now(UTC)
    before = world.watches[HS].look([ids[HS]])[ids[HS]]
    message = Interaction(
        id="one-person-complaint-1",
        customer_id=ids[SF],
        channel=Channel.CHAT,
        occurred_at=now,
        text="Terrible. The parcel is two weeks late, it arrived broken, I want my money back.",
        language="en",
    )
    elsewhere = Elsewhere(
        lambda name: build_connection(world.settings, name).writer,
        lambda _name: ScoringModels(),
        world.settings.connections,
    )
    result = ingest_interaction(
        SF, connection.reader, connection.writer, stores, message, now,
        analyzer=None, models=ScoringModels(), elsewhere=elsewhere,
    )  # fmt: skip
    assert result.customer_id == person
    assert person not in RescoreMarks(world.engine).pending(HS)
    after = world.watches[HS].look([ids[HS]])[ids[HS]]
    # HubSpot holds the scoring made now, for the message that came in through Salesforce.
    assert after.scored_at != before.scored_at
    assert result.report.pushed >= 2  # the person's record in each CRM


def test_both_crms_get_the_same_churn_risk_for_one_person(world: World) -> None:
    """One purchase model for every connection, fitted on whole histories: scored at the same
    instant, a person's risk is the same in each CRM holding them."""
    stores = sync_stores(world.settings, world.engine)
    as_of = datetime.now(UTC)
    for name in (SF, HS, SF):  # the last pass takes the marks HubSpot's left for Salesforce
        connection = build_connection(world.settings, name)
        sync(name, connection.reader, connection.writer, stores, as_of)
    both = {p: r for p, r in _records_by_person(world.engine).items() if len(r) == 2}
    seen = {
        name: world.watches[name].look(sorted(r[name] for r in both.values())) for name in (SF, HS)
    }
    compared = 0
    for ids in both.values():
        if ids[SF] not in seen[SF] or ids[HS] not in seen[HS]:
            continue  # a lead: the watch reads contacts
        sf, hs = seen[SF][ids[SF]].risk, seen[HS][ids[HS]].risk
        assert (sf is None) == (hs is None), ids
        if sf is not None and hs is not None:
            assert sf == pytest.approx(hs, abs=1e-6), ids
            compared += 1
    assert compared >= len(both) // 2
