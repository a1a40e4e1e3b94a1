"""The Zalo emulator's settings: the app and OA it plays, its limits and its webhook sender."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from sandbox.core.faults import FaultProfile
from sandbox.core.outbound import OutboundSettings


class WebhookSettings(OutboundSettings):
    """Where and how events are sent: one event per POST (Zalo sends them one by one)."""

    max_batch: int = Field(default=1, ge=1, le=1)
    linger_seconds: float = Field(default=0.0, ge=0)
    app_id: str = "1234567890123456789"
    oa_secret_key: SecretStr = SecretStr("sandbox-oa-secret-key")


class ZaloConfig(BaseModel):
    """One Zalo app with one Official Account linked to it (sandbox values, never real ones)."""

    model_config = ConfigDict(extra="forbid")

    app_id: str = "1234567890123456789"
    app_secret: SecretStr = SecretStr("sandbox-app-secret")
    oa_id: str = "2345678901234567890"
    oa_name: str = "Cửa hàng Sandbox"
    oa_secret_key: SecretStr = SecretStr("sandbox-oa-secret-key")
    # The refresh token an operator copies after authorizing the app (the first of its chain).
    refresh_token: SecretStr = SecretStr("sandbox-refresh-token-0")
    # What the OAuth v4 token endpoint states (docs/zalo.md "OAuth"): a 25 h access token (sent
    # as the string "90000"), a 3-month refresh token, a 10-minute authorization code.
    access_token_seconds: int = Field(default=90_000, ge=1)
    refresh_token_days: int = Field(default=90, ge=1)
    code_seconds: int = Field(default=600, ge=1)
    # Requests per minute per app (unverified 4,000: docs/zalo.md "Limits"); None: no limit.
    requests_per_minute: int | None = Field(default=4_000, ge=1)
    # Consultation replies: free ones within 48 h of the user's last message (8 per message),
    # none at all after 7 days (-230).
    free_reply_hours: int = 48
    free_replies: int = 8
    window_days: int = 7
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    faults: FaultProfile = Field(default_factory=FaultProfile)
