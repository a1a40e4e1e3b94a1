"""One customer across the CRM and the systems beside it, end to end over HTTP: HubSpot, Zendesk
and Zalo emulators served with one seed (as `cem sandbox serve --crm hubspot --crm zendesk --crm
zalo` does), each synced through its real client. A Vietnamese customer who is a HubSpot contact,
a Zendesk requester (the same e-mail) and a Zalo follower (their id on the contact, `refs.zalo`)
is one person, whose history, and so whose scores, holds what all three systems know; the fields
pushed to HubSpot and Zendesk come from that one scoring."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from adapters.registry import connection_settings
from sandbox.serving import RunningSandbox, ServeOptions, connection_values, start_sandbox
from service.api.services import Services, services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.store.tables import CrmLink, EntityType
from service.usecases.sync import sync

CONNECTIONS = {"hubspot": "shop-crm", "zendesk": "shop-help", "zalo": "shop-zalo"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, RunningSandbox]]:
    sandbox = start_sandbox(ServeOptions(kinds=tuple(CONNECTIONS), customers=64, seed=17))
    home = tmp_path_factory.mktemp("three-sources")
    settings = Settings(
        database_url=f"sqlite:///{home / 'three.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        jobs=JobSettings(enabled=False),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
        connections={
            name: connection_settings(connection_values(sandbox.info, kind))
            for kind, name in CONNECTIONS.items()
        },
    )
    state = services_of(create_app(settings))
    try:
        for name in CONNECTIONS.values():
            wiring = state.build_connection(name)
            wiring.writer.provision(dry_run=False)
            sync(name, wiring.reader, wiring.writer, state.sync_stores(), datetime.now(UTC),
                 analyzer=state.analyzer_factory())  # fmt: skip
        yield state, sandbox
    finally:
        sandbox.stop()


def _connections_by_person(state: Services) -> dict[str, set[str]]:
    with Session(state.engine) as session:
        rows = session.exec(
            select(CrmLink.entity_id, CrmLink.connection).where(
                CrmLink.entity_type == EntityType.CUSTOMER.value, CrmLink.crm_object != "?"
            )
        ).all()
    found: dict[str, set[str]] = defaultdict(set)
    for person, connection in rows:
        found[person].add(connection)
    return found


def test_a_person_in_all_three_systems_is_one_customer_scored_on_all_of_it(
    world: tuple[Services, RunningSandbox],
) -> None:
    state, _sandbox = world
    everywhere = set(CONNECTIONS.values())
    persons = [p for p, found in _connections_by_person(state).items() if found == everywhere]
    assert persons, "no generated person is in HubSpot, Zendesk and Zalo"
    records = state.sync_stores().records
    histories = records.history(persons, CONNECTIONS["hubspot"])
    with_all: list[str] = []
    for person in persons:
        history = histories[person]
        sources: dict[str, set[str]] = defaultdict(set)
        for item in [*history.interactions, *history.cases, *history.surveys]:
            if item.source is not None:
                sources[item.source.connection].add(type(item).__name__)
        # Zalo brings chats, Zendesk tickets (and their comments); HubSpot its own history.
        if {CONNECTIONS["zalo"], CONNECTIONS["zendesk"]} <= set(sources):
            assert "Interaction" in sources[CONNECTIONS["zalo"]]
            assert "Case" in sources[CONNECTIONS["zendesk"]]
            with_all.append(person)
    assert with_all, "no person in all three has history from both sources"
    # One scoring per person, stored once; each system that takes our fields got it.
    latest = state.sync_stores().scores.latest(with_all)
    assert set(latest) == set(with_all)
    for person in with_all:
        assert records.crm_ids(CONNECTIONS["hubspot"], [person])
        assert records.crm_ids(CONNECTIONS["zendesk"], [person])
        assert records.crm_ids(CONNECTIONS["zalo"], [person])


def test_people_are_counted_once_across_the_three_systems(
    world: tuple[Services, RunningSandbox],
) -> None:
    state, sandbox = world
    by_person = _connections_by_person(state)
    records = sum(len(found) for found in by_person.values())
    # Fewer persons than records: the systems' records of one customer are one person.
    assert len(by_person) < records
    # Every Zalo follower the emulator serves is a HubSpot contact's person here.
    zalo_people = {p for p, found in by_person.items() if CONNECTIONS["zalo"] in found}
    linked = {p for p in zalo_people if CONNECTIONS["hubspot"] in by_person[p]}
    assert zalo_people
    assert linked == zalo_people
    info: dict[str, Any] = sandbox.info
    assert set(info) >= set(CONNECTIONS)
