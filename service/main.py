"""The composition root: `create_app(settings)` wires settings, storage, routes and middleware.

This is the one module that picks concrete implementations (adapters, backends); everything
else receives what it needs from here.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.reader import HubSpotReader
from adapters.hubspot.writer import TASK_KEY as HUBSPOT_TASK_KEY
from adapters.hubspot.writer import HubSpotWriter
from adapters.mapping import MappingError, MappingSet, load_mappings
from adapters.salesforce.client import SalesforceClient
from adapters.salesforce.reader import SalesforceReader
from adapters.salesforce.writer import TASK_KEY_FIELD as SALESFORCE_TASK_KEY
from adapters.salesforce.writer import SalesforceWriter
from service import __version__
from service.api.middleware import BodyGuardMiddleware, HttpMetrics, RequestContextMiddleware
from service.api.problems import install_problem_handlers
from service.api.ratelimit import RateLimiter
from service.api.routes import (
    accounts,
    crm_events,
    customer_actions,
    customers,
    health,
    identity,
    interactions,
    jobs,
    keys,
    models,
    reports,
    score,
    sentiment,
    webhooks,
)
from service.config import ConfigError, CrmKind, Settings, load_settings
from service.jobs import (
    CHURN_TRAIN,
    SYNC,
    JobFunction,
    JobQueue,
    JobRegistry,
    JobRunner,
    sync_schedules,
    train_schedules,
)
from service.jobs.broker import Sender
from service.jobs.churn_job import make_churn_train_job
from service.jobs.customer_jobs import ERASE, RESCORE, make_erase_job, make_rescore_job
from service.jobs.sync_job import make_sync_job
from service.jobs.sync_tasks import sync_task_kinds
from service.jobs.tasks import TaskPool
from service.jobs.worker import JobWorker, worker_name
from service.logs import configure_logging
from service.metrics import register_process_metrics
from service.ports import CrmReader, CrmWriter
from service.realtime.changes import Inbox
from service.sentiment.pipeline import SentimentAnalyzer
from service.store.churn_models import ChurnModelRepository
from service.store.cursors import CursorRepository
from service.store.database import check_database, make_engine, upgrade
from service.store.erasure import ErasureStore
from service.store.gauges import StoreCollector
from service.store.job_tasks import JobTaskRepository
from service.store.jobs import JobRepository
from service.store.keys import ApiKeyRepository
from service.store.ledger import PushLedgerRepository
from service.store.records import RecordStore
from service.store.rescore_marks import RescoreMarks
from service.store.scores import ScoreHistoryRepository
from service.store.suppression import SuppressionList
from service.store.tasks import TaskLedgerRepository
from service.store.webhooks import WebhookRepository
from service.usecases.erase import ErasureStores
from service.usecases.rescore import rescore_stores
from service.usecases.sync import SyncStores, sync
from service.webhooks import SecretVault, WebhookDispatcher, WebhookOutbox

log = logging.getLogger(__name__)

DESCRIPTION = """\
Customer experience scores beside your CRM. Authenticate with an API key
(`Authorization: Bearer cem_…` or `X-API-Key: cem_…`); scopes are `read` ⊂ `write` ⊂ `admin`.
Every error is an RFC 9457 `application/problem+json` document.
"""


def create_app(settings: Settings, *, job_registry: JobRegistry | None = None) -> FastAPI:
    """Build the ASGI application for `settings`; `job_registry` holds the job kinds this
    process can run (the `sync` kind among them once the use cases register it)."""
    configure_logging(settings.log_level, settings.log_format.value, settings.secret_values())
    check_mappings(settings)
    engine = make_engine(settings.database_url.get_secret_value())
    check_database(engine)  # one line, not a traceback from inside uvicorn's start-up
    if settings.auto_migrate:
        upgrade(engine)
    # One sentiment analyzer per process, shared by the API and the jobs (the model is ~100 MB).
    analyzer = _LazyAnalyzer(settings)
    if job_registry is None:
        job_registry = job_kinds(settings, engine, analyzer, task_pool(settings, engine, analyzer))
    # With a broker, jobs run on `cem worker` processes: this process sends their messages and
    # its runner only recovers, wakes, schedules and re-sends (docs/queue.md).
    sender = Sender(settings.queue, settings.jobs) if settings.queue.enabled else None
    job_queue = JobQueue(
        JobRepository(engine), job_registry, dispatch=sender, secrets=settings.secret_values()
    )
    runner = (
        JobRunner(
            job_queue,
            settings.jobs,
            schedules=sync_schedules(settings.connections)
            + train_schedules(settings.connections, settings.churn_training.every_hours),
            secrets=settings.secret_values(),
            resend_after=timedelta(seconds=settings.queue.resend_after_seconds),
        )
        if settings.jobs.enabled
        else None
    )
    hooks = settings.webhooks
    webhook_repository = WebhookRepository(engine)
    vault = SecretVault(
        hooks.encryption_key.get_secret_value() if hooks.encryption_key else None,
        [key.get_secret_value() for key in hooks.old_encryption_keys],
    )
    egress = hooks.egress_policy()
    dispatcher = (
        WebhookDispatcher(webhook_repository, vault, hooks, egress=egress)
        if hooks.enabled
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if runner is not None:
            runner.start()
        if dispatcher is not None:
            dispatcher.start()
        log.info("cem-bridge %s started", __version__)
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()
            if runner is not None:
                runner.stop()
            if sender is not None:
                sender.close()
            engine.dispose()

    docs = settings.api.docs_enabled
    app = FastAPI(
        title="cem-bridge",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    registry = CollectorRegistry()
    register_process_metrics(registry)
    registry.register(StoreCollector(engine))
    app.state.settings = settings
    app.state.engine = engine
    app.state.keys = ApiKeyRepository(engine)
    app.state.rate_limiter = RateLimiter(settings.api.rate_limit_per_minute)
    app.state.metrics_registry = registry
    app.state.jobs = job_queue
    app.state.job_runner = runner
    # `webhooks` is the EventSink the use cases emit flag/task/score events to.
    app.state.webhooks = WebhookOutbox(engine)
    app.state.webhook_repository = webhook_repository
    app.state.webhook_vault = vault
    app.state.webhook_egress = egress  # the URL guard (tests swap its resolver)
    app.state.analyzer_factory = analyzer
    app.state.build_connection = lambda name: build_connection(settings, name)
    app.state.sync_stores = lambda: sync_stores(settings, engine)
    # Real-time paths: fitted purchase models per connection (refitted hourly), the CRM events
    # already applied by this process, and the fields we push (our writes coming back as events
    # are ignored).
    app.state.purchase_models = {}
    app.state.realtime = Inbox()
    app.state.own_fields = functools.cache(lambda name: own_fields(settings, name))

    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(keys.router)
    app.include_router(sentiment.router)
    app.include_router(score.router)
    app.include_router(jobs.router)
    app.include_router(webhooks.router)
    app.include_router(interactions.router)
    app.include_router(crm_events.router)
    app.include_router(customers.router)
    app.include_router(customer_actions.router)
    app.include_router(identity.router)
    app.include_router(accounts.router)
    app.include_router(reports.router)
    app.include_router(models.router)

    # Added last = runs first: the request context wraps everything, including the body guard.
    app.add_middleware(BodyGuardMiddleware, max_body_bytes=settings.api.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry))
    return app


@dataclass(frozen=True)
class Connection:
    """One configured CRM connection with its adapters (the only place that picks them)."""

    name: str
    kind: CrmKind
    reader: CrmReader
    writer: CrmWriter


def connection_mappings(settings: Settings, name: str) -> MappingSet:
    """The mappings a connection uses: its own directory, else the service's, else the shipped."""
    connection = settings.connections[name]
    return load_mappings(connection.mappings_dir or settings.mappings_dir)


def build_connection(settings: Settings, name: str) -> Connection:
    """The reader and writer of the connection `name` (ConfigError when it is not configured)."""
    if name not in settings.connections:
        known = ", ".join(sorted(settings.connections)) or "none configured"
        raise ConfigError(f"unknown connection {name!r} (known: {known})")
    connection = settings.connections[name]
    mappings = connection_mappings(settings, name)
    lookback = timedelta(seconds=connection.lookback_seconds)
    if connection.kind is CrmKind.SALESFORCE:
        sf = SalesforceClient(name, connection)
        return Connection(
            name,
            connection.kind,
            SalesforceReader(sf, mappings, lookback),
            SalesforceWriter(sf, mappings),
        )
    pacing = settings.pacing.storage_url
    hs = HubSpotClient(name, connection, pacing_url=pacing.get_secret_value() if pacing else None)
    return Connection(
        name, connection.kind, HubSpotReader(hs, mappings, lookback), HubSpotWriter(hs, mappings)
    )


def own_fields(settings: Settings, name: str) -> frozenset[str]:
    """The CRM fields only we write on the connection `name`: its push mappings' fields and
    external ids, and the task key our tasks carry (how our own writes are told apart)."""
    kind = settings.connections[name].kind
    task_key = SALESFORCE_TASK_KEY if kind is CrmKind.SALESFORCE else HUBSPOT_TASK_KEY
    pushed = connection_mappings(settings, name).for_crm(kind.value, "push")
    return frozenset({task_key, *(f for m in pushed for f in m.crm_fields())})


def check_mappings(settings: Settings) -> None:
    """Validate every mapping directory in use at start-up; ConfigError names file, line, field."""
    try:
        load_mappings(settings.mappings_dir)
        for name in settings.connections:
            connection_mappings(settings, name)
    except MappingError as error:
        raise ConfigError(f"invalid mapping: {error}") from None


def sync_stores(settings: Settings, engine: Engine) -> SyncStores:
    """The repositories the sync use case needs, on one engine (events to the webhook outbox)."""
    return SyncStores(
        RecordStore(
            engine,
            keep_text=settings.keep_message_text,
            suppressions=SuppressionList(engine, settings.suppression_secret()),
        ),
        CursorRepository(engine),
        PushLedgerRepository(engine),
        TaskLedgerRepository(engine),
        ScoreHistoryRepository(engine),
        WebhookOutbox(engine),
        ChurnModelRepository(engine),
        RescoreMarks(engine),
    )


def job_kinds(
    settings: Settings,
    engine: Engine,
    analyzer: Callable[[], SentimentAnalyzer],
    tasks: TaskPool | None = None,
) -> JobRegistry:
    """Every job kind of this deployment (the API's runner and `cem worker` run the same)."""
    registry = JobRegistry()
    registry.register(SYNC, _sync_job(settings, engine, analyzer, tasks))
    register_customer_jobs(registry, settings, engine)
    registry.register(
        CHURN_TRAIN,
        make_churn_train_job(
            lambda: (RecordStore(engine), ChurnModelRepository(engine)),
            flag_policy=settings.churn,
            policy=settings.churn_training,
        ),
    )
    return registry


def create_worker(settings: Settings) -> JobWorker:
    """A `cem worker` process's actors on this deployment's job kinds (needs a broker)."""
    configure_logging(settings.log_level, settings.log_format.value, settings.secret_values())
    check_mappings(settings)
    engine = make_engine(settings.database_url.get_secret_value())
    check_database(engine)
    if settings.auto_migrate:
        upgrade(engine)
    analyzer = _LazyAnalyzer(settings)
    tasks = task_pool(settings, engine, analyzer)
    registry = job_kinds(settings, engine, analyzer, tasks)
    queue = JobQueue(JobRepository(engine), registry, secrets=settings.secret_values())
    return JobWorker(
        queue, settings.jobs, settings.queue, secrets=tuple(settings.secret_values()), tasks=tasks
    )


def task_pool(
    settings: Settings, engine: Engine, analyzer: Callable[[], SentimentAnalyzer]
) -> TaskPool:
    """The tasks a sync fans out (text chunks, customer batches) and how this process runs
    them; a worker adds the sending of their messages (service/jobs/worker.py)."""
    kinds = sync_task_kinds(
        lambda name: build_connection(settings, name).writer,
        lambda: sync_stores(settings, engine),
        analyzer,
        settings.churn,
    )
    return TaskPool(
        JobTaskRepository(engine),
        kinds,
        worker=worker_name(),
        lease=timedelta(seconds=settings.jobs.stale_after_seconds),
        secrets=settings.secret_values(),
    )


def create_app_from_environment() -> FastAPI:
    """`create_app` with the settings of the environment: the factory each worker process of
    `cem serve --workers N` calls."""
    return create_app(load_settings())


class _LazyAnalyzer:
    """One sentiment analyzer per process, built on first use (the model loads in ~0.2 s)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._analyzer: SentimentAnalyzer | None = None
        self._lock = threading.Lock()

    def __call__(self) -> SentimentAnalyzer:
        with self._lock:
            if self._analyzer is None:
                self._analyzer = SentimentAnalyzer(self._settings.sentiment)
            return self._analyzer


def _sync_job(
    settings: Settings,
    engine: Engine,
    analyzer: Callable[[], SentimentAnalyzer],
    tasks: TaskPool | None,
) -> JobFunction:
    """The `sync` job kind on this deployment's adapters and stores."""

    def build(name: str) -> tuple[CrmReader, CrmWriter]:
        connection = build_connection(settings, name)
        return connection.reader, connection.writer

    run = functools.partial(sync, flag_policy=settings.churn)
    return make_sync_job(
        build, lambda: sync_stores(settings, engine), analyzer, run=run, tasks=tasks
    )


def register_customer_jobs(registry: JobRegistry, settings: Settings, engine: Engine) -> None:
    """The `erase` and `rescore` kinds (many may run at once: one customer each)."""

    def writer(name: str) -> CrmWriter:
        return build_connection(settings, name).writer

    registry.register(
        ERASE,
        make_erase_job(
            writer,
            lambda: ErasureStores(
                ErasureStore(engine, SuppressionList(engine, settings.suppression_secret())),
                TaskLedgerRepository(engine),
            ),
        ),
        exclusive=False,
    )
    registry.register(
        RESCORE,
        make_rescore_job(
            writer,
            lambda: rescore_stores(sync_stores(settings, engine), engine),
            lambda: ErasureStore(engine),
            flag_policy=settings.churn,
        ),
        exclusive=False,
    )
