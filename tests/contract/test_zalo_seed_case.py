"""The seed case, end to end over HTTP: a customer writes on Zalo about a late delivery and,
within the same delivery, the churn flag and a follow-up task appear on their contact in the
CRM (HubSpot here). The Zalo follower and the HubSpot contact are one person because the
contact carries the follower's Zalo user id (`refs.zalo`, docs/identity.md rule `ref`); both
emulators are served with the same seed, as `cem sandbox serve --crm hubspot --crm zalo` does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.registry import connection_settings
from sandbox.core.server import SandboxServer
from sandbox.serving import ServeOptions, connection_values, start_sandbox
from sandbox.watch import HubSpotWatch
from service.api.services import services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.usecases.sync import sync

HS, ZL = "shop-hubspot", "shop-zalo"
LATE = (
    "Đơn hàng của tôi giao trễ hai tuần rồi, giao hàng quá tệ. Tôi rất thất vọng, "
    "sẽ hủy đơn và không bao giờ mua nữa."
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    sandbox = start_sandbox(ServeOptions(kinds=("hubspot", "zalo"), customers=80, seed=13))
    home = tmp_path_factory.mktemp("seed-case")
    settings = Settings(
        database_url=f"sqlite:///{home / 'seed.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        jobs=JobSettings(enabled=False),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
        connections={
            HS: connection_settings(connection_values(sandbox.info, "hubspot")),
            ZL: connection_settings(connection_values(sandbox.info, "zalo")),
        },
    )
    app = create_app(settings)
    state = services_of(app)
    for name in (HS, ZL):
        wiring = state.build_connection(name)
        wiring.writer.provision(dry_run=False)
        sync(name, wiring.reader, wiring.writer, state.sync_stores(), datetime.now(UTC),
             analyzer=state.analyzer_factory())  # fmt: skip
    hs = sandbox.info["hubspot"]
    watch = HubSpotWatch(hs["base_url"], hs["access_token"])
    try:
        with SandboxServer(app) as service:
            zalo_admin = f"{sandbox.info['zalo']['admin_url']}/zalo"
            target = {"target_url": f"{service.base_url}/v1/webhooks/zalo"}
            httpx.put(f"{zalo_admin}/webhooks", json=target).raise_for_status()
            yield {"state": state, "admin": zalo_admin, "watch": watch, "sandbox": sandbox}
    finally:
        watch.close()
        sandbox.stop()


def test_a_late_delivery_on_zalo_flags_the_crm_contact_and_creates_one_task(
    world: dict[str, Any],
) -> None:
    records = world["state"].sync_stores().records
    truth = httpx.get(f"{world['admin']}/truth").json()["followers"]
    # A follower whose person the batch sync linked to a HubSpot contact (by refs.zalo).
    linked = {}
    for user in truth:
        customer = records.known_customer(ZL, user)
        contact = records.crm_ids(HS, [customer]).get(customer) if customer else None
        if contact is not None:
            linked[user] = contact[1]
    assert linked, "no Zalo follower was linked to a HubSpot contact"
    watch: HubSpotWatch = world["watch"]
    before = watch.look(list(linked.values()))
    user, contact = next((u, c) for u, c in linked.items() if not before[c].flag)

    sent = httpx.post(
        f"{world['admin']}/events",
        json={"event_name": "user_send_text", "user_id": user, "text": LATE},
    )
    sent.raise_for_status()
    deadline = time.monotonic() + 30
    seen = watch.look([contact])[contact]
    while not (seen.flag and seen.task_keys - before[contact].task_keys):
        assert time.monotonic() < deadline, f"no flag and task on contact {contact}: {seen}"
        time.sleep(0.2)
        seen = watch.look([contact])[contact]
    assert seen.scored_at != before[contact].scored_at
    assert len(seen.task_keys - before[contact].task_keys) == 1

    # Zalo redelivers the same msg_id: still one task.
    key = sent.json()["msg_id"]
    httpx.post(f"{world['admin']}/redeliver", json={"key": key}).raise_for_status()
    deliveries = httpx.get(f"{world['admin']}/webhooks/deliveries").json()["deliveries"]
    assert [d["status"] for d in deliveries[-2:]] == [200, 200]
    after = watch.look([contact])[contact]
    assert after.task_keys == seen.task_keys
