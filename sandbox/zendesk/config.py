"""The emulated Zendesk account's settings (docs/zendesk.md has the facts they follow)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from sandbox.core.faults import FaultProfile
from sandbox.core.outbound import OutboundSettings


class RateLimits(BaseModel):
    """Requests per minute: the account's (Enterprise: 700) and the incremental exports' 10."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    per_minute: int = Field(default=700, ge=1)
    incremental_per_minute: int = Field(default=10, ge=1)


class Exports(BaseModel):
    """Incremental export behaviour: the last minute left out (since 2024-10-28) and the floor
    under which a start_time is "too recent" (5 minutes in older clients' notes, 1 minute in
    newer ones: configurable)."""

    model_config = ConfigDict(extra="forbid")

    exclude_last_seconds: int = Field(default=60, ge=0)
    too_recent_seconds: int = Field(default=60, ge=0)
    max_per_page: int = Field(default=1000, ge=1)


class WebhookSettings(OutboundSettings):
    """Where and how the emulator delivers its event webhooks (one event a request)."""

    signing_secret: SecretStr = SecretStr("sandbox-zendesk-webhook-signing-secret")
    max_batch: int = Field(default=1, ge=1, le=1)


class ZendeskConfig(BaseModel):
    """One emulated account."""

    model_config = ConfigDict(extra="forbid")

    subdomain: str = "cem-sandbox"
    admin_email: str = "admin@cem-sandbox.example"
    api_token: str = "zd-sandbox-api-token"  # noqa: S105  (the sandbox's own token)
    oauth_token: str = "zd-sandbox-oauth-token"  # noqa: S105
    seed: int = 5
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    exports: Exports = Field(default_factory=Exports)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    faults: FaultProfile | None = None
