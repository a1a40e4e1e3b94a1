"""The Zalo client over real HTTP against the emulator: the token store shared by workers
(single-use rotating refresh tokens: one refresh, every worker keeps working, a restart keeps
the chain), -216 refreshed once then retried, secrets never shown; the reader's incremental
messages; the webhook `mac` against the emulator's signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.pacing import BURST, Window
from adapters.zalo import webhooks
from adapters.zalo.client import ZaloClient
from adapters.zalo.tokens import TokenStore
from sandbox.core.harness import TEST_POLICY
from sandbox.zalo import events
from sandbox.zalo.harness import ZaloHarness
from sandbox.zalo.tokens import challenge_of
from sandbox.zalo.webhooks import sign
from service.ports import CrmConfigError
from service.realtime.changes import SignatureError


@pytest.fixture(scope="module")
def oa() -> Iterator[ZaloHarness]:
    with ZaloHarness(40) as running:
        yield running


def _chain(oa: ZaloHarness) -> str:
    """A new refresh token, as an operator gets by authorizing the app (PKCE code flow)."""
    verifier = "pkce-verifier-" + "x" * 40
    code = oa.emulator.tokens.authorize(challenge_of(verifier))
    form = {"app_id": oa.config.app_id, "grant_type": "authorization_code", "code": code,
            "code_verifier": verifier}  # fmt: skip
    granted = oa.emulator.tokens.exchange(oa.config.app_secret.get_secret_value(), form)
    return str(granted["refresh_token"])


def _client(oa: ZaloHarness, store: Path, name: str = "w", seed: str | None = None) -> ZaloClient:
    settings = oa.settings(token_store=store, refresh_token=seed or _chain(oa))
    return ZaloClient(name, settings, TEST_POLICY)


def _page(client: ZaloClient) -> int:
    return int(client.followers(0, 5)["total"])


def test_two_workers_share_one_refresh_and_both_keep_working(
    oa: ZaloHarness, tmp_path: Path
) -> None:
    store = tmp_path / "tokens.json"
    seed = _chain(oa)
    issued = oa.emulator.tokens.issued
    first, second = _client(oa, store, "w1", seed), _client(oa, store, "w2", seed)
    assert _page(first) > 0
    assert _page(second) > 0
    assert oa.emulator.tokens.issued == issued + 1  # the second read the store
    assert first.keeper is not None
    assert second.keeper is not None
    assert (first.keeper.refreshes, second.keeper.refreshes) == (1, 0)
    # Every access token dies (Zalo revoked them): both get -216; one refresh between them.
    oa.emulator.tokens.expire_all()
    assert _page(first) > 0
    assert _page(second) > 0
    assert oa.emulator.tokens.issued == issued + 2
    assert (first.keeper.refreshes, second.keeper.refreshes) == (2, 0)
    # A restart: a new process with the same settings goes on from the stored chain (the
    # configured REFRESH_TOKEN was spent by the first refresh and is never sent again).
    restarted = _client(oa, store, "w3", seed)
    assert _page(restarted) > 0
    assert oa.emulator.tokens.issued == issued + 2
    stored = TokenStore(store).read()
    assert stored is not None
    assert stored.refresh_token != seed
    assert store.stat().st_mode & 0o077 == 0  # only the service's user reads it


def test_workers_refreshing_at_once_spend_the_token_once(oa: ZaloHarness, tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    seed = _chain(oa)
    _page(_client(oa, store, "first", seed))  # the chain starts (the seed is single-use)
    issued = oa.emulator.tokens.issued
    clients = [_client(oa, store, f"t{i}", seed) for i in range(4)]
    for client in clients:  # each holds the token that is about to die
        assert client.keeper is not None
        client.keeper.current()
    oa.emulator.tokens.expire_all()
    start = threading.Barrier(len(clients))
    totals: list[int] = []
    failures: list[BaseException] = []

    def work(client: ZaloClient) -> None:
        start.wait()
        try:
            totals.append(_page(client))
        except BaseException as error:  # collected for the assertion below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert len(totals) == len(clients)
    assert oa.emulator.tokens.issued == issued + 1  # one refresh; the others re-read the store


def test_a_new_refresh_token_in_the_settings_starts_a_new_chain(
    oa: ZaloHarness, tmp_path: Path
) -> None:
    store = tmp_path / "tokens.json"
    _page(_client(oa, store))
    # The operator reconnects the OA and configures the new refresh token: the stored chain
    # (another seed's) is left for it.
    client = _client(oa, store, "w", _chain(oa))
    assert _page(client) > 0
    assert client.keeper is not None
    assert client.keeper.refreshes == 1


def test_minus_216_refreshes_once_then_is_a_config_error(oa: ZaloHarness, tmp_path: Path) -> None:
    client = _client(oa, tmp_path / "tokens.json")
    assert _page(client) > 0
    rule = {"route": oa.api_routes, "expired_token": 1.0}
    oa.server.session().put(
        f"{oa.server.base_url}/__sandbox/faults", json={"name": "t", "rules": [rule]}
    ).raise_for_status()
    try:
        with pytest.raises(CrmConfigError) as raised:
            _page(client)
    finally:
        oa.server.session().put(f"{oa.server.base_url}/__sandbox/faults/none")
    assert client.keeper is not None
    assert client.keeper.refreshes == 2  # the first call's, and exactly one more
    assert "-216" in str(raised.value)
    assert type(raised.value.__cause__).__name__ == "ZaloUnauthorized"
    secrets = [oa.config.app_secret.get_secret_value()]
    stored = TokenStore(tmp_path / "tokens.json").read()
    assert stored is not None
    secrets += [stored.access_token, stored.refresh_token]
    for text in (str(raised.value), repr(raised.value), repr(client), repr(client.keeper)):
        assert not any(s in text for s in secrets)


def test_incremental_messages_bring_the_new_message_and_move_the_cursor(oa: ZaloHarness) -> None:
    reader = oa.reader()
    stream = next(s for s in reader.streams() if s.name == "messages")
    first = list(reader.pull(stream, None))
    cursor = first[-1].cursor
    assert all(b.cursor.modified_at is not None for b in first)
    assert sum(len(b.records) for b in first) == sum(
        len(c) for c in oa.emulator.conversations.values()
    )
    user = next(iter(oa.emulator.followers))
    sent = events.user_sends(oa.emulator, user, "text", "Cho tôi hỏi đơn hàng 4521")
    later = list(oa.reader().pull(stream, cursor))
    ids = [r.id for b in later for r in b.records]
    assert sent["msg_id"] in ids
    assert len(ids) <= 3  # only what is newer than the cursor's look-back
    assert later[-1].cursor.modified_at is not None
    assert cursor.modified_at is not None
    assert later[-1].cursor.modified_at > cursor.modified_at
    message = next(r for b in later for r in b.records if r.id == sent["msg_id"])
    assert message.customer_id == user  # type: ignore[attr-defined]


def test_the_mac_is_checked_exactly_and_the_app_must_be_ours(oa: ZaloHarness) -> None:
    key = oa.config.webhooks.oa_secret_key.get_secret_value()
    event = {"app_id": oa.config.app_id, "event_name": "follow", "follower": {"id": "1"},
             "timestamp": "1700000000000"}  # fmt: skip
    body = json.dumps(event, separators=(",", ":")).encode()
    header = sign(oa.config.app_id, body.decode(), "1700000000000", key)
    now = 1_700_000_001_000
    webhooks.verify(key, "POST", "/", {"x-zevent-signature": header}, body, now)
    for bad in (header.upper(), header[:-1] + "0", header.removeprefix("mac=")):
        with pytest.raises(SignatureError):
            webhooks.verify(key, "POST", "/", {"x-zevent-signature": bad}, body, now)
    mac = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError):  # an HMAC is not Zalo's mac
        webhooks.verify(key, "POST", "/", {"x-zevent-signature": f"mac={mac}"}, body, now)
    with pytest.raises(SignatureError):  # three hours later: stale
        webhooks.verify(key, "POST", "/", {"x-zevent-signature": header}, body, now + 3 * 3600_000)
    webhooks.check_app(body, oa.config.app_id)
    with pytest.raises(SignatureError):
        webhooks.check_app(body, "999")


def test_the_rate_window_zalo_states_paces_our_share(tmp_path: Path) -> None:
    """The emulator states its per-minute limit; the client paces at the connection's share."""
    with ZaloHarness(8) as small:
        small.emulator.config.requests_per_minute = 400
        client = ZaloClient(
            "paced", small.settings(token_store=tmp_path / "t.json", rate_share=0.5), TEST_POLICY
        )
        assert client.pacer.window(BURST) is None  # nothing stated yet: unpaced
        _page(client)
    assert client.pacer.window(BURST) == Window(200, 60)
