"""Outbound webhooks cannot be aimed inside the network (SSRF), and failures are categories.

The address table runs through `is_public`; the policy through a stub resolver; deliveries go to
real sockets on 127.0.0.1 (a small HTTP server and a closed port), which only the allow-list
lets through: the tests that deliver there prove the allow-list, the others that nothing
internal is reached without it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.api.services import services_of
from service.config import Settings
from service.main import create_app
from service.store.database import make_engine, upgrade
from service.store.keys import Scope
from service.store.tables import WebhookSubscription
from service.store.webhooks import WebhookRepository
from service.webhooks import EventType, SecretVault, WebhookDispatcher, WebhookOutbox
from service.webhooks.egress import EgressBlockedError, EgressPolicy, is_public
from service.webhooks.settings import WebhookSettings
from tests.conftest import make_key

VAULT = SecretVault("k" * 40)
ENCRYPTION_KEY = "an-encryption-key-of-at-least-32-chars"

BLOCKED = [
    "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "169.254.0.1", "100.64.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "192.0.0.192", "198.18.0.1", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
]  # fmt: skip
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.215.14"]


@pytest.mark.parametrize("address", BLOCKED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def stub(mapping: dict[str, list[str]]) -> tuple[EgressPolicyResolver, list[str]]:
    calls: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        calls.append(host)
        if host not in mapping:
            raise OSError("no such host")
        return mapping[host]

    return resolve, calls


EgressPolicyResolver = object  # (typing only)


def test_policy_scheme_dns_mixed_answers_and_allow_list() -> None:
    resolve, _ = stub(
        {
            "hooks.example.com": ["93.184.215.14"],
            "mixed.example.com": ["93.184.215.14", "10.0.0.5"],
            "intranet.corp": ["10.20.0.7"],
        }
    )
    policy = EgressPolicy(resolver=resolve)  # type: ignore[arg-type]
    assert policy.check("https://hooks.example.com/x").address == "93.184.215.14"
    for url, category in [
        ("http://hooks.example.com/x", "blocked"),  # http needs ALLOW_HTTP
        ("https://mixed.example.com/x", "blocked"),  # one private answer is enough
        ("https://intranet.corp/x", "blocked"),
        ("https://127.0.0.1:5432/", "blocked"),
        ("https://[::ffff:127.0.0.1]/", "blocked"),
        ("https://169.254.169.254/latest/meta-data/", "blocked"),
        ("https://nowhere.example.com/", "dns"),
    ]:
        with pytest.raises(EgressBlockedError) as caught:
            policy.check(url)
        assert caught.value.category == category, url
    by_cidr = EgressPolicy(allowed=["10.20.0.0/16"], resolver=resolve)  # type: ignore[arg-type]
    assert by_cidr.check("https://intranet.corp/x").address == "10.20.0.7"
    by_host = EgressPolicy(allowed=["intranet.corp"], resolver=resolve)  # type: ignore[arg-type]
    assert by_host.check("https://intranet.corp/x").address == "10.20.0.7"
    with pytest.raises(EgressBlockedError):  # the allow-list is for what it names only
        by_cidr.check("https://127.0.0.1/")
    assert EgressPolicy(allow_http=True, resolver=resolve).check(  # type: ignore[arg-type]
        "http://hooks.example.com/x"
    )


# -- the API refuses internal URLs at subscription -------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'egress.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        webhooks=WebhookSettings(encryption_key=ENCRYPTION_KEY, enabled=False),  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        resolve, _ = stub({"hooks.example.com": ["93.184.215.14"], "evil.example.com": ["::1"]})
        services_of(client.app).webhook_egress.resolver = resolve
        yield client


def test_subscribing_an_internal_url_is_422(api: TestClient) -> None:
    headers = {"X-API-Key": make_key(api, Scope.ADMIN)}
    for url in [
        "https://127.0.0.1:6379/",
        "https://localhost/",  # does not resolve here; where it does, to loopback
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:7f00:1]/",
        "https://[fd00:ec2::254]/",
        "https://evil.example.com/",  # a public name pointing at ::1
        "https://2130706433/",  # 127.0.0.1 as one number
        "http://hooks.example.com/",  # not https
    ]:
        answer = api.post("/v1/webhooks/subscriptions", json={"url": url}, headers=headers)
        assert answer.status_code == 422, (url, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"] == "body.url"
    ok = api.post(
        "/v1/webhooks/subscriptions", json={"url": "https://hooks.example.com/"}, headers=headers
    )
    assert ok.status_code == 201, ok.text


# -- deliveries over real sockets ------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []
    status = 204
    location: str | None = None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.seen.append((self.path, self.headers.get("Host")))
        self.send_response(Receiver.status)
        if Receiver.location:
            self.send_header("Location", Receiver.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[int]:
    Receiver.seen, Receiver.status, Receiver.location = [], 204, None
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'deliver.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def deliver_once(engine: Engine, url: str, policy: EgressPolicy) -> tuple[str, str | None]:
    """Subscribe `url`, emit one event, run one delivery round: (state, last_error)."""
    repo = WebhookRepository(engine)
    for earlier in repo.subscription_page().items:  # one subscriber at a time
        repo.remove(earlier.id)
    repo.add(WebhookSubscription(url=url, secret_ciphertext=VAULT.encrypt("whsec_" + "A" * 32)))
    WebhookOutbox(engine).emit(EventType.FLAG_RAISED, {"customer_id": "c1"})
    settings = WebhookSettings(timeout_seconds=2, max_attempts=1)
    sender = WebhookDispatcher(repo, VAULT, settings, egress=policy)
    try:
        assert sender.deliver_due() == 1
    finally:
        sender.stop()
    subscription = repo.subscription_page().items[-1]
    (row,) = repo.delivery_page(subscription.id).items
    return row.state, row.last_error


def test_without_the_allow_list_loopback_is_never_contacted(db: Engine, receiver: int) -> None:
    resolve, _ = stub({"receiver.test": ["127.0.0.1"]})
    policy = EgressPolicy(allow_http=True, resolver=resolve)  # type: ignore[arg-type]
    assert deliver_once(db, f"http://receiver.test:{receiver}/hook", policy) == (
        "failed",
        "blocked",
    )
    # A closed port and an open one answer alike: nothing to map.
    assert deliver_once(db, f"http://127.0.0.1:{closed_port()}/", policy) == ("failed", "blocked")
    assert Receiver.seen == []


def test_the_allow_list_lets_a_receiver_through_pinned_to_the_checked_address(
    db: Engine, receiver: int
) -> None:
    resolve, calls = stub({"receiver.test": ["127.0.0.1"]})
    policy = EgressPolicy(allow_http=True, allowed=["127.0.0.1/32"], resolver=resolve)  # type: ignore[arg-type]
    assert deliver_once(db, f"http://receiver.test:{receiver}/hook", policy) == (
        "delivered",
        None,
    )
    # One DNS lookup (the check), the connection went to its answer, Host kept the name.
    assert calls == ["receiver.test"]
    assert Receiver.seen == [("/hook", f"receiver.test:{receiver}")]
    repo = WebhookRepository(db)
    delivered = repo.delivery_page(repo.subscription_page().items[0].id)
    assert delivered.items[0].next_attempt_at is None  # nothing is due any more


def test_failures_are_categories_not_messages(db: Engine, receiver: int) -> None:
    policy = EgressPolicy(allow_http=True, allowed=["127.0.0.1/32"])
    assert deliver_once(db, f"http://127.0.0.1:{closed_port()}/", policy) == ("failed", "refused")
    # https to a plain-http server: the handshake fails.
    assert deliver_once(db, f"https://127.0.0.1:{receiver}/", policy) == ("failed", "tls")
    Receiver.status, Receiver.location = 302, "http://169.254.169.254/"
    assert deliver_once(db, f"http://127.0.0.1:{receiver}/", policy) == ("failed", "redirect")
    assert len(Receiver.seen) == 1  # the redirect was not followed
    Receiver.status, Receiver.location = 503, None
    assert deliver_once(db, f"http://127.0.0.1:{receiver}/", policy) == ("failed", "http_5xx")


def test_a_host_that_turns_internal_after_subscribing_is_blocked_at_delivery(
    db: Engine, receiver: int
) -> None:
    answers = {"rebind.example.com": ["93.184.215.14"]}
    resolve, _ = stub(answers)
    policy = EgressPolicy(allow_http=True, resolver=resolve)  # type: ignore[arg-type]
    policy.check(f"http://rebind.example.com:{receiver}/")  # fine when subscribed
    answers["rebind.example.com"] = ["127.0.0.1"]  # then the DNS answer changes
    url = f"http://rebind.example.com:{receiver}/"
    assert deliver_once(db, url, policy) == ("failed", "blocked")
    assert Receiver.seen == []


def test_deliveries_api_shows_no_next_attempt_once_delivered(db: Engine) -> None:
    repo = WebhookRepository(db)
    repo.add(WebhookSubscription(url="https://h.example.com/", secret_ciphertext="x"))
    WebhookOutbox(db).emit(EventType.FLAG_RAISED, {"customer_id": "c1"})
    subscription = repo.subscription_page().items[0]
    (row,) = repo.delivery_page(subscription.id).items
    assert row.next_attempt_at is not None
    from service.store.tables import WebhookDeliveryState

    now = datetime.now(UTC)
    repo.record(row.id, state=WebhookDeliveryState.DELIVERED, status=200, error=None,
                next_attempt_at=None, now=now)  # fmt: skip
    (row,) = repo.delivery_page(subscription.id).items
    assert (row.state, row.next_attempt_at, row.delivered_at) == ("delivered", None, now)
