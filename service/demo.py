"""`cem demo` / `make demo`: the whole loop against the built-in sandbox CRMs, no credentials.

1. start the Salesforce and HubSpot emulators with a generated multilingual dataset;
2. `cem setup` both (custom fields / properties);
3. a full sync of each (pull, sentiment, scoring, push of fields and tasks) with progress;
4. a summary: customers scored, NPS with its interval per market, detractors, churn flags,
   tasks created with examples in each staff language;
5. a live negative chat in Vietnamese lands in HubSpot and the next incremental sync raises
   the flag and the task, timed;
6. the API starts on a local SQLite file with a fresh admin key (unless `--once`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from sandbox.serving import Crm, RunningSandbox, ServeOptions, start_sandbox
from service.config import ConnectionSettings, CrmKind, Settings, load_settings
from service.domain import SurveyKind
from service.main import Connection, build_connection, create_app, sync_stores
from service.progress import CounterLine, progress_bar
from service.scoring.surveys import nps
from service.sentiment.pipeline import SentimentAnalyzer
from service.store.database import make_engine, upgrade
from service.store.keys import ApiKeyRepository, Scope
from service.usecases.sync import SyncReport, SyncStores, sync

DEMO_DIR = Path(".cem")
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
            ),
            "hubspot-demo": ConnectionSettings(
                kind=CrmKind.HUBSPOT, base_url=hs["base_url"], access_token=hs["access_token"]
            ),
        },
    )


def _sync_all(run: DemoRun) -> None:
    with progress_bar() as bar:
        for name, connection in run.connections.items():
            provision = connection.writer.provision(dry_run=False)
            progress = CounterLine(bar, name, f"set up {len(provision.created)} fields")
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
    for name, report in run.reports.items():
        for language, tasks in sorted(report.examples.items()):
            for task in tasks:
                console.print(f"  [{name} · {language}] {task.subject} — {task.why}")


def _live_chat(run: DemoRun) -> None:
    """A Vietnamese customer complains in HubSpot; the next sync flags them and adds a task."""
    from hubspot import HubSpot

    connection = run.connections["hubspot-demo"]
    settings = run.settings.connections["hubspot-demo"]
    token = settings.access_token.get_secret_value() if settings.access_token else ""
    client = HubSpot(access_token=token, host=str(settings.base_url).rstrip("/"))
    contacts = client.crm.objects.search_api.do_search(
        "contacts",
        public_object_search_request={
            "filterGroups": [
                {"filters": [{"propertyName": "hs_language", "operator": "EQ", "value": "vi"}]}
            ],
            "properties": ["firstname", "lastname"],
            "limit": 1,
        },
    ).results
    if not contacts:
        console.print("no Vietnamese contact in the HubSpot sandbox; live chat skipped")
        return
    contact = contacts[0]
    started = time.perf_counter()
    client.crm.objects.basic_api.create(
        "notes",
        {
            "properties": {"hs_note_body": LIVE_CHAT, "hs_timestamp": str(int(time.time() * 1000))},
            "associations": [
                {
                    "to": {"id": contact.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                }
            ],
        },
    )
    report = sync(
        "hubspot-demo",
        connection.reader,
        connection.writer,
        run.stores,
        datetime.now(UTC),
        analyzer=run.analyzer,
    )
    elapsed = time.perf_counter() - started
    fields = client.crm.objects.basic_api.get_by_id(
        "contacts",
        contact.id,
        properties=["cem_churn_flag", "cem_top_negative_aspect", "cem_experience_score"],
    ).properties
    console.print(
        f"live chat from {contact.properties.get('firstname', '')} "
        f"{contact.properties.get('lastname', '')}: {LIVE_CHAT!r}"
    )
    console.print(
        f"  → in HubSpot after {elapsed:.1f} s: experience {fields.get('cem_experience_score')}, "
        f"churn flag {fields.get('cem_churn_flag')}, top negative aspect "
        f"{fields.get('cem_top_negative_aspect')}; tasks created {report.tasks_created}"
    )
    for tasks in report.examples.values():
        for task in tasks:
            console.print(f"  task: {task.subject} ({task.language})")


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
        _live_chat(run)
        if once:
            return
        _serve(settings, sandbox)
    finally:
        sandbox.stop()


def _serve(settings: Settings, sandbox: RunningSandbox) -> None:
    import uvicorn

    app = create_app(settings)
    created = ApiKeyRepository(app.state.engine).create("demo", [Scope.ADMIN])
    base = f"http://{settings.host}:{settings.port}"
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
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, server_header=False)
