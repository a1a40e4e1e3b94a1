"""`POST /v1/sentiment` (auth, single, batch, validation as problem+json) and `cem sentiment`."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api.services import services_of
from service.cli import main
from service.config import Settings
from service.main import create_app
from service.sentiment.cli import run
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.schemas import MAX_BATCH
from service.sentiment.settings import SentimentSettings
from service.store.keys import Scope
from tests.conftest import make_key


@pytest.fixture
def api(settings: Settings, analyzer: SentimentAnalyzer) -> Iterator[TestClient]:
    app = create_app(settings)
    services_of(app).analyzer_factory.provide(analyzer)  # share the session's loaded model
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _auth(client: TestClient, *scopes: Scope) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(client, *scopes)}"}


def test_single_text(api: TestClient) -> None:
    response = api.post(
        "/v1/sentiment",
        json={"text": "Product great, delivery terrible", "language": "en", "id": "t-1"},
        headers=_auth(api, Scope.READ),
    )
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["id"] == "t-1"
    assert result["language"] == "en"
    aspects = {a["aspect"]: a["label"] for a in result["aspects"]}
    assert aspects == {"product_quality": "positive", "delivery": "negative"}


def test_batch_keeps_order_and_reports_unknown(api: TestClient) -> None:
    items = [
        {"id": "a", "text": "一点也不差"},
        {"id": "b", "text": "Je suis très déçu du service."},
        {"id": "c", "text": "pole üldse halb", "language": "et"},
    ]
    response = api.post("/v1/sentiment", json={"items": items}, headers=_auth(api, Scope.READ))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["a", "b", "c"]
    assert [r["label"] for r in results][:2] == ["positive", "unknown"]
    assert (results[2]["language"], results[2]["label"] != "unknown") == ("et", True)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": "   "},
        {"text": "ok", "items": [{"text": "ok"}]},
        {"items": []},
        {"items": [{"text": "ok"}] * (MAX_BATCH + 1)},
        {"text": "ok", "language": "not a language!"},
        {"items": [{"text": "ok"}], "language": "en"},
    ],
)
def test_bad_requests_are_problem_json(api: TestClient, body: dict[str, object]) -> None:
    response = api.post("/v1/sentiment", json=body, headers=_auth(api, Scope.READ))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_requires_an_api_key(api: TestClient) -> None:
    assert api.post("/v1/sentiment", json={"text": "ok"}).status_code == 401


def test_cli_lines_in_lines_out_with_errors_by_line(analyzer: SentimentAnalyzer) -> None:
    source = io.StringIO(
        '{"id": "1", "text": "không tệ chút nào"}\n'
        "not json\n"
        "\n"
        '{"id": 2, "text": "Product great, delivery terrible", "lang": "en"}\n'
        '{"id": "3"}\n'
        '{"id": "4", "text": "请把发票4521发给我", "lang": "zh-CN"}\n'
    )
    sink, errors = io.StringIO(), io.StringIO()
    bad = run(source, sink, errors, analyzer, batch=2)
    lines = [json.loads(x) for x in sink.getvalue().splitlines()]
    assert bad == 2
    assert errors.getvalue().splitlines() == [
        "line 2: not JSON (Expecting value)",
        "line 5: text: missing",
    ]
    assert [x["id"] for x in lines] == ["1", "2", "4"]
    assert set(lines[0]) == {
        "id",
        "label",
        "score",
        "confidence",
        "language",
        "language_confidence",
        "aspects",
    }
    assert [x["label"] for x in lines] == ["positive", "negative", "neutral"]
    assert lines[2]["language"] == "zh"


def test_cli_command_exit_code(
    analyzer: SentimentAnalyzer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    import service.sentiment.pipeline as pipeline

    monkeypatch.setenv("CEM_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setattr(pipeline, "SentimentAnalyzer", lambda settings: analyzer)
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "1", "text": "not bad at all"}\n'))
    assert main(["sentiment"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] == "positive"
    monkeypatch.setattr("sys.stdin", io.StringIO("[1, 2]\n"))
    assert main(["sentiment"]) == 1
    err = capsys.readouterr().err
    assert "line 1" in err
    assert err.strip().endswith("could not be scored (see the messages above)")


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ("false", [], False),  # the setting applies when no flag is given
        ("true", [], True),
        ("false", ["--fast-path"], True),  # a given flag overrides it
        ("true", ["--no-fast-path"], False),
    ],
)
def test_cli_reads_sentiment_settings_and_flags_override_only_when_given(
    analyzer: SentimentAnalyzer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
    env: str,
    args: list[str],
    expected: bool,
) -> None:
    import service.sentiment.pipeline as pipeline

    seen: list[bool] = []

    def build(settings: SentimentSettings) -> SentimentAnalyzer:
        seen.append(settings.fast_path)
        return analyzer

    monkeypatch.setenv("CEM_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("CEM_SENTIMENT__FAST_PATH", env)
    monkeypatch.setattr(pipeline, "SentimentAnalyzer", build)
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "1", "text": "great"}\n'))
    assert main(["sentiment", *args]) == 0
    assert seen == [expected]
