"""The contract suite's harness on the Zendesk emulator (sandbox/core/harness.py)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import httpx

from adapters.mapping import load_mappings
from adapters.retry import RetryPolicy
from adapters.zendesk.client import ZendeskClient
from adapters.zendesk.reader import ZendeskReader
from adapters.zendesk.settings import ZendeskSettings
from adapters.zendesk.writer import ZendeskWriter
from sandbox.core.harness import TEST_POLICY
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.zendesk.app import create_app
from sandbox.zendesk.config import Exports, RateLimits, ZendeskConfig
from sandbox.zendesk.emulator import ZendeskEmulator
from service.ports import Stream

SEED = 5


class ZendeskHarness:
    """The Zendesk emulator on loopback HTTP, read and written by our connector."""

    crm = "zendesk"
    data_path = "/incremental/users/cursor.json"
    api_routes = "* /api/v2/*"
    batch_size = 100  # users per update_many job
    customer_object = "users"
    daily_quota = False  # Zendesk limits requests per minute only
    # What a helpdesk holds: no transactions (orders and deals live in the CRM).
    canonical_kinds = frozenset({"owner", "account", "customer", "interaction", "case", "survey"})

    def __init__(self, customers: int, page_size: int, policy: RetryPolicy = TEST_POLICY) -> None:
        self.policy = policy
        # The users export carries the account's agents too (staff are users in Zendesk): a
        # page a tenth larger than asked keeps the few agents from adding a page of their own,
        # so the suite's one-call-per-page count holds for the customers it counts.
        self.page_size = min(page_size + page_size // 10, 1000)  # the export's largest page
        # Limits and the export's last-minute exclusion are tested on their own
        # (tests/sandbox/zendesk/); the contract suite creates records and reads them at once.
        self.config = ZendeskConfig(
            rate_limits=RateLimits(enabled=False),
            exports=Exports(exclude_last_seconds=0, too_recent_seconds=0),
        )
        self.emulator = ZendeskEmulator(self.config)
        self.emulator.load(generate(seed=SEED, customers=customers), seed=SEED, customers=customers)
        self.server = SandboxServer(create_app(emulator=self.emulator))
        self.mappings = load_mappings()

    def __enter__(self) -> ZendeskHarness:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)
        self.emulator.close()

    def settings(self, **overrides: Any) -> ZendeskSettings:
        values: dict[str, Any] = {
            "kind": "zendesk",
            "base_url": self.server.base_url,
            "email": self.config.admin_email,
            "api_token": self.config.api_token,
            "read_timeout": 3.0,
            "lookback_seconds": 60,
            "export_page_size": self.page_size,
            # This emulator enforces no limits here: nothing to pace. A number, not None, so
            # that settings passed on as environment variables (the CLI tests) keep it.
            "incremental_per_minute": 1_000_000,
            "job_timeout_seconds": 20.0,
        }
        if "client_secret" in overrides:  # "bad credentials" means a wrong API token here
            overrides = {"api_token": overrides.pop("client_secret"), **overrides}
        values.update(overrides)
        return ZendeskSettings(**values)

    def reader(self, **overrides: Any) -> ZendeskReader:
        settings = self.settings(**overrides)
        return ZendeskReader(
            ZendeskClient("zd-test", settings, self.policy),
            self.mappings,
            timedelta(seconds=settings.lookback_seconds),
        )

    def writer(self, **overrides: Any) -> ZendeskWriter:
        return ZendeskWriter(
            ZendeskClient("zd-test", self.settings(**overrides), self.policy), self.mappings
        )

    def customer_stream(self) -> Stream:
        return next(s for s in self.reader().streams() if s.name == "users")

    def _http(self) -> httpx.Client:
        pair = f"{self.config.admin_email}/token:{self.config.api_token}".encode()
        return httpx.Client(
            base_url=self.server.base_url,
            headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
            timeout=10,
        )

    def _end_users(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        with self._http() as http:
            page = http.get("/api/v2/users.json", params={"role[]": "end-user", "page[size]": 100})
            while True:
                page.raise_for_status()
                body = page.json()
                rows.extend(body["users"])
                if not body["meta"]["has_more"]:
                    return rows
                page = http.get(body["links"]["next"])

    def customer_ids(self) -> list[str]:
        return [str(u["id"]) for u in self._end_users()]

    def create_customers(self, count: int, *, prefix: str) -> list[str]:
        ids: list[str] = []
        with self._http() as http:
            for i in range(count):
                user = {"name": f"{prefix}{i}", "email": f"{prefix.lower()}{i}@x.example"}
                answer = http.post("/api/v2/users.json", json={"user": user})
                answer.raise_for_status()
                ids.append(str(answer.json()["user"]["id"]))
        return ids

    def delete_customer(self, crm_id: str) -> None:
        with self._http() as http:
            http.delete(f"/api/v2/users/{crm_id}.json").raise_for_status()

    def ids_modified_since(self, when: datetime) -> set[str]:
        return {
            str(u["id"])
            for u in self._end_users()
            if datetime.fromisoformat(str(u["updated_at"]).replace("Z", "+00:00")) >= when
        }

    def field_value(self, crm_id: str, crm_field: str) -> Any:
        with self._http() as http:
            user = http.get(f"/api/v2/users/{crm_id}.json").json()["user"]
        if crm_field in user:
            return user[crm_field]
        return (user.get("user_fields") or {}).get(crm_field)

    def tasks_with_key(self, key: str) -> int:
        return 0  # Zendesk has no tasks


def harness(customers: int, page_size: int) -> ZendeskHarness:
    return ZendeskHarness(customers, page_size)
