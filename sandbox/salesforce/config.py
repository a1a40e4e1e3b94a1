"""Settings of one Salesforce emulator instance."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from sandbox.core.faults import FaultProfile
from sandbox.core.outbound import OutboundSettings


class ChangeEventSettings(OutboundSettings):
    """Where and how the change-event sender delivers record changes (see `changeevents.py`)."""

    # A Standard Webhooks secret ("whsec_" + base64 of the key bytes) shared with the receiver.
    secret: SecretStr = SecretStr("whsec_c2FuZGJveC1zYWxlc2ZvcmNlLWNoYW5nZS1ldmVudHM=")
    entities: list[str] = Field(
        default_factory=lambda: [
            "Account",
            "Contact",
            "Case",
            "CaseComment",
            "Task",
            "Event",
            "EmailMessage",
            "Opportunity",
            "Order",
            "Survey_Response__c",
        ],
        description="objects with Change Data Capture enabled",
    )


class SalesforceConfig(BaseModel):
    """How the emulated org behaves. The default credentials are sandbox-only values that
    `cem sandbox serve` prints; they protect nothing real."""

    model_config = ConfigDict(extra="forbid")

    api_version: str = Field(default="59.0", pattern=r"^\d{2}\.\d$")
    page_size: int = Field(default=2000, ge=1, le=2000, description="query rows per page")
    daily_api_limit: int = Field(default=100_000, ge=1)
    session_lifetime_seconds: float = Field(default=7200.0, gt=0)
    concurrent_request_limit: int = Field(
        default=25, ge=1, description="in-flight API requests before 403 ConcurrentPerOrgLongTxn"
    )
    client_id: str = "cem-sandbox-consumer-key"
    client_secret: SecretStr = SecretStr("cem-sandbox-consumer-secret")
    username: str = "integration@cem-sandbox.example"
    password: SecretStr = SecretStr("cem-sandbox-password")
    security_token: SecretStr = SecretStr("")
    jwt_public_key_pem: str | None = Field(
        default=None, description="verify JWT-bearer assertions with this key (else claims only)"
    )
    faults: FaultProfile = Field(default_factory=lambda: FaultProfile(name="none"))
    change_events: ChangeEventSettings = Field(default_factory=ChangeEventSettings)
