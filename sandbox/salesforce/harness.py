"""The contract suite's harness on the Salesforce emulator (sandbox/core/harness.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from adapters.mapping import load_mappings
from adapters.retry import RetryPolicy
from adapters.salesforce import soql
from adapters.salesforce.client import SalesforceClient
from adapters.salesforce.connector import TASK_KEY_FIELD
from adapters.salesforce.reader import SalesforceReader
from adapters.salesforce.settings import SalesforceSettings
from adapters.salesforce.writer import SalesforceWriter
from sandbox.core.harness import TEST_POLICY
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.salesforce.app import create_app, emulator_of
from sandbox.salesforce.config import SalesforceConfig
from service.ports import Stream


class SalesforceHarness:
    """The Salesforce emulator on loopback TLS, read and written by our adapter."""

    crm = "salesforce"
    data_path = "/query"
    api_routes = "* /services/data/*"
    batch_size = 200
    customer_object = "Contact"

    def __init__(self, customers: int, page_size: int, policy: RetryPolicy = TEST_POLICY) -> None:
        self.page_size = page_size
        self.policy = policy
        self.config = SalesforceConfig(page_size=page_size)
        self.app = create_app(self.config)
        self.emulator = emulator_of(self.app)
        self.emulator.load(generate(seed=5, customers=customers))
        self.server = SandboxServer(self.app, tls=True)
        self.mappings = load_mappings()

    def __enter__(self) -> SalesforceHarness:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)

    def settings(self, **overrides: Any) -> SalesforceSettings:
        values: dict[str, Any] = {
            "kind": "salesforce",
            "base_url": self.server.base_url,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "ca_bundle": self.server.ca_path,
            "read_timeout": 3.0,
            "lookback_seconds": 60,
        }
        values.update(overrides)
        return SalesforceSettings(**values)

    def client(self, **overrides: Any) -> SalesforceClient:
        return SalesforceClient("sf-test", self.settings(**overrides), self.policy)

    def reader(self, **overrides: Any) -> SalesforceReader:
        settings = self.settings(**overrides)
        return SalesforceReader(
            SalesforceClient("sf-test", settings, self.policy),
            self.mappings,
            timedelta(seconds=settings.lookback_seconds),
        )

    def writer(self, **overrides: Any) -> SalesforceWriter:
        return SalesforceWriter(self.client(**overrides), self.mappings)

    def customer_stream(self) -> Stream:
        return next(s for s in self.reader().streams() if s.name == "Contact")

    def _sdk(self) -> Any:
        client = self.client()
        return client._connect()

    def customer_ids(self) -> list[str]:
        return [str(r["Id"]) for r in self._sdk().query_all("SELECT Id FROM Contact")["records"]]

    def create_customers(self, count: int, *, prefix: str) -> list[str]:
        sdk = self._sdk()
        ids: list[str] = []
        for start in range(0, count, 200):
            records = [
                {"attributes": {"type": "Contact"}, "LastName": f"{prefix}{i}"}
                for i in range(start, min(count, start + 200))
            ]
            results = sdk.restful(
                "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
            )
            ids.extend(str(r["id"]) for r in results)
        return ids

    def delete_customer(self, crm_id: str) -> None:
        self._sdk().Contact.delete(crm_id)

    def ids_modified_since(self, when: datetime) -> set[str]:
        query = soql.select(["Id"], "Contact", f"SystemModstamp >= {soql.literal(when)}")
        return {str(r["Id"]) for r in self._sdk().query_all(query)["records"]}

    def field_value(self, crm_id: str, crm_field: str) -> Any:
        return self._sdk().Contact.get(crm_id)[crm_field]

    def tasks_with_key(self, key: str) -> int:
        result = self._sdk().query(
            soql.select(["Id"], "Task", f"{TASK_KEY_FIELD} = {soql.literal(key)}")
        )
        return int(result["totalSize"])


def harness(customers: int, page_size: int) -> SalesforceHarness:
    return SalesforceHarness(customers, page_size)
