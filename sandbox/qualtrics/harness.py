"""The contract suite's harness on the Qualtrics emulator (sandbox/core/harness.py).

The "customer stream" is the NPS survey's stream: what it yields for a response is the
respondent, the answer and the free text, so `customer_ids` names all three from the emulator's
own data. A new "customer" is a new respondent's completed response, posted through the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from adapters.mapping import load_mappings
from adapters.qualtrics.client import QualtricsClient
from adapters.qualtrics.reader import QualtricsReader
from adapters.qualtrics.records import COMMENTS, respondent_key
from adapters.qualtrics.settings import QualtricsSettings
from adapters.qualtrics.surveymap import survey_map
from adapters.qualtrics.writer import QualtricsSubscriber
from adapters.retry import RetryPolicy
from sandbox.core.harness import TEST_POLICY, PullShape
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.qualtrics.app import API, create_app
from sandbox.qualtrics.emulator import QualtricsConfig, QualtricsEmulator
from sandbox.qualtrics.responses import Response
from sandbox.qualtrics.surveys import BY_KIND
from service.ports import Canonical, Stream

NPS = BY_KIND["nps"].id
SHARED_KEY = "qualtrics-contract-shared-key"


class QualtricsHarness:
    """The Qualtrics emulator on loopback HTTP, read by our reader."""

    crm = "qualtrics"
    data_path = "/file"  # one export file per pull
    api_routes = "* /API/v3/*"
    batch_size = 100
    customer_object = NPS
    # One export file per pull, and no deletions (an export lists what exists).
    shape = PullShape(pages=False, deletes=False)

    def __init__(self, customers: int, page_size: int, policy: RetryPolicy = TEST_POLICY) -> None:
        self.policy = policy
        self.page_size = page_size
        self.emulator = QualtricsEmulator(QualtricsConfig(rate_per_minute=None))
        self.emulator.load(generate(seed=5, customers=customers))
        self.server = SandboxServer(create_app(emulator=self.emulator))
        self.mappings = load_mappings()
        self.survey = survey_map(self.mappings.get("qualtrics", NPS))

    def __enter__(self) -> QualtricsHarness:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)
        self.emulator.close()

    def settings(self, **overrides: Any) -> QualtricsSettings:
        values: dict[str, Any] = {
            "kind": "qualtrics",
            "base_url": self.server.base_url,
            "api_token": self.emulator.config.api_token,
            "read_timeout": 3.0,
            "lookback_seconds": 60,
            "export_poll_seconds": 0.01,
            "export_poll_max_seconds": 0.05,
            "batch_size": self.page_size,
            "publication_url": "http://127.0.0.1:9/v1/webhooks/qualtrics",
            "webhook_secret": SHARED_KEY,
        }
        if "client_secret" in overrides:  # "bad credentials" means a wrong token here
            overrides = {"api_token": overrides.pop("client_secret"), **overrides}
        values.update(overrides)
        return QualtricsSettings(**values)

    def client(self, **overrides: Any) -> QualtricsClient:
        return QualtricsClient("q-test", self.settings(**overrides), self.policy)

    def reader(self, **overrides: Any) -> QualtricsReader:
        settings = self.settings(**overrides)
        return QualtricsReader(
            QualtricsClient("q-test", settings, self.policy),
            self.mappings,
            timedelta(seconds=settings.lookback_seconds),
        )

    def writer(self, **overrides: Any) -> QualtricsSubscriber:
        reader = self.reader(**overrides)
        return QualtricsSubscriber(reader.client, reader.surveys())

    def customer_stream(self) -> Stream:
        return Stream(NPS, Canonical.SURVEY)

    def _ids(self, response: Response) -> list[str]:
        key = respondent_key(response.values(), self.survey, response.id)
        ids = [key, f"{response.id}-nps"]
        if response.comment:
            ids.append(f"{response.id}-{COMMENTS}")
        return ids

    def _finished(self) -> list[Response]:
        with self.emulator.lock:
            return [r for r in self.emulator.responses[NPS].values() if r.finished]

    def customer_ids(self) -> list[str]:
        return list(dict.fromkeys(i for r in self._finished() for i in self._ids(r)))

    def create_customers(self, count: int, *, prefix: str) -> list[str]:
        headers = {"X-API-TOKEN": self.emulator.config.api_token}
        ids: list[str] = []
        with httpx.Client(base_url=self.server.base_url + API, trust_env=False) as http:
            for i in range(count):
                values = {
                    "QID1": i % 11,
                    "finished": 1,
                    "email": f"{prefix.lower()}{i}@x.example",
                    "language": "en",
                }
                answer = http.post(
                    f"/surveys/{NPS}/responses", json={"values": values}, headers=headers
                )
                answer.raise_for_status()
                rid = answer.json()["result"]["responseId"]
                ids.extend(self._ids(self.emulator.response(NPS, rid)))
        return ids

    def delete_customer(self, crm_id: str) -> None:
        """Delete the responses of this respondent (or this response)."""
        for response in self._finished():
            if crm_id in self._ids(response):
                self.emulator.delete_response(NPS, response.id)

    def ids_modified_since(self, when: datetime) -> set[str]:
        return {i for r in self._finished() if r.recorded >= when for i in self._ids(r)}

    def field_value(self, crm_id: str, crm_field: str) -> Any:
        for response in self._finished():
            if crm_id in self._ids(response):
                return response.values().get(crm_field)
        return None

    def tasks_with_key(self, key: str) -> int:
        del key
        return 0  # Qualtrics holds no tasks


def harness(customers: int, page_size: int) -> QualtricsHarness:
    return QualtricsHarness(customers, page_size)
