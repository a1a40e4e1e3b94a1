"""What the ONE contract suite needs from each CRM: a running sandbox, an adapter, and a way to
change records behind the adapter's back. One `Harness` per CRM; the tests are shared."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from hubspot import HubSpot

from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.reader import HubSpotReader
from adapters.hubspot.writer import HubSpotWriter
from adapters.mapping import load_mappings
from adapters.registry import connection_settings
from adapters.retry import RetryPolicy
from adapters.salesforce import soql
from adapters.salesforce.client import SalesforceClient
from adapters.salesforce.reader import SalesforceReader
from adapters.salesforce.writer import SalesforceWriter
from adapters.settings import ConnectionSettings
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.hubspot.app import create_app as create_hubspot_app
from sandbox.hubspot.config import HubSpotConfig, RateLimits
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.salesforce.app import create_app, emulator_of
from sandbox.salesforce.config import SalesforceConfig
from service.ports import CrmReader, CrmWriter, Stream

# Fast retries: the policy is the production one, only the waits are short.
TEST_POLICY = RetryPolicy(max_attempts=8, max_elapsed_seconds=60, base_delay=0.01, max_delay=0.05)


class Harness(Protocol):
    crm: str
    page_size: int
    data_path: str
    api_routes: str  # fault-rule pattern matching the CRM's data API (not its login)
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
        """No faults, real time again; records stay (the emulators' own reset may empty them)."""
        self.faults([])
        self._session().post(self._url("clock"), json={"reset": True}).raise_for_status()

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
    data_path = "/query"
    api_routes = "* /services/data/*"
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
            "kind": "salesforce",
            "base_url": self.server.base_url,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "ca_bundle": self.server.ca_path,
            "read_timeout": 3.0,
            "lookback_seconds": 60,
        }
        values.update(overrides)
        return connection_settings(**values)

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


class HubSpotHarness:
    """The HubSpot emulator on loopback HTTP (the client honours http), read and written by us."""

    crm = "hubspot"
    data_path = "/search"
    api_routes = "* /crm/*"
    batch_size = 100
    page_size = 200  # CRM search page size
    customer_object = "contacts"
    token = "pat-na1-contract-tests"

    def __init__(self, customers: int) -> None:
        self.config = HubSpotConfig(
            access_token=self.token, rate_limits=RateLimits(enabled=False), search_lag_seconds=0
        )
        self.emulator = HubSpotEmulator(self.config)
        self.emulator.load(generate(seed=5, customers=customers))
        self.server = SandboxServer(create_hubspot_app(emulator=self.emulator))
        self.mappings = load_mappings()

    def __enter__(self) -> HubSpotHarness:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)
        self.emulator.close()

    def settings(self, **overrides: Any) -> ConnectionSettings:
        values: dict[str, Any] = {
            "kind": "hubspot",
            "base_url": self.server.base_url,
            "access_token": self.token,
            "read_timeout": 3.0,
            "lookback_seconds": 60,
            # This emulator enforces no limits (and so states no window): nothing to pace.
            "search_per_second": None,
        }
        if "client_secret" in overrides:  # "bad credentials" means a wrong token here
            overrides = {"access_token": overrides.pop("client_secret"), **overrides}
        values.update(overrides)
        return connection_settings(**values)

    def reader(self, **overrides: Any) -> HubSpotReader:
        settings = self.settings(**overrides)
        return HubSpotReader(
            HubSpotClient("hs-test", settings, TEST_POLICY),
            self.mappings,
            timedelta(seconds=settings.lookback_seconds),
        )

    def writer(self, **overrides: Any) -> HubSpotWriter:
        return HubSpotWriter(
            HubSpotClient("hs-test", self.settings(**overrides), TEST_POLICY), self.mappings
        )

    def customer_stream(self) -> Stream:
        return next(s for s in self.reader().streams() if s.name == "contacts")

    def _sdk(self) -> HubSpot:
        return HubSpot(access_token=self.token, host=self.server.base_url)

    def _all(self, object_type: str, properties: list[str]) -> list[dict[str, Any]]:
        api = self._sdk().crm.objects.basic_api
        rows: list[dict[str, Any]] = []
        after = None
        while True:
            page = api.get_page(
                object_type, limit=100, after=after, properties=properties
            ).to_dict()
            rows.extend(page["results"])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if after is None:
                return rows

    def customer_ids(self) -> list[str]:
        return [str(r["id"]) for r in self._all("contacts", [])]

    def create_customers(self, count: int, *, prefix: str) -> list[str]:
        api = self._sdk().crm.objects.batch_api
        ids: list[str] = []
        for start in range(0, count, 100):
            inputs = [
                {
                    "properties": {
                        "firstname": f"{prefix}{i}",
                        "email": f"{prefix.lower()}{i}@x.example",
                    }
                }
                for i in range(start, min(count, start + 100))
            ]
            result = api.create("contacts", {"inputs": inputs}).to_dict()
            ids.extend(str(r["id"]) for r in result["results"])
        return ids

    def delete_customer(self, crm_id: str) -> None:
        self._sdk().crm.objects.basic_api.archive("contacts", crm_id)

    def ids_modified_since(self, when: datetime) -> set[str]:
        rows = self._all("contacts", ["lastmodifieddate"])
        return {
            str(r["id"])
            for r in rows
            if datetime.fromisoformat(
                str(r["properties"]["lastmodifieddate"]).replace("Z", "+00:00")
            )
            >= when
        }

    def field_value(self, crm_id: str, crm_field: str) -> Any:
        record = self._sdk().crm.objects.basic_api.get_by_id(
            "contacts", crm_id, properties=[crm_field]
        )
        return record.to_dict()["properties"][crm_field]

    def tasks_with_key(self, key: str) -> int:
        return sum(
            1
            for r in self._all("tasks", ["cem_task_key"])
            if r["properties"].get("cem_task_key") == key
        )
