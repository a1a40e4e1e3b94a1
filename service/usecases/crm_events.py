"""A CRM's event delivery, whatever CRM sent it: authenticate, read, plan, apply.

The connector of the delivery's kind (adapters/registry.py) verifies the signature and turns
the events into notices; the rest is the same for every CRM: events stamped outside a sane
range are ignored, duplicates and stale events dropped (`service.realtime.changes.Inbox`), the
records re-read by id and the customers touched rescored and pushed at once
(`service.usecases.realtime`). Nothing is remembered until the delivery is applied, so a
delivery answered with a failure and sent again is processed in full.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from adapters import registry
from adapters.connector import Connector, WebhookSource
from adapters.settings import ConnectionSettings
from service.domain.limits import epoch_ms_in_range
from service.ports import Clock, CrmReader, CrmWriter
from service.realtime.changes import Changes, Inbox, SecretError, SignatureError
from service.scoring.customer import ScoringModels
from service.sentiment.pipeline import SentimentAnalyzer
from service.usecases.realtime import apply_changes
from service.usecases.sync import Elsewhere, SyncReport, SyncStores


class DeliveryError(Exception):
    """A delivery that cannot be accepted; the subclass says why (the API maps each once)."""


class NoWebhooksError(DeliveryError):
    """No registered connector of this kind takes webhooks."""


class AmbiguousConnectionError(DeliveryError):
    """No connection named, and several of this kind are configured."""


class NotAuthenticError(DeliveryError):
    """A bad or stale signature, or no such connection: told apart for no one, so that an
    unauthenticated caller cannot probe which connection names exist."""


class MisconfiguredSecretError(DeliveryError):
    """The connection's webhook secret cannot be used by its CRM's scheme."""


class MalformedDeliveryError(DeliveryError):
    """The body is JSON but not the CRM's shape (not an array of at most N events)."""


@dataclass(frozen=True)
class Delivery:
    """One request as received: what the signature covers, and the connection it names."""

    kind: str
    connection: str | None
    method: str
    uri: str  # as the CRM signed it (the public URL behind a proxy)
    headers: Mapping[str, str]
    body: bytes


class Adapters(Protocol):
    """A built connection (service.main.Connection): its reader and writer."""

    @property
    def reader(self) -> CrmReader: ...
    @property
    def writer(self) -> CrmWriter: ...


@dataclass(frozen=True)
class CrmEventsDeps:
    """What applying a delivery needs from the composition root."""

    connections: Mapping[str, ConnectionSettings]
    inbox: Inbox
    own_fields: Callable[[str], frozenset[str]]
    build: Callable[[str], Adapters]
    stores: Callable[[], SyncStores]
    analyzer: Callable[[], SentimentAnalyzer]
    models: Callable[[str, Any], ScoringModels]  # (connection, record store)
    clock: Clock


@dataclass(frozen=True)
class Outcome:
    events: int
    changes: Changes
    report: SyncReport


def webhook_source(kind: str) -> tuple[Connector[Any], WebhookSource]:
    """The connector whose deliveries `POST /v1/webhooks/<kind>` takes, with its webhook source;
    NoWebhooksError when no registered connector of that kind sends any."""
    try:
        found = registry.connector(kind)
    except registry.UnknownKindError:
        raise NoWebhooksError(f"no CRM of kind {kind!r} sends webhooks here") from None
    if found.webhooks is None:
        raise NoWebhooksError(f"{found.label} sends no webhooks")
    return found, found.webhooks


def _connection(
    connector: Connector[Any], connections: Mapping[str, ConnectionSettings], name: str | None
) -> tuple[str, str]:
    """(connection name, its webhook secret) for this kind."""
    if name is None:
        mine = [n for n, c in connections.items() if c.kind == connector.kind]
        if len(mine) > 1:
            raise AmbiguousConnectionError(
                f"{len(mine)} {connector.label} connections are configured: "
                "name one with ?connection="
            )
        name = mine[0] if mine else None
    config = connections.get(name) if name is not None else None
    if name is None or config is None or config.kind != connector.kind or not config.webhook_secret:
        raise NotAuthenticError(f"not a valid {connector.label} delivery for this connection")
    return name, config.webhook_secret.get_secret_value()


def authenticate(delivery: Delivery, deps: CrmEventsDeps, now_ms: int) -> str:
    """The connection a delivery is for, once its signature is checked."""
    connector, source = webhook_source(delivery.kind)
    name, secret = _connection(connector, deps.connections, delivery.connection)
    try:
        source.verify(
            secret, delivery.method, delivery.uri, delivery.headers, delivery.body, now_ms
        )
        if source.sender is not None:
            source.sender(deps.connections[name], delivery.body)
    except SecretError:
        raise MisconfiguredSecretError("the connection's webhook secret is misconfigured") from None
    except SignatureError as error:
        raise NotAuthenticError(f"not a valid {connector.label} delivery: {error}") from None
    return name


def plan(
    kind: str, connection: str, payload: Any, deps: CrmEventsDeps, now_ms: int
) -> tuple[int, Changes]:
    """(events in the delivery, what it asks us to do) for an authenticated payload."""
    _, source = webhook_source(kind)
    try:
        found, ignored = source.notices(payload, deps.own_fields(connection))
    except ValueError as error:
        raise MalformedDeliveryError(str(error)) from None
    events = len(found) + ignored
    # An event time before 1970 or more than a day ahead is no event time: such an event is
    # ignored like any other malformed one (a far-future stamp would make every later, real
    # change of the record look stale and be dropped).
    timely = [n for n in found if epoch_ms_in_range(n.stamp, now_ms)]
    ignored += len(found) - len(timely)
    return events, deps.inbox.plan(connection, timely, ignored)


def apply(connection: str, events: int, changes: Changes, deps: CrmEventsDeps) -> Outcome:
    """Re-read, store, rescore and push what the delivery changed; remember it once applied.

    CrmError (the CRM failed, or the connection cannot be built) propagates with nothing
    remembered: the CRM delivers again later, and the retry is processed in full.
    """
    inbox = deps.inbox
    if not changes.reread and not changes.deleted:
        # Only duplicates, stale events or our own writes coming back: nothing to read.
        inbox.applied(connection, changes)
        return Outcome(events, changes, SyncReport())
    stores = deps.stores()
    wiring = inbox.wiring(connection, deps.build)
    report = apply_changes(
        connection,
        wiring.reader,
        wiring.writer,
        stores,
        changes,
        deps.clock.now(),
        analyzer=deps.analyzer(),
        models=deps.models(connection, stores.records),
        serial=inbox.lock(connection),
        elsewhere=Elsewhere(
            lambda other: inbox.wiring(other, deps.build).writer,
            lambda other: deps.models(other, stores.records),
            deps.connections,
        ),
    )
    inbox.applied(connection, changes)
    return Outcome(events, changes, report)
