"""One message from any channel received through the API (`POST /v1/interactions`): the
connection checked, the message stored with its sentiment, the customer rescored and pushed.

The route only translates HTTP to a `Message` and a `MessageOutcome` back; the core of it is
`ingest.ingest_interaction`, which this wires to the connection's adapters, the stores, the
shared analyzer, the connection's purchase model and the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from service.domain import Channel, Direction, Interaction
from service.ports import Clock, CrmConnection
from service.scoring.customer import CustomerScore
from service.sentiment.pipeline import SentimentAnalyzer
from service.usecases.ingest import ingest_interaction
from service.usecases.model_cache import PurchaseModels
from service.usecases.sync import Elsewhere, SyncReport, SyncStores


class UnknownConnectionError(LookupError):
    """No connection of that name is configured."""


@dataclass(frozen=True)
class Message:
    """A message about the customer `customer` (their record id in the connection's CRM);
    `id` is the sender's id of it, the idempotency key."""

    id: str
    customer: str
    channel: Channel
    text: str
    language: str | None = None
    direction: Direction = Direction.INBOUND
    occurred_at: datetime | None = None  # None: now


@dataclass(frozen=True)
class MessageOutcome:
    customer_id: str
    new: bool  # False when this message id was already ingested
    sentiment: str | None  # the stored message's sentiment label
    score: CustomerScore | None
    report: SyncReport


class ReceiveMessage:
    """`receive(connection, message)`; raises `UnknownConnectionError`, and what
    `ingest_interaction` raises (`UnknownCustomerError`, `CustomerErasedError`, `CrmError`)."""

    def __init__(
        self,
        connections: Collection[str],
        build_connection: Callable[[str], CrmConnection],
        stores: Callable[[], SyncStores],
        analyzer: Callable[[], SentimentAnalyzer],
        models: PurchaseModels,
        clock: Clock,
    ) -> None:
        self._connections = connections
        self._build_connection = build_connection
        self._stores = stores
        self._analyzer = analyzer
        self._models = models
        self._clock = clock

    def __call__(self, connection: str, message: Message) -> MessageOutcome:
        if connection not in self._connections:
            raise UnknownConnectionError(connection)
        now = self._clock.now()
        stores = self._stores()
        interaction = Interaction(
            id=message.id,
            customer_id=message.customer,
            channel=message.channel,
            direction=message.direction,
            occurred_at=message.occurred_at or now,
            text=message.text,
            language=message.language,
        )
        # Built per message, like the sync job does: a connection that cannot be built (no
        # base URL, bad credentials) raises a CrmConfigError here, for the caller to answer.
        wiring = self._build_connection(connection)
        result = ingest_interaction(
            connection,
            wiring.reader,
            wiring.writer,
            stores,
            interaction,
            now,
            analyzer=self._analyzer(),
            models=self._models.get(connection, stores.records),
            elsewhere=Elsewhere(
                lambda other: self._build_connection(other).writer,
                lambda other: self._models.get(other, stores.records),
                self._connections,
            ),
        )
        history = stores.records.history([result.customer_id]).get(result.customer_id)
        mine = [i for i in history.interactions if i.id == message.id] if history else []
        sentiment = mine[0].sentiment if mine else None
        return MessageOutcome(
            customer_id=result.customer_id,
            new=result.new,
            sentiment=sentiment.label.value if sentiment else None,
            score=result.score,
            report=result.report,
        )
