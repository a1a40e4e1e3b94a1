"""A Salesforce org's connection settings (`CEM_CONNECTIONS__<name>__KIND=salesforce`)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from adapters.settings import OAuthSettings


class SalesforceSettings(OAuthSettings):
    """A static access token, or an OAuth client with client credentials, a refresh token or the
    username-password flow (adapters/salesforce/client.py). `webhook_secret` is the change-event
    relay's Standard Webhooks secret (whsec_…)."""

    kind: Literal["salesforce"] = "salesforce"
    username: str | None = None
    password: SecretStr | None = None
