"""What every connection's settings hold, whatever system it connects to.

Each connector's own model (`adapters/<kind>/settings.py`) subclasses `ConnectionSettings`
with `kind: Literal["<kind>"]` and its credentials; `adapters.registry` joins them into the
union on `kind` that `service.config` reads from `CEM_CONNECTIONS__<name>__…`. Secrets are
`SecretStr` (never in a repr or a log line); `Settings.secret_values()` finds them in any model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr


class ConnectionSettings(BaseModel):
    """One connection to a source system; the fields below mean the same for every kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Narrowed to one `Literal` per connector: the tag of the settings union.
    kind: str
    base_url: HttpUrl | None = None
    mappings_dir: Path | None = None
    sync_interval_seconds: Annotated[int, Field(ge=0)] = 0
    ca_bundle: Path | None = None
    # Signs the system's events to POST /v1/webhooks/<kind> (each connector says how:
    # docs/connectors.md).
    webhook_secret: SecretStr | None = None
    # Stop a run at this share of the system's daily API quota (other integrations share it).
    quota_share: Annotated[float, Field(gt=0, le=1)] = 0.8
    connect_timeout: Annotated[float, Field(gt=0)] = 5.0
    read_timeout: Annotated[float, Field(gt=0)] = 60.0
    # Incremental pulls re-read this many seconds before the cursor: systems commit records with
    # stamps slightly in the past, and records sharing a stamp can straddle a page boundary.
    lookback_seconds: Annotated[int, Field(ge=0)] = 300
    # Pacing (adapters/pacing.py): use this share of the rolling window the system states (lower
    # it when other integrations on the same account need much of it).
    rate_share: Annotated[float, Field(gt=0, le=1)] = 1.0


class OAuthSettings(ConnectionSettings):
    """A connection authenticated by a static token or an OAuth client (most CRMs)."""

    client_id: str | None = None
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
