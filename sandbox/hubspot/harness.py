"""The contract suite's harness on the HubSpot emulator (sandbox/core/harness.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hubspot import HubSpot

from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.connector import TASK_KEY
from adapters.hubspot.reader import HubSpotReader
from adapters.hubspot.settings import HubSpotSettings
from adapters.hubspot.writer import HubSpotWriter
from adapters.mapping import load_mappings
from adapters.retry import RetryPolicy
from sandbox.core.harness import TEST_POLICY
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.hubspot.app import create_app as create_hubspot_app
from sandbox.hubspot.config import HubSpotConfig, RateLimits
from sandbox.hubspot.emulator import HubSpotEmulator
from service.ports import Stream


class HubSpotHarness:
    """The HubSpot emulator on loopback HTTP (the client honours http), read and written by us."""

    crm = "hubspot"
    data_path = "/search"
    api_routes = "* /crm/*"
    batch_size = 100
    page_size = 200  # CRM search page size
    customer_object = "contacts"
    token = "pat-na1-contract-tests"  # noqa: S105  (the emulator's test token)

    def __init__(self, customers: int, policy: RetryPolicy = TEST_POLICY) -> None:
        self.policy = policy
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

    def settings(self, **overrides: Any) -> HubSpotSettings:
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
        return HubSpotSettings(**values)

    def reader(self, **overrides: Any) -> HubSpotReader:
        settings = self.settings(**overrides)
        return HubSpotReader(
            HubSpotClient("hs-test", settings, self.policy),
            self.mappings,
            timedelta(seconds=settings.lookback_seconds),
        )

    def writer(self, **overrides: Any) -> HubSpotWriter:
        return HubSpotWriter(
            HubSpotClient("hs-test", self.settings(**overrides), self.policy), self.mappings
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
            1 for r in self._all("tasks", [TASK_KEY]) if r["properties"].get(TASK_KEY) == key
        )


def harness(customers: int, page_size: int) -> HubSpotHarness:
    del page_size  # CRM search pages are HubSpot's fixed 200
    return HubSpotHarness(customers)
