"""The Zalo sandbox's side of the error-table walk (sandbox/core/error_boundary.py).

Zalo answers errors with HTTP 200 and a code, so most rows are made by asking the emulator for
something it refuses (an unknown user, a page too large, a send outside the window) or by a
fault; codes the emulator has no path to (and the edge's 4xx) are `ZaloApiError`s raised where
the client would raise them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adapters.zalo.client import ZaloApiError, ZaloClient, ZaloHttp, api_error
from adapters.zalo.settings import ZaloSettings
from sandbox.core.error_boundary import ONE_TRY, Boundary, Recipe, fault
from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.zalo.app import create_app
from sandbox.zalo.config import ZaloConfig
from sandbox.zalo.emulator import ZaloEmulator

# Sandbox-only secrets (never valid at Zalo): the walk checks they never show in an error.
APP_SECRET = "zalo-app-secret-error-table-5b21c9a7e0f3"  # noqa: S105
REFRESH = "zalo-refresh-error-table-4d8e9c6a1e2f"
OA_KEY = "zalo-oa-key-error-table-3a4b5c6d7e8f"
SEED = 3


class ZaloBoundary:
    kind = "zalo"
    routes = "* /v[23].0/oa/*"

    def __init__(self, server: SandboxServer, emulator: ZaloEmulator, store: Path) -> None:
        self.server = server
        self._store = store
        with emulator.lock:
            quiet = next(f.user_id for f in emulator.followers.values())

        def page(http: ZaloHttp) -> object:
            return http.get("/v3.0/oa/user/getlist", {"offset": 0, "count": 5})

        def too_big(http: ZaloHttp) -> object:
            return http.get("/v3.0/oa/user/getlist", {"offset": 0, "count": 51})

        def nobody(http: ZaloHttp) -> object:
            return http.get("/v3.0/oa/user/detail", {"user_id": "1000000000000000001"})

        def late_reply(http: ZaloHttp) -> object:
            # Generated chats end months before the sandbox's now: outside the 7-day window.
            body = {"recipient": {"user_id": quiet}, "message": {"text": "Xin lỗi quý khách"}}
            return http.post("/v3.0/oa/message/cs", body)

        self.recipes: dict[tuple[int | str, str | None], Recipe] = {
            (200, "-216"): Recipe(page, fault("expired_token", route=self.routes)),
            (200, "oauth"): Recipe(page, client="burnt-refresh-token"),
            (200, "-32"): Recipe(page, fault("rate_limited", route=self.routes)),
            (200, "-230"): Recipe(late_reply),
            (200, "-213"): Recipe(nobody),
            (200, "-201"): Recipe(too_big),
        }
        for status in (502, 504, "5xx"):
            code = 599 if status == "5xx" else status
            self.recipes[(status, None)] = Recipe(
                page, fault("error_5xx", route=self.routes, status_5xx=code)
            )

    def client(self, which: str = "default") -> ZaloClient:
        refresh = "zalo-refresh-never-issued" if which == "burnt-refresh-token" else REFRESH
        store = self._store / which / "tokens.json"
        settings = ZaloSettings(
            kind="zalo",
            base_url=self.server.base_url,
            oauth_url=f"{self.server.base_url}/v4/oa/access_token",
            client_id=ZaloConfig().app_id,
            client_secret=APP_SECRET,
            refresh_token=refresh,
            token_store=store,
        )
        return ZaloClient("zalo-errors", settings, ONE_TRY)

    def sdk_error(self, status: int, code: str) -> Exception:
        """What the client raises for this answer (there is no SDK: its own exception)."""
        return api_error(status, code, "as answered")

    def secrets(self, client: Any) -> list[str]:
        return [APP_SECRET, REFRESH, OA_KEY]

    def is_sdk_error(self, error: BaseException | None) -> bool:
        return isinstance(error, ZaloApiError)


@contextmanager
def boundary() -> Iterator[Boundary]:
    """A Zalo sandbox (no rate limit of its own) and its boundary."""
    config = ZaloConfig(
        app_secret=APP_SECRET,
        refresh_token=REFRESH,
        oa_secret_key=OA_KEY,
        requests_per_minute=None,
    )
    emulator = ZaloEmulator(config)
    emulator.load(generate(seed=SEED, customers=40), SEED)
    store = Path(tempfile.mkdtemp(prefix="cem-zalo-errors-"))
    try:
        with SandboxServer(create_app(emulator=emulator)) as server:
            yield ZaloBoundary(server, emulator, store)
    finally:
        emulator.close()
        shutil.rmtree(store, ignore_errors=True)
