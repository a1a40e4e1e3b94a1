"""`POST /v1/interactions`' use case without HTTP: the connection check, and the real-time
paths' purchase models (fitted once, refitted after their time to live)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from service.clock import FixedClock
from service.domain import Channel
from service.scoring.churn.thresholds import FlagPolicy
from service.store.records import RecordStore
from service.usecases.messages import Message, ReceiveMessage, UnknownConnectionError
from service.usecases.model_cache import PurchaseModels
from service.usecases.sync import SyncStores

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MESSAGE = Message(id="m1", customer="101", channel=Channel.CHAT, text="Giao hàng trễ quá")


def test_an_unknown_connection_builds_nothing_and_stores_nothing() -> None:
    built: list[str] = []

    def nothing() -> SyncStores:
        raise AssertionError("no store may be opened for an unknown connection")

    receive = ReceiveMessage(
        {"acme"},
        lambda name: built.append(name),  # type: ignore[arg-type,func-returns-value]
        nothing,
        lambda: pytest.fail("no analyzer either"),
        PurchaseModels(FlagPolicy(), FixedClock(T0)),
        FixedClock(T0),
    )
    with pytest.raises(UnknownConnectionError):
        receive("globex", MESSAGE)
    assert built == []


def test_purchase_models_are_fitted_once_per_time_to_live(engine: Engine) -> None:
    ticks = [0.0]
    models = PurchaseModels(FlagPolicy(), FixedClock(T0), ttl_seconds=60, ticks=lambda: ticks[0])
    records = RecordStore(engine)
    first = models.get("acme", records)
    ticks[0] = 59.0
    assert models.get("acme", records) is first
    assert models.get("globex", records) is not first  # per connection
    ticks[0] = 61.0
    assert models.get("acme", records) is not first
