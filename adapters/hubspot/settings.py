"""A HubSpot portal's connection settings (`CEM_CONNECTIONS__<name>__KIND=hubspot`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from adapters.settings import OAuthSettings


class HubSpotSettings(OAuthSettings):
    """A private-app token, or OAuth (client id, secret and refresh token). `webhook_secret` is
    the app's client secret, which signs HubSpot's v3 webhook signatures."""

    kind: Literal["hubspot"] = "hubspot"
    # At most this many CRM searches per second: HubSpot allows 5 per portal and states no window
    # on search answers, so one is left for the time between our count and HubSpot's
    # (None: do not pace searches).
    search_per_second: Annotated[int, Field(ge=1)] | None = 4
