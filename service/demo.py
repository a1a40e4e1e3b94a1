"""`cem demo` / `make demo`: the whole loop against the built-in sandbox CRMs, no credentials.

1. start the Salesforce and HubSpot emulators with a generated multilingual dataset;
2. `cem setup` both (custom fields / properties);
3. a full sync of each (pull, sentiment, scoring, push of fields and tasks) with progress;
4. a summary: customers scored, NPS with its interval per market, detractors, churn flags,
   tasks created with examples in each staff language;
5. the API starts on a local SQLite file; a live negative Zalo chat in Vietnamese is logged in
   HubSpot, the HubSpot sandbox's webhook sender delivers the event to
   `POST /v1/webhooks/hubspot`, and the flag and the task appear in HubSpot, timed from the
   write to both being visible there;
6. the API keeps serving with a fresh admin key (unless `--once`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table

from sandbox.core.server import SandboxServer
from sandbox.serving import Crm, RunningSandbox, ServeOptions, start_sandbox
from sandbox.watch import HubSpotWatch
from service.config import ConnectionSettings, CrmKind, Settings, load_settings
from service.domain import SurveyKind
from service.main import Connection, build_connection, create_app, sync_stores
from service.progress import CounterLine, progress_bar
from service.scoring.surveys import nps
from service.sentiment.pipeline import SentimentAnalyzer
from service.store.database import make_engine, upgrade
from service.store.keys import ApiKeyRepository, Scope
from service.usecases.sync import SyncReport, SyncStores, sync
from service.waits import listening_for_waits

DEMO_DIR = Path(".cem")
LIVE_TIMEOUT_SECONDS = 30.0
LIVE_CHAT = (
    "Tôi rất thất vọng. Đơn hàng giao trễ cả tuần, gọi tổng đài thì không ai nghe máy. "
    "Nếu không giải quyết tôi sẽ hủy đơn."
)
MARKETS = {"vi": "Vietnam", "zh": "China", "et": "Estonia", "en": "English-speaking"}

console = Console()


@dataclass
class DemoRun:
    settings: Settings
    stores: SyncStores
    connections: dict[str, Connection]
    reports: dict[str, SyncReport]
    sandbox: RunningSandbox
    analyzer: SentimentAnalyzer


def _settings(sandbox: RunningSandbox, port: int) -> Settings:
    sf: dict[str, Any] = sandbox.info["salesforce"]
    hs: dict[str, Any] = sandbox.info["hubspot"]
    database = DEMO_DIR / "demo.db"
    database.unlink(missing_ok=True)  # every demo starts from an empty service
    return load_settings(
        database_url=f"sqlite:///{database.resolve()}",
        port=port,
        log_format="text",
        log_level="WARNING",
        connections={
            "salesforce-demo": ConnectionSettings(
                kind=CrmKind.SALESFORCE,
                base_url=sf["base_url"],
                client_id=sf["oauth"]["client_id"],
                client_secret=sf["oauth"]["client_secret"],
                ca_bundle=sf["ca_cert"],
                webhook_secret=sf["change_event_secret"],
            ),
            "hubspot-demo": ConnectionSettings(
                kind=CrmKind.HUBSPOT,
                base_url=hs["base_url"],
                access_token=hs["access_token"],
                webhook_secret=hs["webhook_client_secret"],
            ),
        },
    )


def _sync_all(run: DemoRun) -> None:
    with progress_bar() as bar:
        for name, connection in run.connections.items():
            provision = connection.writer.provision(dry_run=False)
            progress = CounterLine(bar, name, f"set up {len(provision.created)} fields")
            with listening_for_waits(progress.waiting):  # rate-limit waits on the progress line
                run.reports[name] = sync(
                    name,
                    connection.reader,
                    connection.writer,
                    run.stores,
                    datetime.now(UTC),
                    analyzer=run.analyzer,
                    progress=progress,
                )


def _summary(run: DemoRun) -> None:
    table = Table(title="Sync", show_lines=False)
    for column in ("connection", "pulled", "scored", "fields pushed", "tasks", "failed"):
        table.add_column(column, justify="right" if column != "connection" else "left")
    for name, report in run.reports.items():
        table.add_row(
            name,
            f"{report.pulled:,}",
            f"{report.scored:,}",
            f"{report.pushed:,}",
            f"{report.tasks_created:,}",
            f"{len(report.push_failed):,}",
        )
    console.print(table)

    latest = run.stores.scores.latest()
    histories = run.stores.records.history(latest)
    by_market: dict[str, list[float]] = defaultdict(list)
    for history in histories.values():
        market = MARKETS.get(history.customer.language or "", "other")
        by_market[market].extend(s.value for s in history.surveys if s.kind is SurveyKind.NPS)
    nps_table = Table(title="NPS per market (95 % interval)")
    for column in ("market", "answers", "NPS", "interval"):
        nps_table.add_column(column)
    for market, values in sorted(by_market.items()):
        metric = nps(values, group=market)
        value = "too few answers" if metric.value is None else f"{metric.value:+.1f}"
        low, high = metric.ci_low, metric.ci_high
        interval = "" if low is None or high is None else f"{low:+.1f} … {high:+.1f}"
        nps_table.add_row(market, str(metric.n), value, interval)
    console.print(nps_table)
    detractors = sum(1 for row in latest.values() if row.nps_class == "detractor")
    flags = sum(1 for row in latest.values() if row.churn_flag)
    console.print(
        f"customers scored {len(latest):,}; detractors {detractors:,}; churn flags {flags:,}"
    )
    segments = run.stores.scores.segments()
    total = max(1, sum(segments.values()))
    console.print(
        "segments: "
        + ", ".join(
            f"{name} {count:,} ({count / total:.0%})"
            for name, count in sorted(segments.items(), key=lambda kv: -kv[1])
        ),
        soft_wrap=True,  # one line, whatever the terminal's width (tests read it)
    )
    for name, report in run.reports.items():
        for language, tasks in sorted(report.examples.items()):
            for task in tasks:
                console.print(f"  [{name} · {language}] {task.subject} — {task.why}")


def _vietnamese_customer(run: DemoRun, watch: HubSpotWatch) -> tuple[str, str]:
    """(contact id, name) of a Vietnamese HubSpot customer the model calls at risk and who has
    no task yet, so the chat's task is the one that appears (any Vietnamese one otherwise)."""
    from hubspot import HubSpot

    settings = run.settings.connections["hubspot-demo"]
    token = settings.access_token.get_secret_value() if settings.access_token else ""
    client = HubSpot(access_token=token, host=str(settings.base_url).rstrip("/"))
    found = client.crm.objects.search_api.do_search(
        "contacts",
        public_object_search_request={
            "filterGroups": [
                {"filters": [{"propertyName": "hs_language", "operator": "EQ", "value": "vi"}]}
            ],
            "properties": ["firstname", "lastname"],
            "limit": 100,
        },
    ).results
    if not found:
        return "", ""
    seen = watch.look([str(c.id) for c in found])
    ranked = sorted(
        found,
        key=lambda c: (not seen[str(c.id)].flag, bool(seen[str(c.id)].task_keys)),
    )
    best = ranked[0]
    props = best.properties
    return str(best.id), f"{props.get('firstname') or ''} {props.get('lastname') or ''}".strip()


def _live_chat(run: DemoRun, service_url: str) -> None:
    """A Vietnamese customer complains in a chat logged in HubSpot; HubSpot's webhook tells the
    running service, which raises the flag and creates the task in HubSpot: timed end to end."""
    hs: dict[str, Any] = run.sandbox.info["hubspot"]
    watch = HubSpotWatch(hs["base_url"], hs["access_token"])
    try:
        contact, name = _vietnamese_customer(run, watch)
        if not contact:
            console.print("no Vietnamese contact in the HubSpot sandbox; live chat skipped")
            return
        with httpx.Client(timeout=10) as admin:
            admin.put(
                f"{hs['admin_url']}/hubspot/webhooks",
                json={
                    "target_url": f"{service_url}/v1/webhooks/hubspot",
                    "subscriptions": ["note.creation"],
                    "linger_seconds": 0.05,
                },
            ).raise_for_status()
        before = watch.look([contact])[contact]
        started = time.perf_counter()
        watch.complain(contact, LIVE_CHAT)
        now = before
        while time.perf_counter() - started < LIVE_TIMEOUT_SECONDS:
            now = watch.look([contact])[contact]
            if now.flag and now.task_keys - before.task_keys and now.scored_at != before.scored_at:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        # soft_wrap: one line each, whatever the terminal width (tests read these lines).
        console.print(f"live Zalo chat from {name}: {LIVE_CHAT!r}", soft_wrap=True)
        new = sorted(now.task_keys - before.task_keys)
        if not new:
            console.print(
                f"  → HubSpot's webhook reached the service, but after {elapsed:.1f} s "
                f"HubSpot shows churn flag {str(now.flag).lower()} and no new task",
                soft_wrap=True,
            )
            return
        task = watch.task(new[0])
        console.print(
            f"  → sent by HubSpot's webhook to POST /v1/webhooks/hubspot; in HubSpot after "
            f"{elapsed:.2f} s: churn flag {str(now.flag).lower()}, new task: {task}",
            soft_wrap=True,
        )
    finally:
        watch.close()


def run_demo(port: int, customers: int = 1500, *, once: bool = False) -> None:
    """The whole loop on the sandboxes; then serve the API until Ctrl-C (unless `once`)."""
    DEMO_DIR.mkdir(exist_ok=True)
    console.print(f"starting the sandbox CRMs with {customers:,} generated customers …")
    sandbox = start_sandbox(ServeOptions(crm=Crm.BOTH, customers=customers, seed=7))
    try:
        settings = _settings(sandbox, port)
        engine = make_engine(settings.database_url.get_secret_value())
        upgrade(engine)
        run = DemoRun(
            settings=settings,
            stores=sync_stores(settings, engine),
            connections={name: build_connection(settings, name) for name in settings.connections},
            reports={},
            sandbox=sandbox,
            analyzer=SentimentAnalyzer(settings.sentiment),
        )
        _sync_all(run)
        _summary(run)
        # The API serves the live chat's webhook; with --once on any free port, for tests.
        app = create_app(settings)
        server = SandboxServer(app, host=settings.host, port=0 if once else settings.port)
        with server:
            _live_chat(run, server.base_url)
            if not once:
                _serve(app, server, sandbox)
    finally:
        sandbox.stop()


def _serve(app: FastAPI, server: SandboxServer, sandbox: RunningSandbox) -> None:
    created = ApiKeyRepository(app.state.engine).create("demo", [Scope.ADMIN])
    base = server.base_url
    typer.echo(
        "\n".join(
            [
                "cem-bridge is running",
                f"  API docs:          {base}/docs",
                f"  health/metrics:    {base}/healthz  {base}/metrics",
                f"  admin key:         {created.key}",
                f"  Salesforce view:   {sandbox.info['salesforce']['view_url']}",
                f"  HubSpot view:      {sandbox.info['hubspot']['view_url']}",
                "  Ctrl-C to stop.",
            ]
        )
    )
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        typer.echo("stopped")
