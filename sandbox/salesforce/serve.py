"""`cem sandbox serve` for Salesforce: the emulator over loopback TLS (simple-salesforce only
speaks https, docs/crm-api-facts.md §1.1) with a CA generated at start."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.core.faults import resolve_profile
from sandbox.data.model import Record
from sandbox.salesforce.app import create_app, emulator_of
from sandbox.salesforce.config import SalesforceConfig
from sandbox.serving import Served, ServeOptions, churn_of, listen


def serve(options: ServeOptions, records: Iterable[Record], port: int) -> Served:
    config = SalesforceConfig(
        faults=resolve_profile(options.faults, options.seed), page_size=options.page_size
    )
    app = create_app(config)
    emulator = emulator_of(app)
    report = emulator.load(records, churn_status=churn_of(options, emulator.state.clock.now()))
    server = listen(app, options, port, tls=options.tls)
    info = emulator.credentials(server.base_url, server.ca_path)
    info["loaded"] = report.to_json()["created"]
    return Served(server, info)


def connection_values(served: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "salesforce",
        "base_url": served["base_url"],
        "client_id": served["oauth"]["client_id"],
        "client_secret": served["oauth"]["client_secret"],
        "ca_bundle": served["ca_cert"],
        "webhook_secret": served["change_event_secret"],
    }


def describe(served: dict[str, Any]) -> list[str]:
    return [
        "Salesforce",
        f"  instance_url   {served['instance_url']}",
        f"  session_id     {served['session_id']}",
        f"  CA certificate {served['ca_cert']}  (trust it: session.verify = this path)",
        f"  OAuth          client_id={served['oauth']['client_id']} "
        f"client_secret={served['oauth']['client_secret']}",
        f"                 username={served['oauth']['username']} "
        f"password={served['oauth']['password']}",
        f"  records        {served['loaded']}",
        f"  admin / view   {served['admin_url']}  {served['view_url']}",
    ]
