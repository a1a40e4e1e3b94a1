"""Numbers and times from outside are bounded: amounts finite and below 10^15, event times from
1970 on and (arriving in real time) at most a day ahead; NaN/Infinity are not JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.config import Settings
from service.domain import Customer, Interaction, Transaction
from service.main import create_app
from service.store.keys import Scope
from tests.api.test_errors import assert_problem
from tests.conftest import make_key

NOW = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize("amount", [float("inf"), float("nan"), 1e15, 1e400, -1.0])
def test_amounts_are_finite_and_bounded(amount: float) -> None:
    with pytest.raises(ValidationError):
        Transaction(id="t", customer_id="c", amount=amount, occurred_at=NOW)
    with pytest.raises(ValidationError):
        Customer(id="c", lifetime_value=amount)
    assert Transaction(id="t", customer_id="c", amount=999_999_999_999_999.0, occurred_at=NOW)


def test_event_times_start_in_1970() -> None:
    with pytest.raises(ValidationError):
        Interaction(id="i", customer_id="c", channel="chat",
                    occurred_at=datetime(1969, 12, 31, tzinfo=UTC))  # fmt: skip


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_score_refuses_1e400_and_nan_amounts(client: TestClient) -> None:
    with client:
        key = {"X-API-Key": make_key(client, Scope.READ), "Content-Type": "application/json"}
        for amount in (b"1e400", b"NaN", b"Infinity", b"1e15"):
            body = (
                b'{"as_of": "2026-11-22T12:00:00Z", "customer": {"id": "c"}, "transactions": '
                b'[{"amount": ' + amount + b', "occurred_at": "2026-06-01T10:00:00Z"}]}'
            )
            answer = client.post("/v1/score", content=body, headers=key)
            assert answer.status_code == 422, (amount, answer.text)
            assert_problem(answer, 422)


def test_interactions_refuse_times_before_1970_or_days_ahead(client: TestClient) -> None:
    with client:
        key = {"X-API-Key": make_key(client, Scope.WRITE)}
        ahead = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        for when in ("1969-07-20T20:17:00Z", ahead, "+33658-09-27T01:46:40Z"):
            body = {"connection": "x", "customer": "1", "id": "m1", "channel": "chat",
                    "text": "hi", "occurred_at": when}  # fmt: skip
            answer = client.post("/v1/interactions", json=body, headers=key)
            assert answer.status_code == 422, (when, answer.text)
            fields = {e["field"] for e in answer.json()["errors"]}
            assert "body.occurred_at" in fields
