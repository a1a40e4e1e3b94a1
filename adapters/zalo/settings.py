"""A Zalo Official Account's connection settings (`CEM_CONNECTIONS__<name>__KIND=zalo`).

The OAuth names are the shared ones (adapters/settings.py), read for Zalo as (docs/zalo.md):
`client_id` = the Zalo app's `app_id`, `client_secret` = the app's secret key (sent as the
`secret_key` header to the token endpoint), `refresh_token` = the OA refresh token from the
first authorization (single use: after the first refresh the token store holds its successor),
`access_token` = an optional OA access token to start with. `webhook_secret` = the
"OA Secret Key" of the app's Webhook page, which the `mac=` of every event is built with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import HttpUrl

from adapters.settings import OAuthSettings


class ZaloSettings(OAuthSettings):
    """An OA reached through a Zalo app's OpenAPI (`base_url`, e.g. https://openapi.zalo.me)."""

    kind: Literal["zalo"] = "zalo"
    # OAuth v4's OA token endpoint (a setting so a sandbox or a proxy can stand in for it).
    oauth_url: HttpUrl = HttpUrl("https://oauth.zaloapp.com/v4/oa/access_token")
    # Where the rotated tokens live, shared by every worker of this connection and kept across
    # restarts: Zalo refresh tokens are single-use, so the one a refresh returns is the only
    # valid one (adapters/zalo/tokens.py). Required with REFRESH_TOKEN.
    token_store: Path | None = None
