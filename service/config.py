"""Settings: the one place that reads the environment.

Every setting is `CEM_<NAME>`; nested groups use `__` (`CEM_API__MAX_BODY_BYTES=...`,
`CEM_CONNECTIONS__acme__KIND=<kind>`, a kind of adapters/registry.py). Secrets are `SecretStr`, so
they never show in a repr or a log line, and can also come from files in a secrets directory
(`CEM_SECRETS_DIR`, default `/run/secrets` when it exists), one file per setting named like its
variable, nested ones included (a file `CEM_DATABASE_URL` holding the URL,
`CEM_CONNECTIONS__acme__ACCESS_TOKEN` holding a token; names are case-insensitive). Environment
variables win over files.

There is no module-level settings object: `load_settings()` builds one at start-up and the
composition root (`service.main.create_app`, the CLI) passes it on.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from adapters.registry import AnyConnectionSettings, kinds
from service.jobs.settings import JobSettings, QueueSettings
from service.scoring.churn.thresholds import FlagPolicy
from service.scoring.churn.training import TrainingPolicy
from service.sentiment.settings import SentimentSettings
from service.webhooks.settings import WebhookSettings

ENV_PREFIX = "CEM_"
DEFAULT_SECRETS_DIR = Path("/run/secrets")


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming the setting."""


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class ApiSettings(BaseModel):
    """HTTP API behaviour."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: Annotated[int, Field(gt=0)] = 1_048_576
    rate_limit_per_minute: Annotated[int, Field(gt=0)] = 600
    docs_enabled: bool = True


class PacingSettings(BaseModel):
    """Where workers share their count of recent CRM calls (adapters/pacing.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # redis://[:password@]host:port/db shares the count between processes and machines; unset,
    # each process paces alone (enough for one process; several may then meet the CRM's 429s).
    storage_url: SecretStr | None = None

    @field_validator("storage_url")
    @classmethod
    def _known_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme = value.get_secret_value().partition("://")[0]
            if scheme not in PACING_SCHEMES:
                known = ", ".join(sorted(PACING_SCHEMES))
                raise ValueError(f"pacing storage must be one of {known} (got {scheme}://…)")
        return value


# The `limits` storages we support for sharing the pacing count.
PACING_SCHEMES = frozenset({"memory", "redis", "rediss", "redis+unix", "redis+sentinel"})


class Settings(BaseSettings):
    """All of cem-bridge's settings, with their defaults."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    database_url: SecretStr = SecretStr("sqlite:///./cem.db")
    auto_migrate: bool = True
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.JSON
    mappings_dir: Path | None = None
    keep_message_text: bool = False
    # The service's public base URL (behind a proxy the URL a CRM signed its webhook with
    # differs from the one we see); None = the URL of the request as received.
    public_url: HttpUrl | None = None
    api: ApiSettings = ApiSettings()
    sentiment: SentimentSettings = SentimentSettings()
    churn: FlagPolicy = FlagPolicy()
    churn_training: TrainingPolicy = TrainingPolicy()
    jobs: JobSettings = JobSettings()
    queue: QueueSettings = QueueSettings()
    webhooks: WebhookSettings = WebhookSettings()
    pacing: PacingSettings = PacingSettings()
    # One block per connection, its model chosen by `KIND` (adapters/registry.py).
    connections: dict[str, AnyConnectionSettings] = {}
    # Keys the suppression list of erased CRM records (HMAC-SHA256); 32+ characters. Unset: a
    # key generated into the database is used and a warning logged (service/store/suppression.py).
    suppression_key: SecretStr | None = Field(default=None, min_length=32)

    def suppression_secret(self) -> str | None:
        return self.suppression_key.get_secret_value() if self.suppression_key else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The plain secrets source only fills top-level fields; the nested one splits file
        # names on `__` like the environment, so `CEM_CONNECTIONS__acme__ACCESS_TOKEN` and
        # `CEM_WEBHOOKS__ENCRYPTION_KEY` files arrive too (issue 16).
        nested = NestedSecretsSettingsSource(file_secret_settings)
        return init_settings, env_settings, dotenv_settings, nested

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, for log redaction."""
        found: list[str] = []
        _collect_secrets(self, found)
        return [s for s in found if len(s) >= 4]


def _collect_secrets(value: Any, found: list[str]) -> None:
    if isinstance(value, SecretStr):
        found.append(value.get_secret_value())
        found.extend(_password_of_url(value.get_secret_value()))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect_secrets(getattr(value, name), found)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_secrets(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_secrets(item, found)


def _password_of_url(url: str) -> list[str]:
    # A database URL's password is the part an operator would not want printed.
    if "://" not in url or "@" not in url:
        return []
    userinfo = url.split("://", 1)[1].split("@", 1)[0]
    return [userinfo.split(":", 1)[1]] if ":" in userinfo else []


def _setting_name(loc: tuple[int | str, ...], error_type: str) -> str:
    if loc[:1] == ("connections",) and len(loc) > 2 and loc[2] in kinds():
        # The settings union puts the connector's kind in the location: no variable has it.
        loc = loc[:2] + loc[3:]
    if error_type.startswith("union_tag_"):  # an unknown or missing KIND
        loc = (*loc, "kind")
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


def format_validation_error(error: ValidationError) -> str:
    """One line naming the first bad setting, e.g. `CEM_PORT: Input should be ... (got 'x')`."""
    first = error.errors()[0]
    name = _setting_name(tuple(first["loc"]), first["type"]) if first["loc"] else "settings"
    problem = first["msg"]
    if first["type"] == "extra_forbidden":
        problem = "unknown setting"
    count = len(error.errors())
    more = f" (and {count - 1} more)" if count > 1 else ""
    return f"invalid setting {name}: {problem}{more}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and secrets directory; ConfigError on bad ones."""
    secrets_dir = os.environ.get(ENV_PREFIX + "SECRETS_DIR")
    secrets_path = Path(secrets_dir) if secrets_dir else DEFAULT_SECRETS_DIR
    try:
        if secrets_path.is_dir():
            return Settings(_secrets_dir=secrets_path, **overrides)
        if secrets_dir:
            raise ConfigError(f"invalid setting {ENV_PREFIX}SECRETS_DIR: not a directory")
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error)) from None
