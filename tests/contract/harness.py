"""What the ONE contract suite needs from each CRM: a running sandbox, an adapter, and a way to
change records behind the adapter's back. One `Harness` per CRM; the tests are shared."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests

from adapters.mapping import load_mappings
from adapters.retry import RetryPolicy
from adapters.salesforce import soql
from adapters.salesforce.client import SalesforceClient
from adapters.salesforce.reader import SalesforceReader
from adapters.salesforce.writer import SalesforceWriter
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.salesforce.app import create_app, emulator_of
from sandbox.salesforce.config import SalesforceConfig
from service.config import ConnectionSettings, CrmKind
from service.ports import CrmReader, CrmWriter, Stream

# Fast retries: the policy is the production one, only the waits are short.
TEST_POLICY = RetryPolicy(max_attempts=8, max_elapsed_seconds=60, base_delay=0.01, max_delay=0.05)


class Harness(Protocol):
    crm: str
    page_size: int
    batch_size: int
    customer_object: str
    server: SandboxServer

    def settings(self, **overrides: Any) -> ConnectionSettings: ...
    def reader(self, **overrides: Any) -> CrmReader: ...
    def writer(self, **overrides: Any) -> CrmWriter: ...
    def customer_stream(self) -> Stream: ...
    def customer_ids(self) -> list[str]: ...
    def create_customers(self, count: int, *, prefix: str) -> list[str]: ...
    def delete_customer(self, crm_id: str) -> None: ...
    def ids_modified_since(self, when: datetime) -> set[str]: ...
    def field_value(self, crm_id: str, crm_field: str) -> Any: ...
    def tasks_with_key(self, key: str) -> int: ...


@dataclass
class SandboxAdmin:
    """The `/__sandbox/` API of one emulator."""

    server: SandboxServer

    def _url(self, path: str) -> str:
        return f"{self.server.base_url}/__sandbox/{path}"

    def _session(self) -> requests.Session:
        return self.server.session()

    def reset(self) -> None:
        self._session().post(self._url("reset")).raise_for_status()

    def faults(self, rules: list[dict[str, Any]], seed: int = 1) -> None:
        body = {"name": "test", "seed": seed, "rules": rules}
        self._session().put(self._url("faults"), json=body).raise_for_status()

    def clear_requests(self) -> None:
        self._session().delete(self._url("requests")).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        body = self._session().get(self._url("requests"), params={"limit": 100_000}).json()
        entries: list[dict[str, Any]] = body["entries"]
        return [e for e in entries if not str(e.get("path", "")).startswith("/__sandbox")]

    def advance_clock(self, seconds: float) -> None:
        self._session().post(self._url("clock"), json={"advance": seconds}).raise_for_status()


def calls_for(n: int, per_call: int) -> int:
    return math.ceil(n / per_call)


class SalesforceHarness:
    """The Salesforce emulator on loopback TLS, read and written by our adapter."""

    crm = "salesforce"
    batch_size = 200
    customer_object = "Contact"

    def __init__(self, customers: int, page_size: int) -> None:
        self.page_size = page_size
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

    def settings(self, **overrides: Any) -> ConnectionSettings:
        values: dict[str, Any] = {
            "kind": CrmKind.SALESFORCE,
            "base_url": self.server.base_url,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "ca_bundle": self.server.ca_path,
            "read_timeout": 3.0,
            "lookback_seconds": 60,
        }
        values.update(overrides)
        return ConnectionSettings(**values)

    def client(self, **overrides: Any) -> SalesforceClient:
        return SalesforceClient("sf-test", self.settings(**overrides), TEST_POLICY)

    def reader(self, **overrides: Any) -> SalesforceReader:
        settings = self.settings(**overrides)
        return SalesforceReader(
            SalesforceClient("sf-test", settings, TEST_POLICY),
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
        query = f"SELECT Id FROM Contact WHERE SystemModstamp >= {soql.literal(when)}"
        return {str(r["Id"]) for r in self._sdk().query_all(query)["records"]}

    def field_value(self, crm_id: str, crm_field: str) -> Any:
        return self._sdk().Contact.get(crm_id)[crm_field]

    def tasks_with_key(self, key: str) -> int:
        result = self._sdk().query(f"SELECT Id FROM Task WHERE CEM_Task_Key__c = '{key}'")
        return int(result["totalSize"])


def drain(reader: CrmReader, stream: Stream, cursor: Any = None) -> Iterator[Any]:
    yield from reader.pull(stream, cursor)


def ids_of(batches: Sequence[Any]) -> list[str]:
    return [r.id for b in batches for r in b.records]
