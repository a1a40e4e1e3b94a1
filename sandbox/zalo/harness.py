"""The contract suite's harness on the Zalo emulator (sandbox/core/harness.py).

Zalo is read-only for cem-bridge: `writer()` is the `ReadOnlyWriter` the service gives such a
connection, and the suite leaves out the tests that need writes (`needs("push_fields")`...).
"Customers" are the OA's followers; creating one is a new follower, deleting one an unfollow,
and "modified since" is Zalo's own stamp, the Vietnamese day of the user's last interaction.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.mapping import load_mappings
from adapters.retry import RetryPolicy
from adapters.zalo.client import ZaloClient
from adapters.zalo.reader import ZaloReader, vietnam_day
from adapters.zalo.settings import ZaloSettings
from sandbox.core.harness import TEST_POLICY
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.zalo.app import create_app
from sandbox.zalo.config import ZaloConfig
from sandbox.zalo.emulator import ZaloEmulator
from service.ports import ReadOnlyWriter, Stream

SEED = 5


class ZaloHarness:
    """The Zalo emulator on loopback HTTP, read by our connector."""

    crm = "zalo"
    data_path = "/user/getlist"
    api_routes = "* /v[23].0/oa/*"  # the OpenAPI, not the OAuth endpoint
    batch_size = 50
    page_size = 50  # user/getlist's largest page
    customer_object = "followers"

    def __init__(self, customers: int, policy: RetryPolicy = TEST_POLICY) -> None:
        self.policy = policy
        self.config = ZaloConfig(requests_per_minute=None)
        self.emulator = ZaloEmulator(self.config)
        self.emulator.load(generate(seed=SEED, customers=customers), SEED, customers)
        self.server = SandboxServer(create_app(emulator=self.emulator))
        self.mappings = load_mappings()
        self._tokens = Path(tempfile.mkdtemp(prefix="cem-zalo-harness-"))

    def __enter__(self) -> ZaloHarness:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)
        self.emulator.close()
        shutil.rmtree(self._tokens, ignore_errors=True)

    def settings(self, **overrides: Any) -> ZaloSettings:
        cfg = self.config
        values: dict[str, Any] = {
            "kind": "zalo",
            "base_url": self.server.base_url,
            "oauth_url": f"{self.server.base_url}/v4/oa/access_token",
            "client_id": cfg.app_id,
            "client_secret": cfg.app_secret.get_secret_value(),
            "refresh_token": cfg.refresh_token.get_secret_value(),
            # One store for every client of this harness: the chain of refresh tokens is one.
            "token_store": self._tokens / "tokens.json",
            "webhook_secret": cfg.webhooks.oa_secret_key.get_secret_value(),
            "read_timeout": 3.0,
            "lookback_seconds": 60,
        }
        values.update(overrides)
        return ZaloSettings(**values)

    def client(self, **overrides: Any) -> ZaloClient:
        return ZaloClient("zalo-test", self.settings(**overrides), self.policy)

    def reader(self, **overrides: Any) -> ZaloReader:
        settings = self.settings(**overrides)
        return ZaloReader(
            ZaloClient("zalo-test", settings, self.policy),
            self.mappings,
            timedelta(seconds=settings.lookback_seconds),
        )

    def writer(self, **overrides: Any) -> ReadOnlyWriter:
        del overrides
        return ReadOnlyWriter("zalo-test")

    def customer_stream(self) -> Stream:
        return next(s for s in self.reader().streams() if s.name == "followers")

    def customer_ids(self) -> list[str]:
        with self.emulator.lock:
            live = [f for f in self.emulator.followers.values() if f.following]
        return [f.user_id for f in sorted(live, key=lambda f: (f.followed_at, f.user_id))]

    def create_customers(self, count: int, *, prefix: str) -> list[str]:
        return self.emulator.add_followers(count, prefix)

    def delete_customer(self, crm_id: str) -> None:
        self.emulator.set_following(crm_id, False)

    def ids_modified_since(self, when: datetime) -> set[str]:
        day = vietnam_day(when)
        with self.emulator.lock:
            return {
                f.user_id
                for f in self.emulator.followers.values()
                if vietnam_day(f.last_interaction_at) >= day
            }

    def field_value(self, crm_id: str, crm_field: str) -> Any:
        raise NotImplementedError("cem-bridge writes nothing to Zalo")

    def tasks_with_key(self, key: str) -> int:
        return 0  # Zalo has no tasks


def harness(customers: int, page_size: int) -> ZaloHarness:
    del page_size  # user/getlist pages are Zalo's fixed 50 at most
    return ZaloHarness(customers)
