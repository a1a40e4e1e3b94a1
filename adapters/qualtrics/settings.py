"""A Qualtrics brand's connection settings (`CEM_CONNECTIONS__<name>__KIND=qualtrics`).

Facts and sources: docs/qualtrics.md ("Authentication").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, HttpUrl, SecretStr

from adapters.settings import ConnectionSettings

# A data center id (iad1, fra1, ca1, ...) or a brand's vanity host prefix (brand.co1).
_DATACENTER = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"


class QualtricsSettings(ConnectionSettings):
    """`DATACENTER` (or `BASE_URL`), and either a user's `API_TOKEN` (sent as X-API-TOKEN) or an
    OAuth client (`CLIENT_ID`, `CLIENT_SECRET`: client credentials -> Bearer). `webhook_secret`
    is the event subscription's sharedKey, which signs each event (HMAC-SHA512)."""

    kind: Literal["qualtrics"] = "qualtrics"
    datacenter: Annotated[str, Field(pattern=_DATACENTER)] | None = None
    api_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Scopes asked for with client credentials (the OAuth client must have been granted them).
    oauth_scope: str = "read:surveys read:survey_responses manage:subscriptions"
    # Where Qualtrics posts completed-response events: this service's public
    # `.../v1/webhooks/qualtrics` (`cem setup` subscribes it; None: no subscription).
    publication_url: HttpUrl | None = None
    # Polling an export: first wait, doubled up to the longest wait, given up after the last.
    export_poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    export_poll_max_seconds: Annotated[float, Field(gt=0)] = 30.0
    export_timeout_seconds: Annotated[float, Field(gt=0)] = 1800.0
    # Respondents per batch handed to the sync (the export file is read whole, then chunked).
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500

    def api_base(self) -> str:
        """`https://{datacenter}.qualtrics.com/API/v3`, or `{base_url}/API/v3` (ValueError
        when neither is set)."""
        if self.base_url is not None:
            return str(self.base_url).rstrip("/") + "/API/v3"
        if self.datacenter is None:
            raise ValueError("set DATACENTER (e.g. fra1) or BASE_URL")
        return f"https://{self.datacenter}.qualtrics.com/API/v3"

    def token_url(self) -> str:
        """The OAuth token endpoint, beside the API (`/oauth2/token`)."""
        return self.api_base().removesuffix("/API/v3") + "/oauth2/token"
