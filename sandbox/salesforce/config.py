"""Settings of one Salesforce emulator instance."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from sandbox.core.faults import FaultProfile


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
