"""Outbound webhook configuration, nested in the service settings as `CEM_WEBHOOKS__…`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from service.webhooks.egress import EgressPolicy

MIN_KEY_CHARS = 32


class WebhookSettings(BaseModel):
    """Delivery behaviour and the key that encrypts subscriber secrets at rest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Deliver from this process (off: queue only).")
    # Encrypts each subscriber's signing secret in the database (Fernet, key derived by HKDF).
    # Any string of 32+ characters; without it, subscriptions cannot be created.
    encryption_key: SecretStr | None = None
    # Earlier keys, still accepted for decryption while secrets are re-encrypted (rotation).
    old_encryption_keys: tuple[SecretStr, ...] = ()
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 12
    # Retry n waits min(base * 2**(n-1), max) ±20 %: 30 s, 1 min, 2 min … 6 h; ~1.5 days in all.
    backoff_base_seconds: Annotated[float, Field(gt=0)] = 30.0
    backoff_max_seconds: Annotated[float, Field(gt=0)] = 21_600.0
    poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 50
    # Plain-http receivers; off by default (events would cross the network unencrypted): for
    # development against a local receiver only.
    allow_http: bool = False
    # CIDRs ("10.20.0.0/16") or host names ("hooks.intranet") that may receive webhooks although
    # they are not public addresses: on-premises receivers. Everything else non-public is
    # refused (service/webhooks/egress.py).
    allowed_destinations: tuple[str, ...] = ()

    def egress_policy(self) -> EgressPolicy:
        """The URL guard these settings describe (system DNS resolver)."""
        return EgressPolicy(allow_http=self.allow_http, allowed=self.allowed_destinations)

    @field_validator("encryption_key", "old_encryption_keys")
    @classmethod
    def _long_enough(cls, value: SecretStr | tuple[SecretStr, ...] | None) -> object:
        keys = value if isinstance(value, tuple) else (value,) if value is not None else ()
        if any(len(key.get_secret_value()) < MIN_KEY_CHARS for key in keys):
            raise ValueError(f"an encryption key needs at least {MIN_KEY_CHARS} characters")
        return value
