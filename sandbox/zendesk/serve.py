"""`cem sandbox serve` for Zendesk: the emulator over plain http (our client takes any base URL;
Zendesk's own next-page links point at the emulator's origin)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.core.faults import resolve_profile
from sandbox.data.model import Record
from sandbox.serving import Served, ServeOptions, listen
from sandbox.zendesk.app import create_app
from sandbox.zendesk.config import ZendeskConfig


def serve(options: ServeOptions, records: Iterable[Record], port: int) -> Served:
    app = create_app(
        ZendeskConfig(seed=options.seed, faults=resolve_profile(options.faults, options.seed))
    )
    emulator = app.state.zendesk
    customers = options.first_customer + options.customers
    report = emulator.load(records, seed=options.seed, customers=customers)
    server = listen(app, options, port, tls=False)
    info: dict[str, Any] = emulator.base_credentials(server.base_url)
    info["loaded"] = report.to_json()["counts"]
    return Served(server, info)


def connection_values(served: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "zendesk",
        "base_url": served["base_url"],
        "email": served["email"],
        "api_token": served["api_token"],
        "webhook_secret": served["webhook_signing_secret"],
    }


def describe(served: dict[str, Any]) -> list[str]:
    return [
        "Zendesk",
        f"  base_url       {served['base_url']}",
        f"  email          {served['email']}",
        f"  api_token      {served['api_token']}",
        f"  records        {served['loaded']}",
    ]
