"""Qualtrics deliveries under attack, through `POST /v1/webhooks/qualtrics`: unsigned,
forged and non-form bodies are 401 before anything is read; a signed body of another shape is
422; whatever signed form arrives, the answer is never a 500 and nothing but a completed-response
event of a survey id and a response id reaches a re-read."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from adapters.qualtrics import webhooks
from adapters.registry import connection_settings
from service.api.services import replace_services
from service.config import Settings
from service.main import create_app
from service.ports import CrmUnavailableError

SECRET = "qualtrics-fuzz-shared-key"
PATH = "/v1/webhooks/qualtrics"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class BuildSpy:
    """Stands in for the connection factory: counts that processing began, then fails as an
    outage does (503)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, name: str) -> Any:
        self.calls += 1
        raise CrmUnavailableError("sandbox down", connection=name)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, BuildSpy]]:
    database = tmp_path_factory.mktemp("q-fuzz") / "f.db"
    config = Settings(
        database_url=f"sqlite:///{database}",  # type: ignore[arg-type]
        connections={
            "q": connection_settings(
                kind="qualtrics", datacenter="fra1", api_token="t", webhook_secret=SecretStr(SECRET)
            )
        },
    )
    app = create_app(config)
    spy = BuildSpy()
    with TestClient(app, raise_server_exceptions=False) as client:
        replace_services(app, build_connection=spy)
        yield client, spy


def _signed(message: str, topic: str = "b.surveyengine.completedResponse.SV_x") -> str:
    digest = hmac.new(SECRET.encode(), message.encode(), hashlib.sha512).hexdigest()
    return urlencode({"Topic": topic, "HMAC": digest, "MSG": message})


def test_unsigned_forged_and_non_forms_are_refused_unread(
    api: tuple[TestClient, BuildSpy],
) -> None:
    client, spy = api
    message = json.dumps({"SurveyID": "SV_x", "ResponseID": "R_y"})
    forged = hmac.new(b"other", message.encode(), hashlib.sha512).hexdigest()
    before = spy.calls
    for body in (
        urlencode({"SurveyID": "SV_x", "ResponseID": "R_y"}),
        urlencode({"Topic": "t", "HMAC": forged, "MSG": message}),
        "\xff\xfe not a form",
        "",
    ):
        answer = client.post(PATH, content=body.encode("latin-1"), headers=FORM)
        assert answer.status_code == 401, (body, answer.text)
    assert spy.calls == before


def test_a_signed_completed_response_is_read_again(api: tuple[TestClient, BuildSpy]) -> None:
    client, spy = api
    before = spy.calls
    body = _signed(json.dumps({"SurveyID": "SV_x", "ResponseID": "R_y", "CompletedDate": "x"}))
    answer = client.post(PATH, content=body, headers=FORM)
    assert answer.status_code == 503  # the re-read was attempted: the spy's outage
    assert spy.calls == before + 1
    other = _signed(json.dumps({"SurveyID": "SV_x", "ResponseID": "R_y"}), topic="b.other.SV_x")
    ignored = client.post(PATH, content=other, headers=FORM)
    assert ignored.status_code == 200
    assert ignored.json()["ignored"] == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    message=st.one_of(
        st.text(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=10), inner, max_size=4)
            ),
            max_leaves=12,
        ).map(json.dumps),
    ),
    topic=st.text(max_size=60),
)
def test_whatever_signed_form_arrives_it_is_never_a_500(
    api: tuple[TestClient, BuildSpy], message: str, topic: str
) -> None:
    client, _spy = api
    answer = client.post(PATH, content=_signed(message, topic), headers=FORM)
    assert answer.status_code in (200, 400, 401, 422, 503), answer.text


@given(st.binary(max_size=300))
def test_decode_reads_a_form_or_says_why_not(body: bytes) -> None:
    try:
        found = webhooks.decode(body)
    except ValueError:
        return
    assert isinstance(found, list)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in found[0].items())
