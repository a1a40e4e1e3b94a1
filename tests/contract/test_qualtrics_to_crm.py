"""The product need end to end: a Qualtrics respondent is the CRM contact they are (by e-mail,
and by the CRM contact id the survey was sent with), and their answer reaches that contact's
scores in the CRM — at the CRM's next sync, and at once when Qualtrics posts the event.

The HubSpot and Qualtrics emulators load the same generated persons (same seed and range); the
Qualtrics emulator is given the HubSpot contact id of each person (`crm_contact_id`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.mapping import load_mappings
from adapters.qualtrics.client import QualtricsClient
from adapters.qualtrics.reader import QualtricsReader
from adapters.qualtrics.records import respondent_key
from adapters.qualtrics.writer import QualtricsSubscriber
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.data.model import Person
from sandbox.hubspot.app import create_app as create_hubspot
from sandbox.hubspot.config import HubSpotConfig, RateLimits
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.qualtrics.app import ADMIN, API
from sandbox.qualtrics.app import create_app as create_qualtrics
from sandbox.qualtrics.emulator import QualtricsConfig, QualtricsEmulator
from sandbox.qualtrics.surveys import BY_KIND
from service.api.services import services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.usecases.sync import sync
from tests.contract.harness import TEST_POLICY

SEED, CUSTOMERS = 7, 40
HS, Q = "crm", "surveys"
TOKEN = "pat-na1-qualtrics-e2e"
KEY = "qualtrics-e2e-shared-key"
CES = BY_KIND["ces"].id


@dataclass
class World:
    app: Any
    settings: Settings
    hubspot: str
    brand: str
    service: str
    qualtrics: QualtricsEmulator
    contact_of: dict[str, str]  # generator person id -> HubSpot contact id
    persons: dict[str, Person]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    records = list(generate(seed=SEED, customers=CUSTOMERS))
    persons = {r.id: r for r in records if isinstance(r, Person)}
    hubspot = HubSpotEmulator(
        HubSpotConfig(
            access_token=TOKEN, rate_limits=RateLimits(enabled=False), search_lag_seconds=0
        )
    )
    loaded = hubspot.load(records)
    contact_of = {p: loaded.ids[p] for p in persons if p in loaded.ids}
    qualtrics = QualtricsEmulator(QualtricsConfig(rate_per_minute=None))
    qualtrics.load(records, crm_ids=contact_of)
    database: Path = tmp_path_factory.mktemp("qualtrics-crm") / "e2e.db"
    with (
        SandboxServer(create_hubspot(emulator=hubspot)) as hs,
        SandboxServer(create_qualtrics(emulator=qualtrics)) as brand,
    ):
        settings = Settings(
            database_url=f"sqlite:///{database}",  # type: ignore[arg-type]
            log_format="text",  # type: ignore[arg-type]
            jobs=JobSettings(enabled=False),
            sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
            connections={  # type: ignore[dict-item]
                HS: {
                    "kind": "hubspot",
                    "base_url": hs.base_url,
                    "access_token": TOKEN,
                    "search_per_second": None,
                },
                Q: {
                    "kind": "qualtrics",
                    "base_url": brand.base_url,
                    "api_token": qualtrics.config.api_token,
                    "webhook_secret": KEY,
                },
            },
        )
        app = create_app(settings)
        state = services_of(app)
        for name in (HS, Q):
            wiring = state.build_connection(name)
            if name == HS:
                wiring.writer.provision(dry_run=False)
            sync(name, wiring.reader, wiring.writer, state.sync_stores(), datetime.now(UTC))
        with SandboxServer(app) as service:
            yield World(
                app, settings, hs.base_url, brand.base_url, service.base_url, qualtrics,
                contact_of, persons,
            )  # fmt: skip
        hubspot.close()


def _contact(world: World, contact_id: str, prop: str) -> Any:
    answer = httpx.get(
        f"{world.hubspot}/crm/v3/objects/contacts/{contact_id}",
        params={"properties": prop},
        headers={"Authorization": f"Bearer {TOKEN}"},
        trust_env=False,
    )
    answer.raise_for_status()
    return answer.json()["properties"].get(prop)


def test_each_respondent_is_the_crm_contact_they_are(world: World) -> None:
    records = services_of(world.app).sync_stores().records
    smap = QualtricsReader(
        QualtricsClient(Q, world.settings.connections[Q], TEST_POLICY),  # type: ignore[arg-type]
        load_mappings(),
        timedelta(seconds=60),
    ).surveys()[0]
    truth = [t for t in world.qualtrics.truth() if t["finished"]]
    checked = 0
    for fact in truth:
        response = world.qualtrics.response(fact["surveyId"], fact["responseId"])
        contact = world.contact_of[fact["personId"]]
        key = respondent_key(response.values(), smap, response.id)
        respondent = records.known_customer(Q, key)
        assert respondent is not None
        if world.persons[fact["personId"]].email.split("@")[0] in ("info", "sales", "support"):
            continue  # a role mailbox links no one by e-mail (the CRM id still may)
        assert respondent == records.known_customer(HS, contact), fact
        checked += 1
    assert checked > 20


def test_a_survey_answer_reaches_the_crm_contact_at_once(world: World) -> None:
    person = next(iter(world.contact_of))
    contact = world.contact_of[person]
    settings = world.settings.connections[Q].model_copy(
        update={"publication_url": f"{world.service}/v1/webhooks/qualtrics"}
    )
    client = QualtricsClient(Q, settings, TEST_POLICY)  # type: ignore[arg-type]
    reader = QualtricsReader(client, load_mappings(), timedelta(seconds=60))
    QualtricsSubscriber(client, reader.surveys()).provision(dry_run=False)
    values = {
        "QID1": 1,
        "QID2_TEXT": "Impossible to reach anyone, terrible support. I am very disappointed.",
        "email": world.persons[person].email,
        "crm_contact_id": contact,
        "language": "en",
    }
    headers = {"X-API-TOKEN": world.qualtrics.config.api_token}
    with httpx.Client(trust_env=False, timeout=60) as http:
        created = http.post(
            f"{world.brand}{API}/surveys/{CES}/responses", json={"values": values}, headers=headers
        )
        rid = created.json()["result"]["responseId"]
        sent = http.post(
            f"{world.brand}{ADMIN}/events/send", json={"surveyId": CES, "responseId": rid}
        )
    [delivery] = sent.json()["deliveries"]
    assert delivery["status"] == 200, delivery
    accepted = json.loads(delivery["answer"])
    assert accepted["reread"] == 1
    assert accepted["fields_pushed"] >= 1, accepted  # pushed to the CRM contact, not Qualtrics
    assert float(_contact(world, contact, "cem_last_ces")) == 1.0
