"""`cem sandbox serve` for HubSpot: the emulator over plain http (its client honours the `host`
it is given, docs/crm-api-facts.md §1.3)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.core.faults import resolve_profile
from sandbox.data.model import Record
from sandbox.hubspot.app import create_app
from sandbox.hubspot.config import HubSpotConfig
from sandbox.serving import Served, ServeOptions, churn_of, listen


def serve(options: ServeOptions, records: Iterable[Record], port: int) -> Served:
    app = create_app(HubSpotConfig(faults=resolve_profile(options.faults, options.seed)))
    emulator = app.state.hubspot
    report = emulator.load(records, churn_status=churn_of(options, emulator.sandbox.clock.now()))
    server = listen(app, options, port, tls=False)
    info: dict[str, Any] = emulator.credentials(server.base_url)
    info["loaded"] = report.to_json()["counts"]
    return Served(server, info)


def connection_values(served: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "hubspot",
        "base_url": served["base_url"],
        "access_token": served["access_token"],
        "webhook_secret": served["webhook_client_secret"],
    }


def describe(served: dict[str, Any]) -> list[str]:
    return [
        "HubSpot",
        f"  base_url       {served['base_url']}",
        f"  access_token   {served['access_token']}",
        f"  records        {served['loaded']}",
    ]
