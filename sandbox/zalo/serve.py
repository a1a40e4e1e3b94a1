"""`cem sandbox serve` for Zalo: the OA emulator over plain http, with a token store for the
connection (Zalo refresh tokens are single-use: the chain must be kept somewhere)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sandbox.core.faults import resolve_profile
from sandbox.data.model import Record
from sandbox.serving import Served, ServeOptions, listen
from sandbox.zalo.app import create_app
from sandbox.zalo.config import ZaloConfig


def serve(options: ServeOptions, records: Iterable[Record], port: int) -> Served:
    app = create_app(ZaloConfig(faults=resolve_profile(options.faults, options.seed)))
    emulator = app.state.zalo
    # The generator's truth needs the stream's layout: only for a generated, unshifted stream.
    whole = options.dataset is None and options.first_customer == 0
    counts = emulator.load(records, options.seed, options.customers if whole else None)
    server = listen(app, options, port, tls=False)
    info: dict[str, Any] = emulator.credentials(server.base_url)
    info["token_store"] = str(Path(tempfile.mkdtemp(prefix="cem-zalo-tokens-")) / "tokens.json")
    info["loaded"] = counts
    return Served(server, info)


def connection_values(served: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "zalo",
        "base_url": served["base_url"],
        "oauth_url": served["oauth_url"],
        "client_id": served["app_id"],
        "client_secret": served["app_secret"],
        "refresh_token": served["refresh_token"],
        "token_store": served["token_store"],
        "webhook_secret": served["oa_secret_key"],
    }


def describe(served: dict[str, Any]) -> list[str]:
    return [
        "Zalo OA",
        f"  base_url       {served['base_url']}",
        f"  app_id         {served['app_id']}",
        f"  refresh_token  {served['refresh_token']} (single-use; the connection keeps its chain)",
        f"  records        {served['loaded']}",
    ]
