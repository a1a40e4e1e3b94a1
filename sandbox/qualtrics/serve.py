"""`cem sandbox serve` for Qualtrics: the emulator over plain http, loaded with the generated
persons' survey answers (the same persons as the CRM emulators for the same seed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.core.faults import resolve_profile
from sandbox.data.model import Record
from sandbox.qualtrics.app import create_app
from sandbox.qualtrics.emulator import QualtricsConfig
from sandbox.qualtrics.surveys import SURVEYS
from sandbox.serving import Served, ServeOptions, listen

SHARED_KEY = "qualtrics-sandbox-shared-key"


def serve(options: ServeOptions, records: Iterable[Record], port: int) -> Served:
    app = create_app(QualtricsConfig(faults=resolve_profile(options.faults, options.seed)))
    emulator = app.state.qualtrics
    report = emulator.load(records)
    server = listen(app, options, port, tls=False)
    info: dict[str, Any] = {
        "base_url": server.base_url,
        "api_token": emulator.config.api_token,
        "client_id": emulator.config.client_id,
        "shared_key": SHARED_KEY,
        "surveys": [s.id for s in SURVEYS],
        "loaded": {"responses": report.responses, "persons": report.persons},
    }
    return Served(server, info)


def connection_values(served: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "qualtrics",
        "base_url": served["base_url"],
        "api_token": served["api_token"],
        "webhook_secret": served["shared_key"],
    }


def describe(served: dict[str, Any]) -> list[str]:
    return [
        "Qualtrics",
        f"  base_url       {served['base_url']}  (API at /API/v3)",
        f"  api_token      {served['api_token']}",
        f"  surveys        {', '.join(served['surveys'])}",
        f"  records        {served['loaded']}",
    ]
