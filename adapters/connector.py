"""The connector contract: everything the service knows about one kind of source system.

A connector is one package, `adapters/<kind>/`, whose `connector.py` declares `CONNECTOR`, and
one entry in `adapters/registry.py`. The service reads only this declaration: the settings model
`CEM_CONNECTIONS__<name>__…` is parsed into, how a connection's reader and writer are built, the
fields that mark our own writes, the inbound webhook source, and the capabilities that gate the
routes, `cem setup` and erasure. See docs/connectors.md for the recipe.

Importing a connector must stay cheap: settings are read by every process (and every CLI
command), so a connector's SDK is imported inside its `build` function, never at module level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from adapters.settings import ConnectionSettings
from service.realtime.changes import Notice

if TYPE_CHECKING:
    from adapters.mapping import MappingSet
    from adapters.retry import RetryPolicy
    from service.ports import CrmReader, CrmWriter

S = TypeVar("S", bound=ConnectionSettings)

# (secret, method, URI as signed, headers, body, now in ms) -> None, or SignatureError /
# SecretError (service.realtime.changes).
Verify = Callable[[str, str, str, Mapping[str, str], bytes, int], None]
# (parsed JSON body, our own fields) -> (notices, events ignored); ValueError on a bad shape.
ReadNotices = Callable[[Any, frozenset[str]], tuple[list[Notice], int]]


@dataclass(frozen=True)
class Capabilities:
    """What a connector can do; the service asks these instead of naming systems.

    `pull`: it reads records (a `CrmReader`); `push_fields`: it writes our scores and flags onto
    records; `tasks`: it creates and closes follow-up tasks; `erasure`: it can clear what we wrote
    (an erasure calls its writer); `provisioning`: `cem setup` creates the fields it needs.
    Whether it takes webhooks is `Connector.webhooks is not None`.
    """

    pull: bool = True
    push_fields: bool = False
    tasks: bool = False
    erasure: bool = False
    provisioning: bool = False

    def __post_init__(self) -> None:
        # Whatever we write about a person must be erasable (docs/erasure.md).
        if (self.push_fields or self.tasks) and not self.erasure:
            raise ValueError("a connector that writes fields or tasks must declare erasure")


@dataclass(frozen=True)
class WebhookSource:
    """How a system's event deliveries to `POST /v1/webhooks/<kind>` are checked and read."""

    verify: Verify
    notices: ReadNotices
    # How a delivery proves where it came from (shown in OpenAPI; the route-scope audit in
    # service/api/access.py accepts a signed route instead of an API key).
    signed_by: str
    # The request body as OpenAPI describes it.
    body: str
    max_events: int = 100
    # How the body is read once its signature holds (None: JSON). A system that posts forms
    # (Qualtrics) decodes them here; ValueError on a body that is not its format (a 400).
    decode: Callable[[bytes], Any] | None = None
    # (the connection's settings, body) -> None or SignatureError, once the signature holds:
    # the delivery is from the account this connection was set up for (Zalo: its app id), when
    # the signature alone does not say so.
    sender: Callable[[Any, bytes], None] | None = None
    # Paths earlier releases published for this system, kept as deprecated aliases of
    # `/v1/webhooks/<kind>`: (route name, path); a path may take the connection as
    # `{connection}`. The route name keeps the alias's OpenAPI operationId.
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BuildOptions:
    """What the service hands every connector's `build` besides the connection itself."""

    # Where workers share their count of recent calls (adapters/pacing.py); None: this process.
    pacing_url: str | None = None
    # The retry policy (tests shorten the waits); None: the production one.
    policy: RetryPolicy | None = None


@dataclass(frozen=True)
class Wiring:
    """A built connection: its reader and writer, sharing one client. A read-only source (a
    survey tool, a chat channel) has no writer: what we learn from it is pushed to the CRMs
    holding the same person (docs/identity.md)."""

    reader: CrmReader
    writer: CrmWriter | None = None


@dataclass(frozen=True)
class Connector(Generic[S]):
    """One kind of source system (`kind` is the `KIND` setting and the mappings' `crm`)."""

    kind: str
    label: str  # the system's name in messages and OpenAPI summaries
    settings: type[S]
    # The top-level package of the vendor SDK its client uses (None: plain HTTP): only
    # `adapters.<kind>.client` may import it (the "connectors" import contract, pyproject.toml).
    sdk: str | None
    capabilities: Capabilities
    # (name, settings, mappings, options) -> reader and writer; imports the SDK when called.
    build: Callable[[str, S, MappingSet, BuildOptions], Wiring]
    # The field our tasks carry their idempotency key in (None: it creates no tasks).
    task_key_field: str | None = None
    webhooks: WebhookSource | None = None
    # Its pull mappings may carry `where`: a condition in the system's own query language that
    # the pull adds to its query (adapters/mapping/shipped/schema.json).
    pull_where: bool = False

    def connect(
        self,
        name: str,
        settings: ConnectionSettings,
        mappings: MappingSet,
        options: BuildOptions | None = None,
    ) -> Wiring:
        """The reader and writer of the connection `name` (settings of this connector's kind)."""
        if not isinstance(settings, self.settings):
            raise TypeError(f"connection {name} is a {settings.kind}, not a {self.kind}")
        return self.build(name, settings, mappings, options or BuildOptions())

    def own_fields(self, mappings: MappingSet) -> frozenset[str]:
        """The fields only we write: the push mappings' fields and external ids, and the key our
        tasks carry (how our own writes coming back as events are told apart)."""
        pushed = mappings.for_crm(self.kind, "push")
        keys = {self.task_key_field} if self.task_key_field else set()
        return frozenset({*keys, *(f for m in pushed for f in m.crm_fields())})
