"""`cem demo` / `make demo`: the whole loop against the built-in sandbox CRMs, no credentials.

1. start the Salesforce and HubSpot emulators, each in its own process, with one generated
   population of people: about three in five have a record in both CRMs (written the way each
   CRM keeps them, with a different history in each), the others in one; a few give a company
   mailbox (info@ …) or switchboard, which must not make two people one, while the sentiment
   models load here;
2. `cem setup` both (custom fields / properties);
3. a full sync of each (pull, sentiment, scoring, push of fields and tasks), the two side by
   side, with progress;
4. a summary: people, CRM records and people with records in both CRMs (the identity graph,
   docs/identity.md), customers scored, NPS with its interval per market, detractors, churn flags,
   tasks created with examples in each staff language, and how long each stage took;
5. the API starts on a local SQLite file; a live negative Zalo chat in Vietnamese is logged in
   HubSpot, the HubSpot sandbox's webhook sender delivers the event to
   `POST /v1/webhooks/hubspot`, and the flag and the task appear in HubSpot, timed from the
   write to both being visible there;
6. the API keeps serving with a fresh admin key (unless `--once`).

Why it is built this way (a first look should reach its summary within a minute):
- the emulators run in their own processes, so serving the CRMs' pages and taking our pushes
  does not wait on this process's interpreter lock, and generating and loading their data runs
  while the models load here;
- the two syncs run in two threads: the e5 sentiment model, most of a sync's work, runs in C
  without the interpreter lock, so the two syncs embed on two cores at once and each one's
  embeddings overlap the other's storing and scoring;
- 800 CRM records (400 in each CRM, about 500 people) keep each market's NPS interval
  informative (the smallest market, Estonia, still has about 115 answers: about ±15 points);
  a person in both CRMs has a different history in each, so no answer is counted twice.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import typer
from fastapi import FastAPI
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session, select

from adapters.registry import connection_settings
from sandbox.core.server import SandboxServer
from sandbox.serving import connection_values
from sandbox.watch import HubSpotWatch
from service.api.services import services_of
from service.config import Settings, load_settings
from service.main import Connection, build_connection, create_app, sync_stores
from service.progress import CounterLine, progress_bar
from service.scoring.surveys import nps
from service.sentiment.language import Prior
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from service.store.database import make_engine, upgrade
from service.store.keys import ApiKeyRepository, Scope
from service.store.reports import ReportRepository
from service.store.tables import CrmLink, Customer, EntityType
from service.usecases.sync import SyncReport, SyncStores, sync
from service.waits import listening_for_waits

DEMO_DIR = Path(".cem")
DEFAULT_CUSTOMERS = 800
# One seed for both CRMs: the same people. HubSpot holds the people from a quarter of the way
# into Salesforce's (so about three in five have a record in both) with its own histories and
# its own way of writing e-mails and phones (sandbox.data.generate: `variant`).
SANDBOX_SEED = 7
SANDBOX_VARIANTS = {"salesforce": 0, "hubspot": 1}
# The sandbox generator's company layout blocks: the first HubSpot person starts one.
_GENERATOR_BLOCK = 8
SANDBOX_START_TIMEOUT_SECONDS = 120.0
LIVE_TIMEOUT_SECONDS = 30.0
LIVE_CHAT = (
    "Tôi rất thất vọng. Đơn hàng giao trễ cả tuần, gọi tổng đài thì không ai nghe máy. "
    "Nếu không giải quyết tôi sẽ hủy đơn."
)
MARKETS = {"vi": "Vietnam", "zh": "China", "et": "Estonia", "en": "English-speaking"}
# One message per language for the warm-up, so every model a sync needs is loaded before it.
WARM_UP = {
    "vi": "Giao hàng chậm nhưng nhân viên rất nhiệt tình.",
    "zh": "送货很慢但是客服态度很好。",
    "et": "Tarne oli aeglane, aga teenindus oli väga sõbralik.",
    "en": "Delivery was slow, but the staff were very helpful.",
}

# All stored answers, whatever their date.
_EVER = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))

console = Console()
T = TypeVar("T")


class DemoError(RuntimeError):
    """The demo could not start one of its parts (the message says which and why)."""


@dataclass
class Stages:
    """Wall time of each stage, for the line under the summary (a first look should be quick,
    and when it is not this says where the time went)."""

    started: float = field(default_factory=time.perf_counter)
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        begin = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - begin

    def line(self) -> str:
        total = time.perf_counter() - self.started
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        return f"summary after {total:.1f} s ({parts})"


@dataclass
class SandboxProcesses:
    """The emulators, each `cem sandbox serve --json` in its own process."""

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop every emulator (SIGTERM, then SIGKILL if it lingers) and close the logs."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        for log in self.logs.values():
            log.close()


@dataclass
class DemoRun:
    settings: Settings
    stores: SyncStores
    engine: Engine
    connections: dict[str, Connection]
    reports: dict[str, SyncReport]
    sandbox: SandboxProcesses
    analyzer: SentimentAnalyzer
    stages: Stages


def split_customers(customers: int) -> dict[str, int]:
    """How many of the demo's customer records each CRM holds (Salesforce takes the odd one)."""
    return {"salesforce": customers - customers // 2, "hubspot": customers // 2}


def first_people(customers: int) -> dict[str, int]:
    """The number of each CRM's first person: HubSpot's people start a quarter of the way into
    Salesforce's (on a generator block), so the rest of Salesforce's are in both."""
    quarter = split_customers(customers)["salesforce"] // 4
    return {"salesforce": 0, "hubspot": quarter // _GENERATOR_BLOCK * _GENERATOR_BLOCK}


def _start_sandboxes(customers: int) -> SandboxProcesses:
    """Start both emulators at once, each in its own process; wait until both serve."""
    running = SandboxProcesses()
    first = first_people(customers)
    try:
        for crm, count in split_customers(customers).items():
            log = (DEMO_DIR / f"sandbox-{crm}.log").open("wb")
            running.logs[crm] = log
            command = [sys.executable, "-m", "service.cli", "sandbox", "serve", "--crm", crm]
            command += ["--customers", str(count), "--seed", str(SANDBOX_SEED), "--json"]
            command += ["--first-customer", str(first[crm]), "--shared-contacts"]
            command += ["--variant", str(SANDBOX_VARIANTS[crm])]
            # Our own interpreter and fixed arguments: nothing here comes from outside.
            running.processes[crm] = subprocess.Popen(  # noqa: S603
                command, stdout=subprocess.PIPE, stderr=log
            )
        for crm, process in running.processes.items():
            running.info[crm] = _started(crm, process)
    except BaseException:
        running.stop()
        raise
    return running


def _started(crm: str, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    """The emulator's URLs and credentials: the one JSON line it prints once it serves."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as waiting:
        waiting.register(process.stdout, selectors.EVENT_READ)
        ready = waiting.select(SANDBOX_START_TIMEOUT_SECONDS)
    line = process.stdout.readline() if ready else b""
    if not line:
        if ready:  # its output ended: it is exiting, so wait for it to say how
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
        log = (DEMO_DIR / f"sandbox-{crm}.log").read_text(encoding="utf-8", errors="replace")
        why = "it exited" if process.poll() is not None else "it did not answer in time"
        raise DemoError(f"the {crm} sandbox did not start ({why}): {log[-2000:].strip()}")
    info: dict[str, Any] = json.loads(line)[crm]
    return info


def _result(future: Future[T], cleanup: Callable[[], None]) -> T:
    """The future's result; `cleanup` first if it failed."""
    try:
        return future.result()
    except BaseException:
        cleanup()
        raise


def _warm_analyzer(settings: SentimentSettings) -> SentimentAnalyzer:
    """The sentiment analyzer with every model loaded (e5, heads, lexicons, language detection),
    built while the emulators start instead of inside the first sync."""
    analyzer = SentimentAnalyzer(settings)
    analyzer.analyze_batch([(text, Prior(language)) for language, text in WARM_UP.items()])
    return analyzer


def _settings(sandbox: SandboxProcesses, port: int) -> Settings:
    database = DEMO_DIR / "demo.db"
    database.unlink(missing_ok=True)  # every demo starts from an empty service
    return load_settings(
        database_url=f"sqlite:///{database.resolve()}",
        port=port,
        log_format="text",
        log_level="WARNING",
        connections={
            f"{crm}-demo": connection_settings(connection_values(sandbox.info, crm))
            for crm in ("salesforce", "hubspot")
        },
    )


def _sync_one(run: DemoRun, name: str, bar: Progress, line: CounterLine) -> SyncReport:
    connection = run.connections[name]
    with run.stages.stage(f"{name} sync"):
        provision = connection.writer.provision(dry_run=False)
        line("fields set up", len(provision.created))
        with listening_for_waits(line.waiting):  # rate-limit waits on the progress line
            report = sync(
                name,
                connection.reader,
                connection.writer,
                run.stores,
                datetime.now(UTC),
                analyzer=run.analyzer,
                progress=line,
            )
    bar.stop_task(line.task)  # its clock stops when this sync is done
    return report


def _sync_all(run: DemoRun) -> None:
    """Both connections' syncs side by side, each on its own progress line."""
    with progress_bar() as bar, ThreadPoolExecutor(len(run.connections)) as pool:
        started = {
            name: pool.submit(_sync_one, run, name, bar, CounterLine(bar, name))
            for name in run.connections
        }
        for name, future in started.items():
            run.reports[name] = future.result()


def _people(engine: Engine) -> tuple[int, int, int]:
    """(people, CRM customer records, people with a record in more than one CRM)."""
    with Session(engine) as session:
        rows = session.exec(
            select(CrmLink.entity_id, CrmLink.connection).where(
                CrmLink.entity_type == EntityType.CUSTOMER.value, CrmLink.crm_object != "?"
            )
        ).all()
    crms: dict[str, set[str]] = defaultdict(set)
    for person, connection in rows:
        crms[person].add(connection)
    return len(crms), len(rows), sum(1 for found in crms.values() if len(found) > 1)


def _summary(run: DemoRun) -> None:
    people, records, in_both = _people(run.engine)
    console.print(
        f"people {people:,} from {records:,} CRM records; in both CRMs {in_both:,} "
        f"({in_both / max(1, people):.0%}), linked by verified e-mail",
        soft_wrap=True,
    )
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
    by_market = _nps_answers_by_market(run.engine)
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
                # markup=False: "[name · language]" is text, not a rich style tag.
                console.print(f"  [{name} · {language}] {task.subject} — {task.why}", markup=False)


def _nps_answers_by_market(engine: Engine) -> dict[str, list[float]]:
    """Every NPS answer stored, by the market (language) of the customer who gave it: two
    narrow reads, not every customer's whole history."""
    with Session(engine) as session:
        language: dict[str, str | None] = dict(
            session.exec(select(Customer.id, Customer.language)).all()
        )
    answers = ReportRepository(engine).answers("nps", _EVER[0], _EVER[1])
    by_market: dict[str, list[float]] = defaultdict(list)
    for answer in answers:
        by_market[MARKETS.get(language.get(answer.customer_id) or "", "other")].append(answer.value)
    return by_market


def _vietnamese_customer(watch: HubSpotWatch) -> tuple[str, str]:
    """(contact id, name) of a Vietnamese HubSpot customer the model calls at risk and who has
    no task yet, so the chat's task is the one that appears (any Vietnamese one otherwise)."""
    found = watch.speakers("vi")
    if not found:
        return "", ""
    seen = watch.look([contact for contact, _ in found])
    ranked = sorted(found, key=lambda c: (not seen[c[0]].flag, bool(seen[c[0]].task_keys)))
    return ranked[0]


def _live_chat(run: DemoRun, service_url: str) -> None:
    """A Vietnamese customer complains in a chat logged in HubSpot; HubSpot's webhook tells the
    running service, which raises the flag and creates the task in HubSpot: timed end to end."""
    hs: dict[str, Any] = run.sandbox.info["hubspot"]
    watch = HubSpotWatch(hs["base_url"], hs["access_token"])
    try:
        contact, name = _vietnamese_customer(watch)
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


def run_demo(port: int, customers: int = DEFAULT_CUSTOMERS, *, once: bool = False) -> None:
    """The whole loop on the sandboxes; then serve the API until Ctrl-C (unless `once`)."""
    stages = Stages()
    DEMO_DIR.mkdir(exist_ok=True)
    split = split_customers(customers)
    console.print(
        f"starting the sandbox CRMs with {customers:,} generated customer records "
        f"({split['salesforce']:,} in Salesforce, {split['hubspot']:,} in HubSpot) "
        "and loading the sentiment models …",
        soft_wrap=True,
    )
    sentiment = load_settings().sentiment
    with ThreadPoolExecutor(1) as pool, stages.stage("start"):
        warming = pool.submit(_warm_analyzer, sentiment)
        sandbox = _start_sandboxes(customers)
        analyzer = _result(warming, sandbox.stop)
    try:
        settings = _settings(sandbox, port)
        engine = make_engine(settings.database_url.get_secret_value())
        upgrade(engine)
        run = DemoRun(
            settings=settings,
            stores=sync_stores(settings, engine),
            engine=engine,
            connections={name: build_connection(settings, name) for name in settings.connections},
            reports={},
            sandbox=sandbox,
            analyzer=analyzer,
            stages=stages,
        )
        _sync_all(run)
        with stages.stage("summary"):
            _summary(run)
        console.print(stages.line(), soft_wrap=True)
        # The API serves the live chat's webhook; with --once on any free port, for tests.
        app = create_app(settings)
        server = SandboxServer(app, host=settings.host, port=0 if once else settings.port)
        with server:
            _live_chat(run, server.base_url)
            if not once:
                _serve(app, server, sandbox)
    finally:
        sandbox.stop()


def _serve(app: FastAPI, server: SandboxServer, sandbox: SandboxProcesses) -> None:
    created = ApiKeyRepository(services_of(app).engine).create("demo", [Scope.ADMIN])
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
