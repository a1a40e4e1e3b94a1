"""The brand-wide 429 bucket, OAuth client credentials, and the event sender: form-urlencoded,
brand-prefixed Topic, HMAC-SHA512 of MSG under the sharedKey."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qs

import httpx

from sandbox.core.server import SandboxServer
from sandbox.qualtrics.app import API, create_app
from sandbox.qualtrics.emulator import QualtricsConfig, QualtricsEmulator
from sandbox.qualtrics.surveys import BY_KIND
from tests.sandbox.qualtrics.conftest import Brand, Receiver

NPS = BY_KIND["nps"].id


def test_the_brand_bucket_answers_429_whoever_asks() -> None:
    config = QualtricsConfig(rate_per_minute=4, user_tokens=["other-user"])
    with SandboxServer(create_app(config)) as server:
        statuses = []
        for token in ("qualtrics-sandbox-token-0000000000000000", "other-user") * 3:
            answer = httpx.get(
                server.base_url + API + "/surveys", headers={"X-API-TOKEN": token}, trust_env=False
            )
            statuses.append(answer.status_code)
        assert statuses[:4] == [200] * 4
        assert statuses[4:] == [429, 429]  # the other user shares the brand's bucket
        body = answer.json()["meta"]
        assert body["httpStatus"] == "429 - Too Many Requests"
        assert body["error"]["errorCode"]


def test_client_credentials_give_a_bearer_token() -> None:
    emulator = QualtricsEmulator(QualtricsConfig(rate_per_minute=None))
    with SandboxServer(create_app(emulator=emulator)) as server:
        cfg = emulator.config
        token = httpx.post(
            server.base_url + "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": "read:survey_responses"},
            auth=(cfg.client_id, cfg.client_secret),
            trust_env=False,
        )
        access = token.json()["access_token"]
        ok = httpx.get(
            server.base_url + API + "/surveys",
            headers={"Authorization": f"Bearer {access}"},
            trust_env=False,
        )
        assert ok.status_code == 200
        wrong = httpx.post(
            server.base_url + "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(cfg.client_id, "nope"),
            trust_env=False,
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"


def test_a_keyed_subscription_gets_signed_form_events(brand: Brand, receiver: Receiver) -> None:
    key = "shared-key-for-tests"
    with brand.api() as api, brand.admin() as admin:
        plain = api.post(
            "/eventsubscriptions/",
            json={
                "topics": f"surveyengine.completedResponse.{NPS}",
                "publicationUrl": receiver.url,
            },
        ).json()["result"]["id"]
        keyed = api.post(
            "/eventsubscriptions/",
            json={
                "topics": "surveyengine.completedResponse.*",
                "publicationUrl": receiver.url,
                "encrypt": False,
                "sharedKey": key,
            },
        ).json()["result"]["id"]
        listed = api.get("/eventsubscriptions/").json()["result"]["elements"]
        assert {s["id"] for s in listed} >= {plain, keyed}
        assert all("sharedKey" not in s for s in listed)
        rid = next(iter(brand.emulator.responses[NPS]))
        receiver.posts.clear()
        sent = admin.post("/events/send", json={"surveyId": NPS, "responseId": rid}).json()
        assert [d["status"] for d in sent["deliveries"]] == [200, 200]
        for sub in (plain, keyed):
            assert api.delete(f"/eventsubscriptions/{sub}").status_code == 200
    assert all(p["content_type"] == "application/x-www-form-urlencoded" for p in receiver.posts)
    forms = [{k: v[0] for k, v in parse_qs(p["body"].decode()).items()} for p in receiver.posts]
    flat = next(f for f in forms if "HMAC" not in f)
    signed = next(f for f in forms if "HMAC" in f)
    brand_id = brand.emulator.config.brand_id
    assert flat["Topic"] == f"{brand_id}.surveyengine.completedResponse.{NPS}"
    assert (flat["SurveyID"], flat["ResponseID"], flat["Status"]) == (NPS, rid, "Complete")
    assert set(signed) == {"Topic", "HMAC", "MSG"}
    expected = hmac.new(key.encode(), signed["MSG"].encode(), hashlib.sha512).hexdigest()
    assert signed["HMAC"] == expected
    assert len(expected) == 128
    assert json.loads(signed["MSG"])["ResponseID"] == rid


def test_subscriptions_need_a_brand_administrator(brand: Brand) -> None:
    with brand.api(token="plain-user-token") as api:
        assert api.get("/eventsubscriptions/").status_code == 403
        assert api.get("/surveys").status_code == 200


def test_faults_answer_in_the_envelope(brand: Brand) -> None:
    rules = {
        "name": "t",
        "seed": 1,
        "rules": [{"route": "* /API/v3/*", "error_5xx": 1.0, "times": 1}],
    }
    base = brand.server.base_url + "/__sandbox"
    assert httpx.put(base + "/faults", json=rules, trust_env=False).status_code == 200
    with brand.api() as api:
        failed = api.get("/surveys")
        assert failed.status_code == 503
        assert failed.json()["meta"]["httpStatus"].startswith("503")
        assert api.get("/surveys").status_code == 200


def test_the_view_lists_and_shows_responses_escaped(brand: Brand) -> None:
    base = brand.server.base_url + "/__sandbox/view"
    rid = next(iter(brand.emulator.responses[NPS]))
    email = brand.emulator.responses[NPS][rid].embedded["email"]
    listing = httpx.get(f"{base}/responses", params={"q": email}, trust_env=False)
    assert listing.status_code == 200
    assert rid in listing.text
    detail = httpx.get(f"{base}/responses/{rid}", trust_env=False)
    assert "QID1" in detail.text
    assert "recordedDate" in detail.text
    assert httpx.get(f"{base}/responses/R_nothere", trust_env=False).status_code == 404
