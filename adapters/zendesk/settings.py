"""A Zendesk Support account's connection settings (`CEM_CONNECTIONS__<name>__KIND=zendesk`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr

from adapters.settings import OAuthSettings


class ZendeskSettings(OAuthSettings):
    """An API token (`EMAIL` + `API_TOKEN`, sent as Basic `{email}/token:{token}`) or an OAuth
    access token (`ACCESS_TOKEN`, sent as a bearer). `BASE_URL` is the account's
    `https://{subdomain}.zendesk.com`. `webhook_secret` is the webhook's signing secret
    (`GET /api/v2/webhooks/{id}/signing_secret`). Facts and sources: docs/zendesk.md."""

    kind: Literal["zendesk"] = "zendesk"
    email: str | None = None
    api_token: SecretStr | None = None
    # Records per incremental export page (Zendesk allows up to 1,000).
    export_page_size: Annotated[int, Field(ge=1, le=1000)] = 1000
    # Incremental exports are limited apart from the account: 10 requests a minute (30 with the
    # High Volume add-on). None: do not pace them (an emulator without the limit).
    incremental_per_minute: Annotated[int, Field(ge=1)] | None = 10
    # Also mark a user flagged by a boolean push field with a `cem_<field>` tag (PUT adds it,
    # DELETE removes it; staff's own tags are never touched). One call per user, so off by
    # default: the fields alone cost one call per 100 users.
    flag_tags: bool = False
    # How long to wait for an update_many job to complete before reporting its users refused.
    job_timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
