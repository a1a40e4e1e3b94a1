"""Settings of one HubSpot emulator (one portal): credentials, limits, search lag, webhooks.

Defaults mirror a Professional portal with a private-app token (docs/crm-api-facts.md §3.9); every
limit is configuration because HubSpot's published figures vary by tier and over time. Secrets are
``SecretStr`` so they never show in reprs or logs.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sandbox.core.faults import FaultProfile
from sandbox.core.outbound import OutboundSettings


class RateLimits(BaseModel):
    """HubSpot's per-portal budgets (docs/crm-api-facts.md §3.9); ``enabled=False`` for
    benchmarks."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    burst: int = Field(default=190, ge=1, description="requests per rolling window")
    window_seconds: float = Field(default=10.0, gt=0)
    daily: int = Field(default=650_000, ge=1, description="requests per account-local day")
    search_per_second: int = Field(default=5, ge=1)
    # Retry-After is not reliably sent by HubSpot; clients must fall back to the policy name.
    retry_after_header: bool = False
    timezone: str = Field(default="UTC", description="the portal time zone the daily reset uses")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value


class ScopedToken(BaseModel):
    """A static private-app token and its scopes (None: every scope)."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr
    scopes: list[str] | None = None


class OAuthApp(BaseModel):
    """A public app that can obtain short-lived OAuth tokens (docs/crm-api-facts.md §3.1)."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = "sandbox-client-id"
    client_secret: SecretStr = SecretStr("sandbox-client-secret")
    access_token_seconds: int = Field(default=1800, ge=1)
    scopes: list[str] | None = None


class WebhookSettings(OutboundSettings):
    """Where and how the webhook sender delivers subscribed events (docs/crm-api-facts.md §3.11)."""

    # Used as the HMAC key of the signatures: the receiving app's client secret.
    client_secret: SecretStr = SecretStr("sandbox-client-secret")
    app_id: int = 1_000_001
    subscriptions: list[str] = Field(
        default_factory=lambda: [
            "contact.creation",
            "contact.propertyChange",
            "contact.deletion",
            "company.creation",
            "company.propertyChange",
            "company.deletion",
        ],
        description='"<object>.<event>" names, e.g. "deal.propertyChange"',
    )
    property_filter: dict[str, list[str]] = Field(
        default_factory=dict,
        description='per "<object>.propertyChange": only these properties (empty: all)',
    )
    linger_seconds: float = Field(default=0.2, ge=0, description="wait to fill a batch")


class HubSpotConfig(BaseModel):
    """Everything :func:`sandbox.hubspot.app.create_app` needs."""

    model_config = ConfigDict(extra="forbid")

    portal_id: int = 62_515
    access_token: SecretStr = SecretStr("pat-na1-sandbox-0000")
    # More static tokens, e.g. one with too few scopes for MISSING_SCOPES tests.
    extra_tokens: list[ScopedToken] = Field(default_factory=list)
    oauth: OAuthApp = Field(default_factory=OAuthApp)
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    search_lag_seconds: float = Field(
        default=0.0, ge=0, description="delay on the sandbox clock before writes reach search"
    )
    faults: FaultProfile = Field(default_factory=lambda: FaultProfile(name="none"))
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
