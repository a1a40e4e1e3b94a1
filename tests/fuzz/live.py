"""A running service to attack: `cem serve` in a subprocess on a SQLite file, wired to both CRM
sandboxes (in this process, over loopback TLS), with an admin key and seeded ids.

Background work is off (no job runner, no webhook dispatcher): the fuzzer creates webhook
subscriptions to arbitrary URLs, and nothing may ever be delivered to them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from service.store.database import make_engine, upgrade
from service.store.keys import ApiKeyRepository, Scope
from tests.contract.harness import HubSpotHarness, SalesforceHarness

HUBSPOT = "hubspot-demo"  # the name the API's own examples use, so example cases reach a CRM
SALESFORCE = "sf"
WEBHOOK_SECRET = "fuzz-hubspot-app-secret"
CUSTOMERS = 30
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveService:
    """`with LiveService(tmp) as live:` gives `live.url`, `live.admin_key` and `live.seeds`."""

    workdir: Path
    url: str = ""
    admin_key: str = ""
    seeds: dict[str, str] = field(default_factory=dict)
    salesforce: SalesforceHarness | None = None
    hubspot: HubSpotHarness | None = None
    log_path: Path | None = None
    _stack: ExitStack = field(default_factory=ExitStack)
    _process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LiveService:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        self.salesforce = self._stack.enter_context(SalesforceHarness(CUSTOMERS, 100))
        self.hubspot = self._stack.enter_context(HubSpotHarness(CUSTOMERS))
        self.salesforce.writer().provision(dry_run=False)
        self.hubspot.writer().provision(dry_run=False)
        database = f"sqlite:///{self.workdir / 'fuzz.db'}"
        engine = make_engine(database)
        upgrade(engine)
        keys = ApiKeyRepository(engine)
        self.admin_key = keys.create("fuzz-admin", [Scope.ADMIN]).key
        engine.dispose()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = self.workdir / "serve.log"
        log = self._stack.enter_context(self.log_path.open("wb"))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=self._environment(database),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()
        self._seed()

    def _environment(self, database: str) -> dict[str, str]:
        sf, hs = self.salesforce, self.hubspot
        assert sf is not None
        assert hs is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("CEM_")}
        env.update(
            {
                "CEM_DATABASE_URL": database,
                "CEM_LOG_LEVEL": "WARNING",
                "CEM_LOG_FORMAT": "text",
                "CEM_JOBS__ENABLED": "false",
                "CEM_WEBHOOKS__ENABLED": "false",
                "CEM_WEBHOOKS__ENCRYPTION_KEY": "fuzz-encryption-key-0123456789abcdef",
                # The seeded subscriber is on loopback: allow-listed, as an operator would.
                "CEM_WEBHOOKS__ALLOWED_DESTINATIONS": '["127.0.0.1/32"]',
                # The fuzzer sends thousands of requests on one key; the limit has its own test.
                "CEM_API__RATE_LIMIT_PER_MINUTE": "1000000",
                # The lexicon alone: the fuzz run is about the API, not about model cost.
                "CEM_SENTIMENT__BACKENDS": '{"*": ["lexicon"]}',
                "CEM_SECRETS_DIR": str(self.workdir),  # nothing named like a setting there
            }
        )
        for name, settings in ((SALESFORCE, sf.settings()), (HUBSPOT, hs.settings())):
            prefix = f"CEM_CONNECTIONS__{name}__"
            for key, value in settings.model_dump(exclude_none=True).items():
                raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                env[prefix + key.upper()] = str(raw)
        env[f"CEM_CONNECTIONS__{HUBSPOT}__WEBHOOK_SECRET"] = WEBHOOK_SECRET
        return env

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"cem serve exited: {self.log_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"cem serve did not start in {START_TIMEOUT} s")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def _seed(self) -> None:
        """Ids that exist, so operations on `{job_id}` etc. reach more than their 404."""
        with httpx.Client(base_url=self.url, headers=self.headers(), timeout=30) as client:
            job = client.post("/v1/syncs", json={"connection": SALESFORCE})
            job.raise_for_status()
            subscription = client.post(
                "/v1/webhooks/subscriptions", json={"url": "https://127.0.0.1:9/hook"}
            )
            subscription.raise_for_status()
            victim = client.post("/v1/keys", json={"name": "fuzz-victim", "scopes": ["read"]})
            victim.raise_for_status()
        assert self.salesforce is not None
        assert self.hubspot is not None
        self.seeds = {
            "job_id": job.json()["id"],
            "subscription_id": subscription.json()["id"],
            "key_id": victim.json()["id"],
            "connection": HUBSPOT,
            "salesforce_customer": self.salesforce.customer_ids()[0],
            "hubspot_customer": self.hubspot.customer_ids()[0],
        }

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._stack.close()
