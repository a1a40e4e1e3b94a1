"""The Zalo emulator behaves as the facts in docs/zalo.md say: OAuth v4 (PKCE, single-use
codes and rotating refresh tokens, `expires_in` a string, the `secret_key` header), errors as
HTTP 200 with a negative `error`, -216 for a bad or expired token, page limits, the -230
window on consultation sends with their quota fields, the rate limit, and webhooks signed
with the plain SHA-256 `mac`, redelivered byte for byte."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.core.server import SandboxServer
from sandbox.data.crossref import zalo_user_id
from sandbox.data.generate import generate
from sandbox.data.model import Person
from sandbox.zalo import events
from sandbox.zalo.app import create_app
from sandbox.zalo.config import ZaloConfig
from sandbox.zalo.emulator import ZaloEmulator
from tests.sandbox.zalo.conftest import CUSTOMERS, SEED, Oa


def _pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
    return verifier, challenge.rstrip("=")


def _code(oa: Oa, challenge: str) -> str:
    answer = oa.http.get(
        "/v4/oa/permission",
        params={"app_id": oa.config.app_id, "redirect_uri": "https://shop.example/cb",
                "code_challenge": challenge, "state": "s1"},
    )  # fmt: skip
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["oa_id"] == [oa.config.oa_id]
    assert query["state"] == ["s1"]
    return query["code"][0]


def _exchange(oa: Oa, form: dict[str, str], secret: str | None = None) -> dict[str, Any]:
    secret = secret or oa.config.app_secret.get_secret_value()
    answer = oa.http.post("/v4/oa/access_token", data=form, headers={"secret_key": secret})
    assert answer.status_code == 200  # errors too: HTTP 200 with `error`
    body: dict[str, Any] = answer.json()
    return body


def test_the_followers_are_the_generators_vietnamese_persons(oa: Oa) -> None:
    persons = [r for r in generate(seed=SEED, customers=CUSTOMERS) if isinstance(r, Person)]
    expected = {i for p in persons if (i := zalo_user_id(SEED, p.id, p.country)) is not None}
    assert set(oa.emulator.followers) == expected
    assert expected
    assert all(len(i) == 19 for i in expected)
    truth = oa.http.get("/__sandbox/zalo/truth").json()
    assert set(truth["followers"]) == expected
    assert all("experience" in t for t in truth["followers"].values())
    texts = [m.message for c in oa.emulator.conversations.values() for m in c]
    assert texts
    assert any(any(ch in t for ch in "ăâđêôơư") for t in texts)


def test_authorization_code_with_pkce_is_single_use(oa: Oa) -> None:
    verifier, challenge = _pkce()
    code = _code(oa, challenge)
    form = {"app_id": oa.config.app_id, "grant_type": "authorization_code", "code": code}
    wrong = _exchange(oa, {**form, "code_verifier": _pkce()[0]})
    assert wrong["error"] < 0
    assert "access_token" not in wrong
    # A code is spent by any use, even a failed one: the right verifier now comes too late.
    assert _exchange(oa, {**form, "code_verifier": verifier})["error"] < 0
    fresh = _code(oa, challenge)
    good = _exchange(oa, {**form, "code": fresh, "code_verifier": verifier})
    assert good["expires_in"] == "90000"  # a string
    assert good["access_token"]
    assert good["refresh_token"]
    assert _exchange(oa, {**form, "code": fresh, "code_verifier": verifier})["error"] < 0


def test_refresh_tokens_rotate_and_are_single_use(oa: Oa) -> None:
    first = oa.token(oa.grant()["refresh_token"])
    assert isinstance(first["expires_in"], str)
    second = oa.token(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    spent = oa.token(first["refresh_token"])
    assert spent["error"] < 0
    assert "access_token" not in spent
    assert "error_description" in spent
    # Both access tokens work until they expire.
    for token in (first["access_token"], second["access_token"]):
        assert (
            oa.get("/v3.0/oa/user/getlist", token, {"offset": 0, "count": 1}).json()["error"] == 0
        )
    # The app secret travels in the `secret_key` header: a wrong one is refused.
    form = {"app_id": oa.config.app_id, "grant_type": "refresh_token",
            "refresh_token": second["refresh_token"]}  # fmt: skip
    assert _exchange(oa, form, secret="not-the-secret")["error"] < 0


def test_errors_are_http_200_with_a_negative_code(oa: Oa) -> None:
    token = oa.access()
    cases = [
        ("/v3.0/oa/user/getlist", "", {"offset": 0, "count": 5}, -216),
        ("/v3.0/oa/user/getlist", "not-a-token", {"offset": 0, "count": 5}, -216),
        ("/v3.0/oa/user/getlist", token, {"offset": 0, "count": 51}, -201),
        ("/v2.0/oa/listrecentchat", token, {"offset": 0, "count": 11}, -201),
        ("/v2.0/oa/conversation", token, {"user_id": "1", "offset": 0, "count": 5}, -213),
        ("/v3.0/oa/user/detail", token, {"user_id": "1000000000000000001"}, -213),
    ]
    for path, bearer, data, code in cases:
        answer = oa.get(path, bearer, data)
        assert answer.status_code == 200, path
        assert answer.json()["error"] == code, (path, answer.json())
        assert answer.json()["message"]


def test_an_expired_access_token_is_minus_216(oa: Oa) -> None:
    token = oa.access()
    assert oa.get("/v3.0/oa/user/getlist", token, {"count": 1}).json()["error"] == 0
    oa.http.post("/__sandbox/clock", json={"advance": 90_001})
    try:
        assert oa.get("/v3.0/oa/user/getlist", token, {"count": 1}).json()["error"] == -216
    finally:
        oa.http.post("/__sandbox/clock", json={"reset": True})


def test_chats_are_newest_first_in_pages_of_ten(oa: Oa) -> None:
    token = oa.access()
    recent = oa.get("/v2.0/oa/listrecentchat", token, {"offset": 0, "count": 10}).json()["data"]
    times = [m["time"] for m in recent]
    assert times == sorted(times, reverse=True)
    assert len(recent) == 10
    item = recent[0]
    assert {"src", "time", "type", "message", "message_id", "from_id", "to_id",
            "from_display_name"} <= set(item)  # fmt: skip
    user = item["from_id"] if item["src"] == 1 else item["to_id"]
    chat = oa.get("/v2.0/oa/conversation", token, {"user_id": user, "offset": 0, "count": 10})
    messages = chat.json()["data"]
    assert messages[0]["message_id"] == item["message_id"]
    detail = oa.get("/v3.0/oa/user/detail", token, {"user_id": user}).json()["data"]
    assert detail["user_is_follower"] is True
    assert detail["display_name"]
    assert set(detail["avatars"]) == {"120", "240"}
    day, month, year = detail["user_last_interaction_date"].split("/")
    assert len(year) == 4
    assert 1 <= int(month) <= 12
    assert 1 <= int(day) <= 31


def test_a_consultation_send_outside_seven_days_is_minus_230(oa: Oa) -> None:
    token = oa.access()
    user = next(u for u, c in oa.emulator.conversations.items() if c)
    body = {"recipient": {"user_id": user}, "message": {"text": "Xin chào"}}
    late = oa.http.post("/v3.0/oa/message/cs", json=body, headers={"access_token": token})
    assert late.status_code == 200
    assert late.json()["error"] == -230
    events.user_sends(oa.emulator, user, "text", "Đơn của tôi đâu rồi?")
    sent = oa.http.post("/v3.0/oa/message/cs", json=body, headers={"access_token": token})
    data = sent.json()["data"]
    assert sent.json()["error"] == 0
    assert data["user_id"] == user
    assert data["message_id"]
    assert data["quota"]["quota_type"] == "reply"
    assert data["quota"]["remain"] == oa.config.free_replies - 1
    oa.http.post("/__sandbox/clock", json={"advance": 8 * 86_400})
    try:
        again = oa.http.post("/v3.0/oa/message/cs", json=body, headers={"access_token": token})
        assert again.json()["error"] in (-230, -216)  # the token expired too after 8 days
    finally:
        oa.http.post("/__sandbox/clock", json={"reset": True})


def test_the_rate_limit_is_minus_32_with_its_headers() -> None:
    emulator = ZaloEmulator(ZaloConfig(requests_per_minute=3))
    with (
        SandboxServer(create_app(emulator=emulator)) as server,
        httpx.Client(base_url=server.base_url, trust_env=False) as http,
    ):
        oa = Oa(emulator, server, http)
        token = oa.token()["access_token"]
        answers = [oa.get("/v3.0/oa/user/getlist", token, {"count": 1}) for _ in range(4)]
    emulator.close()
    assert [a.json()["error"] for a in answers] == [0, 0, 0, -32]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[2].headers["X-RateLimit-Remain"] == "0"


class _Catcher(BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[bytes, dict[str, str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Catcher.got.append((body, dict(self.headers)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        del args


@pytest.fixture
def receiver() -> Iterator[str]:
    _Catcher.got = []
    server = HTTPServer(("127.0.0.1", 0), _Catcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_webhooks_are_signed_with_the_plain_sha256_mac_and_redelivered_unchanged(
    oa: Oa, receiver: str
) -> None:
    oa.http.put("/__sandbox/zalo/webhooks", json={"target_url": receiver}).raise_for_status()
    try:
        user = next(iter(oa.emulator.followers))
        sent = oa.http.post("/__sandbox/zalo/events",
                            json={"event_name": "user_send_text", "user_id": user,
                                  "text": "Giao hàng chậm quá"}).json()  # fmt: skip
        oa.http.post("/__sandbox/zalo/redeliver", json={"key": sent["msg_id"]}).raise_for_status()
        oa.http.post("/__sandbox/zalo/events", json={"event_name": "unfollow", "user_id": user})
        assert oa.emulator.webhooks.flush(10)
    finally:
        oa.http.put("/__sandbox/zalo/webhooks", json={"target_url": None})
        oa.emulator.set_following(user, True)
    (body, headers), (again, again_headers), (gone, _) = _Catcher.got
    event = json.loads(body)
    assert event["event_name"] == "user_send_text"
    assert event["sender"]["id"] == user
    assert isinstance(event["sender"]["id"], str)
    assert isinstance(event["timestamp"], str)
    assert event["timestamp"].isdigit()
    assert event["message"]["msg_id"] == sent["msg_id"]
    key = oa.config.webhooks.oa_secret_key.get_secret_value()
    material = event["app_id"].encode() + body + event["timestamp"].encode() + key.encode()
    assert headers["X-ZEvent-Signature"] == "mac=" + hashlib.sha256(material).hexdigest()
    assert (again, again_headers["X-ZEvent-Signature"]) == (body, headers["X-ZEvent-Signature"])
    assert json.loads(gone)["event_name"] == "unfollow"
    assert json.loads(gone)["follower"]["id"] == user


def test_faults_render_as_zalo_errors(oa: Oa) -> None:
    token = oa.access()
    rules = {"name": "t", "seed": 1, "rules": [{"route": "GET /v3.0/oa/*", "rate_limited": 1.0}]}
    oa.http.put("/__sandbox/faults", json=rules).raise_for_status()
    try:
        limited = oa.get("/v3.0/oa/user/getlist", token, {"count": 1})
        assert (limited.status_code, limited.json()["error"]) == (200, -32)
        expire = {**rules, "rules": [{"route": "GET /v3.0/oa/*", "expired_token": 1.0}]}
        oa.http.put("/__sandbox/faults", json=expire).raise_for_status()
        assert oa.get("/v3.0/oa/user/getlist", token, {"count": 1}).json()["error"] == -216
    finally:
        oa.http.put("/__sandbox/faults/none")
    assert oa.get("/v3.0/oa/user/getlist", token, {"count": 1}).json()["error"] == -216


def test_the_view_lists_followers_and_their_conversation(oa: Oa) -> None:
    page = oa.http.get("/__sandbox/view/followers")
    assert page.status_code == 200
    assert "Followers" in page.text
    user = next(u for u, c in oa.emulator.conversations.items() if c)
    detail = oa.http.get(f"/__sandbox/view/followers/{user}")
    assert detail.status_code == 200
    assert "from " in detail.text
