"""Start the sandbox emulators with generated data, for `cem sandbox serve` and `make demo`.

The Salesforce emulator is served over loopback TLS (simple-salesforce only speaks https,
docs/crm-api-facts.md §1.1) with a CA generated at start; HubSpot over plain http (its client
honours the `host` it is given, §1.3). Both load the same generated dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sandbox.core.faults import resolve_profile
from sandbox.core.server import SandboxServer
from sandbox.data.churnstatus import ChurnStatus, churn_statuses
from sandbox.data.generate import BLOCK, blocks, generate, truths
from sandbox.data.model import Record
from sandbox.salesforce.app import create_app as create_salesforce_app
from sandbox.salesforce.app import emulator_of
from sandbox.salesforce.config import SalesforceConfig


class Crm(StrEnum):
    """Which emulators to serve."""

    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"
    BOTH = "both"


@dataclass(frozen=True)
class ServeOptions:
    """What `cem sandbox serve` was asked for."""

    crm: Crm = Crm.SALESFORCE
    host: str = "127.0.0.1"
    port: int = 0
    customers: int = 100
    seed: int = 1
    faults: str = "none"
    dataset: Path | None = None
    tls: bool = True
    page_size: int = 2000
    # The optional churn status on contacts, from the generator's truth (sandbox.data.churnstatus).
    churn_status: bool = False
    # The number of the first generated person, another history and CRM's way of writing
    # contact details, company mailboxes and switchboards: two emulators sharing some persons
    # (sandbox.data.generate).
    first_customer: int = 0
    variant: int = 0
    shared_contacts: bool = False


@dataclass
class RunningSandbox:
    """The started servers and what to tell the user about them."""

    servers: list[SandboxServer] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop every server (and remove the generated TLS material)."""
        for server in self.servers:
            server.stop()


def connection_values(info: dict[str, Any], crm: str) -> dict[str, Any]:
    """The settings of a cem-bridge connection to the running emulator `crm`, from the `info`
    a sandbox reports (`RunningSandbox.info`, `cem sandbox serve --json`): its URL, credentials,
    CA certificate and the secret its webhooks are signed with."""
    served: dict[str, Any] = info[crm]
    if crm == Crm.SALESFORCE:
        return {
            "kind": crm,
            "base_url": served["base_url"],
            "client_id": served["oauth"]["client_id"],
            "client_secret": served["oauth"]["client_secret"],
            "ca_bundle": served["ca_cert"],
            "webhook_secret": served["change_event_secret"],
        }
    return {
        "kind": crm,
        "base_url": served["base_url"],
        "access_token": served["access_token"],
        "webhook_secret": served["webhook_client_secret"],
    }


class SandboxUnavailableError(RuntimeError):
    """A requested emulator is not part of this build."""


def _records(options: ServeOptions) -> Callable[[], Iterator[Record]]:
    def stream() -> Iterator[Record]:
        if options.dataset is not None:
            from sandbox.data.files import read_dataset

            return iter(read_dataset(options.dataset))
        return generate(
            options.seed,
            options.customers,
            first=options.first_customer,
            variant=options.variant,
            shared_contacts=options.shared_contacts,
        )

    return stream


def _churn(options: ServeOptions, now: datetime) -> dict[str, ChurnStatus] | None:
    if not options.churn_status:
        return None
    if options.dataset is not None:
        from sandbox.data.files import read_truths

        return churn_statuses(read_truths(options.dataset), now)
    end = options.first_customer + options.customers
    part = range(options.first_customer // BLOCK, blocks(end))
    return churn_statuses(truths(options.seed, end, part=part), now)


def _start(server: SandboxServer, port: int) -> SandboxServer:
    try:
        return server.start()
    except OSError as exc:
        raise OSError(f"cannot listen on port {port}: {exc.strerror or exc}") from None


def _salesforce(
    options: ServeOptions, records: Iterable[Record]
) -> tuple[SandboxServer, dict[str, Any]]:
    config = SalesforceConfig(
        faults=resolve_profile(options.faults, options.seed), page_size=options.page_size
    )
    app = create_salesforce_app(config)
    emulator = emulator_of(app)
    report = emulator.load(records, churn_status=_churn(options, emulator.state.clock.now()))
    server = _start(
        SandboxServer(app, host=options.host, port=options.port, tls=options.tls), options.port
    )
    info = emulator.credentials(server.base_url, server.ca_path)
    info["loaded"] = report.to_json()["created"]
    return server, info


def _hubspot(
    options: ServeOptions, records: Iterable[Record], port: int
) -> tuple[SandboxServer, dict[str, Any]]:
    try:
        from sandbox.hubspot.app import create_app as create_hubspot_app
        from sandbox.hubspot.config import HubSpotConfig
    except ImportError as exc:  # pragma: no cover - only in builds without the HubSpot part
        raise SandboxUnavailableError(
            "the HubSpot emulator is not available in this build"
        ) from exc
    app = create_hubspot_app(HubSpotConfig(faults=resolve_profile(options.faults, options.seed)))
    emulator = app.state.hubspot
    report = emulator.load(records, churn_status=_churn(options, emulator.sandbox.clock.now()))
    server = _start(SandboxServer(app, host=options.host, port=port), port)
    info: dict[str, Any] = emulator.credentials(server.base_url)
    info["loaded"] = report.to_json()["counts"]
    return server, info


def start_sandbox(options: ServeOptions) -> RunningSandbox:
    """Load data into the requested emulators and start serving them.

    With `both`, HubSpot listens on `port + 1` (or another free port when `port` is 0).
    """
    resolve_profile(options.faults)  # fail fast on an unknown profile
    running = RunningSandbox()
    running.info = {
        "seed": options.seed,
        "customers": options.customers if options.dataset is None else None,
        "dataset": str(options.dataset) if options.dataset else None,
        "faults": options.faults,
    }
    stream = _records(options)
    try:
        if options.crm in (Crm.SALESFORCE, Crm.BOTH):
            server, info = _salesforce(options, stream())
            running.servers.append(server)
            running.info["salesforce"] = info
        if options.crm in (Crm.HUBSPOT, Crm.BOTH):
            port = options.port + 1 if options.port and options.crm is Crm.BOTH else options.port
            server, info = _hubspot(options, stream(), port)
            running.servers.append(server)
            running.info["hubspot"] = info
    except BaseException:
        running.stop()
        raise
    return running
