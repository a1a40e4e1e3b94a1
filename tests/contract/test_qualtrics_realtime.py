"""Real time from Qualtrics: `cem setup`'s writer subscribes the running service to the
surveys' completed-response events; the emulator's sender posts a signed form event to
`POST /v1/webhooks/qualtrics`; the service verifies the HMAC-SHA512, re-reads the response by
id, stores the respondent's answer and comment (with its sentiment) and scores the person."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from adapters.qualtrics.client import QualtricsClient
from adapters.qualtrics.reader import QualtricsReader
from adapters.qualtrics.writer import QualtricsSubscriber
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.qualtrics.app import ADMIN, API
from sandbox.qualtrics.app import create_app as create_qualtrics
from sandbox.qualtrics.emulator import QualtricsConfig, QualtricsEmulator
from sandbox.qualtrics.surveys import BY_KIND
from service.api.services import services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from tests.contract.harness import TEST_POLICY

NPS = BY_KIND["nps"].id
KEY = "qualtrics-realtime-shared-key"
NAME = "survey"
COMPLAINT = (
    "Terrible delivery, two weeks late and the box was damaged. I am very disappointed and "
    "I will cancel."
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class World:
    emulator: QualtricsEmulator
    brand: str
    service: str
    app: Any
    settings: Any


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    emulator = QualtricsEmulator(QualtricsConfig(rate_per_minute=None))
    emulator.load(generate(seed=11, customers=60))
    database: Path = tmp_path_factory.mktemp("qualtrics-rt") / "rt.db"
    with SandboxServer(create_qualtrics(emulator=emulator)) as brand:
        connection = {
            "kind": "qualtrics",
            "base_url": brand.base_url,
            "api_token": emulator.config.api_token,
            "webhook_secret": KEY,
        }
        settings = Settings(
            database_url=f"sqlite:///{database}",  # type: ignore[arg-type]
            log_format="text",  # type: ignore[arg-type]
            jobs=JobSettings(enabled=False),
            sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
            connections={NAME: connection},  # type: ignore[dict-item]
        )
        app = create_app(settings)
        with SandboxServer(app) as service:
            yield World(emulator, brand.base_url, service.base_url, app, settings)


def _subscribe(world: World) -> Any:
    settings = world.settings.connections[NAME].model_copy(
        update={"publication_url": f"{world.service}/v1/webhooks/qualtrics"}
    )
    client = QualtricsClient(NAME, settings, TEST_POLICY)
    from datetime import timedelta

    from adapters.mapping import load_mappings

    reader = QualtricsReader(client, load_mappings(), timedelta(seconds=60))
    return QualtricsSubscriber(client, reader.surveys()).provision(dry_run=False)


def test_a_signed_event_is_reread_stored_and_scored(world: World) -> None:
    report = _subscribe(world)
    assert len(report.created) == 3
    values = {
        "QID1": 1,
        "QID2_TEXT": COMPLAINT,
        "email": "unhappy.buyer@x.example",
        "language": "en",
    }
    with httpx.Client(trust_env=False, timeout=30) as http:
        created = http.post(
            f"{world.brand}{API}/surveys/{NPS}/responses",
            json={"values": values},
            headers={"X-API-TOKEN": world.emulator.config.api_token},
        )
        rid = created.json()["result"]["responseId"]
        sent = http.post(
            f"{world.brand}{ADMIN}/events/send", json={"surveyId": NPS, "responseId": rid}
        ).json()["deliveries"]
    assert [d["status"] for d in sent] == [200], sent
    accepted = json.loads(sent[0]["answer"])
    assert accepted["reread"] == 1
    assert accepted["customers_rescored"] == 1
    records = services_of(world.app).sync_stores().records
    key = "em-" + hashlib.sha256(b"unhappy.buyer@x.example").hexdigest()[:32]
    person = records.known_customer(NAME, key)
    assert person is not None
    history = records.history([person])[person]
    assert [(s.kind.value, s.value) for s in history.surveys] == [("nps", 1.0)]
    # (the store keeps no message text unless CEM_KEEP_MESSAGE_TEXT: the sentiment stays)
    [said] = history.interactions
    assert said.channel.value == "survey"
    assert said.sentiment is not None
    assert said.sentiment.label.value == "negative"


def test_unsigned_forged_and_non_form_bodies_are_refused(world: World) -> None:
    fields = {"Topic": f"cembridge.surveyengine.completedResponse.{NPS}", "SurveyID": NPS}
    message = json.dumps({"SurveyID": NPS, "ResponseID": "R_forgedforgedfor"})
    forged = hmac.new(b"not-the-key", message.encode(), hashlib.sha512).hexdigest()
    url = f"{world.service}/v1/webhooks/qualtrics"
    with httpx.Client(trust_env=False, timeout=30) as http:
        for body in (
            urlencode(fields),
            urlencode({"Topic": fields["Topic"], "HMAC": forged, "MSG": message}),
            "{not a form}",
        ):
            answer = http.post(url, content=body, headers=FORM)
            assert answer.status_code == 401, answer.text
        good = hmac.new(KEY.encode(), b"[1]", hashlib.sha512).hexdigest()
        wrong_shape = urlencode({"Topic": fields["Topic"], "HMAC": good, "MSG": "[1]"})
        assert http.post(url, content=wrong_shape, headers=FORM).status_code == 422
