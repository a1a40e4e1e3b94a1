"""`/metrics` an operator can alert on: scrape after real activity and see the series move.

Counters are process-wide (several apps are built in one test process), so tests compare a
scrape before with one after; gauges read from the database are asserted as they are.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from service.api.services import services_of
from service.jobs import JobQueue, JobRegistry, JobRunner, JobSettings
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from service.store.database import session_scope
from service.store.tables import WebhookDelivery, WebhookSubscription, utcnow
from service.store.webhooks import WebhookRepository
from service.webhooks import (
    EventType,
    SecretVault,
    WebhookDispatcher,
    WebhookOutbox,
    WebhookSettings,
    new_secret,
)
from service.webhooks.egress import EgressPolicy

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_process_and_database_series_are_exposed(client: TestClient) -> None:
    samples = scrape(client)
    names = {name for name, _ in samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"} <= names
    assert value(samples, "cem_database_up") == 1.0
    assert value(samples, "cem_job_queue_depth") == 0.0
    assert value(samples, "cem_webhook_outbox_depth") == 0.0


def test_queue_and_outbox_depth_and_age_read_from_the_database(client: TestClient) -> None:
    engine = services_of(client.app).engine
    queue: JobQueue = services_of(client.app).jobs
    now = utcnow()
    # A kind no runner here can run stays queued: exactly what a stuck queue looks like.
    queue.repository.submit("reindex", connection="acme", now=now - timedelta(seconds=300))
    queue.repository.submit("reindex", connection="other", now=now - timedelta(seconds=10))
    later = queue.repository.submit(
        "reindex", connection="x", now=now, run_after=now + timedelta(hours=1)
    )
    subscription = WebhookRepository(engine).add(
        WebhookSubscription(url="https://hooks.example.com/in", secret_ciphertext="x")
    )
    with session_scope(engine) as session:
        session.add(
            WebhookDelivery(
                event_id="e" * 32,
                event_type="flag.raised",
                subscription_id=subscription.id,
                body="{}",
                created_at=now - timedelta(seconds=900),
                next_attempt_at=now,
            )
        )
    samples = scrape(client)
    assert value(samples, "cem_jobs", state="queued", kind="reindex") == 3
    assert value(samples, "cem_jobs", state="failed", kind="reindex") == 0  # zero, not absent
    assert ("cem_jobs", frozenset({("state", "failed"), ("kind", "reindex")})) in samples
    assert value(samples, "cem_job_queue_depth") == 2  # the one not yet due is not waiting
    assert 299 <= value(samples, "cem_job_queue_oldest_age_seconds") < 400
    assert value(samples, "cem_webhook_outbox_depth") == 1
    assert 899 <= value(samples, "cem_webhook_outbox_oldest_age_seconds") < 1000
    queue.cancel(later.id)
    assert value(scrape(client), "cem_jobs", state="cancelled", kind="reindex") == 1


def test_database_down_shows_as_database_up_zero(client: TestClient) -> None:
    from service.store.database import make_engine
    from service.store.gauges import StoreCollector

    down = StoreCollector(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    families = list(down.collect())
    assert [(f.name, f.samples[0].value) for f in families] == [("cem_database_up", 0.0)]
    assert client.get("/metrics").status_code == 200


def test_job_runs_move_duration_and_state_series(client: TestClient) -> None:
    engine = services_of(client.app).engine
    before = scrape(client)
    registry = JobRegistry()

    def fails(_ctx: object, _params: dict[str, object]) -> None:
        raise RuntimeError("boom")

    registry.register("metrics-ok", lambda ctx, params: ctx.progress(done=1))
    registry.register("metrics-bad", fails)
    from service.store.jobs import JobRepository

    queue = JobQueue(JobRepository(engine), registry)
    queue.submit("metrics-ok", connection="a")
    queue.submit("metrics-bad", connection="a")
    JobRunner(queue, JobSettings(enabled=False)).drain()
    after = scrape(client)
    count = "cem_job_duration_seconds_count"
    ok = value(after, count, kind="metrics-ok", outcome="succeeded")
    assert ok - value(before, count, kind="metrics-ok", outcome="succeeded") == 1
    bad = value(after, count, kind="metrics-bad", outcome="failed")
    assert bad - value(before, count, kind="metrics-bad", outcome="failed") == 1
    assert value(after, "cem_jobs", state="failed", kind="metrics-bad") == 1
    assert value(after, "cem_jobs", state="succeeded", kind="metrics-ok") == 1


def test_webhook_deliveries_by_outcome(client: TestClient) -> None:
    engine = services_of(client.app).engine
    vault = SecretVault("k" * 40)
    repository = WebhookRepository(engine)
    for url in ("https://ok.example.com/in", "https://down.example.com/in"):
        repository.add(WebhookSubscription(url=url, secret_ciphertext=vault.encrypt(new_secret())))
    WebhookOutbox(engine).emit(EventType.FLAG_RAISED, {"customer_id": "c1"})

    def receiver(request: httpx.Request) -> httpx.Response:
        # Deliveries go to the vetted address; the Host header keeps the receiver's name.
        return httpx.Response(204 if request.headers["host"] == "ok.example.com" else 503)

    def resolve(host: str, port: int) -> list[str]:
        return {"ok.example.com": ["93.184.215.14"], "down.example.com": ["93.184.215.15"]}[host]

    before = scrape(client)
    dispatcher = WebhookDispatcher(
        repository,
        vault,
        WebhookSettings(),
        client=httpx.Client(transport=httpx.MockTransport(receiver)),
        egress=EgressPolicy(resolver=resolve),
    )
    assert dispatcher.deliver_due() == 2
    after = scrape(client)
    name = "cem_webhook_deliveries_total"
    for outcome in ("delivered", "retry"):
        assert value(after, name, outcome=outcome) - value(before, name, outcome=outcome) == 1
    assert value(after, "cem_webhook_outbox_depth") == 1  # the retried one waits


def test_sentiment_throughput_by_stage_and_language(client: TestClient) -> None:
    before = scrape(client)
    analyzer = SentimentAnalyzer(SentimentSettings(backends={"*": ("lexicon",)}))
    texts = ["The delivery was terribly slow.", "Great service, thank you!"]
    analyzer.analyze_batch([(t, "en") for t in texts])
    analyzer.analyze_batch([(t, "en") for t in texts])  # the second time from the cache
    after = scrape(client)
    moved = {
        dict(labels)["stage"]: after[(name, labels)] - before.get((name, labels), 0.0)
        for name, labels in after
        if name == "cem_sentiment_units_total" and dict(labels).get("language") == "en"
    }
    assert moved.get("cache", 0) >= 2
    assert sum(moved.values()) >= 4
    texts_moved = value(after, "cem_sentiment_texts_total", language="en") - value(
        before, "cem_sentiment_texts_total", language="en"
    )
    assert texts_moved == 4


def test_alert_rules_and_dashboard_use_only_series_the_app_exposes(client: TestClient) -> None:
    import json
    import re
    from pathlib import Path

    import yaml

    docker = Path(__file__).resolve().parents[2] / "docker"
    families = {f.name for f in text_string_to_metric_families(client.get("/metrics").text)}
    rules = yaml.safe_load((docker / "prometheus" / "alerts.yml").read_text())["groups"][0]
    exprs = [rule["expr"] for rule in rules["rules"]]
    dashboard = json.loads((docker / "grafana" / "cem-bridge.json").read_text())
    exprs += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    names = {n for e in exprs for n in re.findall(r"\b(?:cem|process)_[a-z_]+", e)}
    unknown = {n for n in names if re.sub(r"_(total|bucket|count|sum)$", "", n) not in families}
    assert not unknown, unknown
    assert {r["alert"] for r in rules["rules"]} >= {
        "CemNotReady", "CemJobsFailing", "CemJobQueueStuck", "CemWebhookOutboxBacklog",
        "CemCrmRateLimited", "CemCrmQuotaHigh",
    }  # fmt: skip


def test_store_gauges_on_each_database(engine: Engine) -> None:
    """The scrape-time queries on SQLite and PostgreSQL (coalesce/min types differ)."""
    from service.store.gauges import StoreCollector
    from service.store.jobs import JobRepository

    now = utcnow()
    JobRepository(engine).submit("sync", connection="a", now=now - timedelta(seconds=60))
    JobRepository(engine).submit(
        "sync",
        connection="b",
        now=now - timedelta(seconds=30),
        run_after=now - timedelta(seconds=5),
    )
    got = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in StoreCollector(engine, clock=lambda: now).collect()
        for s in family.samples
    }
    assert got[("cem_database_up", ())] == 1
    assert got[("cem_jobs", (("kind", "sync"), ("state", "queued")))] == 2
    assert got[("cem_job_queue_depth", ())] == 2
    assert 59 <= got[("cem_job_queue_oldest_age_seconds", ())] <= 61
    assert got[("cem_webhook_outbox_oldest_age_seconds", ())] == 0
