"""`cem`: the command line. Errors are one line on stderr with a non-zero exit code."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from typer._click.exceptions import NoArgsIsHelpError

from adapters import registry
from sandbox.cli import sandbox_app
from service import __version__
from service.config import ConfigError, Settings, load_settings
from service.logs import configure_logging, one_line_error
from service.ports import CrmError, CrmWriter
from service.sentiment.schemas import MAX_BATCH
from service.store.database import DatabaseUnavailableError, check_database, make_engine, upgrade
from service.store.keys import ApiKeyRepository, Scope

app = typer.Typer(
    name="cem",
    help="cem-bridge: customer experience scores beside your CRM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
db_app = typer.Typer(help="Database tasks.", no_args_is_help=True)
openapi_app = typer.Typer(help="The OpenAPI document.", no_args_is_help=True)
customers_app = typer.Typer(help="Act on one customer.", no_args_is_help=True)
models_app = typer.Typer(help="The churn model learnt from a CRM's outcomes.", no_args_is_help=True)
import_app = typer.Typer(help="Load files exported from other tools.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(openapi_app, name="openapi")
app.add_typer(customers_app, name="customers")
app.add_typer(models_app, name="models")
app.add_typer(import_app, name="import")
# The local CRM emulators (the CLI is the one place in the service that reaches the sandbox).
app.add_typer(sandbox_app, name="sandbox")


TARGET_HELP = "Connection name, or its kind when it is the only connection of that kind"


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code 1."""


def _settings() -> Settings:
    """Settings for a one-shot command, logging as CEM_LOG_LEVEL / CEM_LOG_FORMAT say; what the
    user did not set stays quiet (warnings, as text) rather than the server's INFO as JSON.
    Secrets are redacted either way."""
    settings = load_settings()
    chosen = settings.model_fields_set  # set by the environment, a secret file or .env
    level = settings.log_level if "log_level" in chosen else "WARNING"
    log_format = settings.log_format.value if "log_format" in chosen else "text"
    configure_logging(level, log_format, settings.secret_values())
    return settings


def _engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url.get_secret_value())
    if settings.auto_migrate:
        upgrade(engine)
    return engine


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default CEM_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CEM_PORT)")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="CEM_WORKERS",
            help="Worker processes sharing the port (one core each; default CEM_WORKERS or 1)",
        ),
    ] = 1,
) -> None:
    """Run the HTTP API."""
    from service.main import create_app
    from service.serving import run

    settings = load_settings()
    if workers > 1:  # fail here, once, rather than in every worker process
        check_database(make_engine(settings.database_url.get_secret_value()))
    if workers > 1 and settings.auto_migrate:
        # Each worker process builds its own app (its own sentiment model, key cache and rate
        # limiter); migrate once here so they do not race to.
        upgrade(make_engine(settings.database_url.get_secret_value()))
    if workers > 1:  # the supervising process logs too (workers starting, restarts)
        configure_logging(settings.log_level, settings.log_format.value, settings.secret_values())
    run(
        create_app(settings) if workers == 1 else None,
        "service.main:create_app_from_environment",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        # RequestContextMiddleware writes one access line per request (with its request id and
        # duration); uvicorn's own line would be a second, costlier copy of it.
        access_log=False,
    )


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for")],
    scope: Annotated[
        list[Scope], typer.Option(help="Scope to grant (repeatable): read, write, admin")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create a key and print it (the only time the full key is shown)."""
    try:
        created = ApiKeyRepository(_engine(_settings())).create(name, scope)
    except ValueError as error:
        raise CliError(str(error)) from None
    if as_json:
        typer.echo(
            json.dumps({"id": created.info.id, "key": created.key, "scopes": created.info.scopes})
        )
    else:
        typer.echo(created.key)
        typer.echo(f"id {created.info.id}; store the key now, it is not shown again", err=True)


@keys_app.command("list")
def keys_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys")] = False,
) -> None:
    """List keys (ids, names, scopes; never the keys themselves)."""
    for info in ApiKeyRepository(_engine(_settings())).list(include_revoked=include_revoked):
        state = "revoked" if info.revoked_at else "active"
        used = info.last_used_at.isoformat(timespec="seconds") if info.last_used_at else "never"
        typer.echo(f"{info.id}\t{info.name}\t{','.join(info.scopes)}\t{state}\tlast used {used}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id")]) -> None:
    """Revoke a key; running servers refuse it within 5 seconds (they trust a verified key that
    long, to spare the database a read per request)."""
    if ApiKeyRepository(_engine(_settings())).revoke(key_id) is None:
        raise CliError(f"no API key with id {key_id}")
    typer.echo(f"revoked {key_id}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply database migrations."""
    settings = _settings()
    upgrade(make_engine(settings.database_url.get_secret_value()), revision)
    typer.echo(f"database at {revision}")


@openapi_app.command("export")
def openapi_export(
    path: Annotated[Path, typer.Argument(help="Where to write the document")] = Path(
        "openapi/openapi.json"
    ),
) -> None:
    """Write the OpenAPI document the app serves (checked for drift by the tests)."""
    from service.openapi_doc import render_openapi

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_openapi(), encoding="utf-8")
    typer.echo(f"wrote {path}")


def _connection_name(settings: Settings, target: str) -> str:
    """A connection by name, or by CRM kind when exactly one connection has that kind."""
    if target in settings.connections:
        return target
    of_kind = [n for n, c in settings.connections.items() if c.kind == target]
    if len(of_kind) == 1:
        return of_kind[0]
    if of_kind:
        raise CliError(f"several {target} connections ({', '.join(sorted(of_kind))}); name one")
    known = ", ".join(sorted(settings.connections)) or "none; set CEM_CONNECTIONS__<name>__KIND"
    raise CliError(f"no connection {target!r} (configured: {known})")


@app.command()
def worker(
    threads: Annotated[
        int | None,
        typer.Option(
            min=1, help="Jobs run at once by this process (default CEM_QUEUE__WORKER_THREADS)"
        ),
    ] = None,
) -> None:
    """Run jobs from the task queue (CEM_QUEUE__BROKER_URL) until SIGTERM / Ctrl-C."""
    from service.jobs.worker import stop_on_signals
    from service.main import create_worker

    settings = load_settings()
    if not settings.queue.enabled:
        raise CliError(
            "no task queue configured: set CEM_QUEUE__BROKER_URL (amqp://… or redis://…); "
            "without one, `cem serve` runs the jobs itself"
        )
    if threads is not None:
        settings = settings.model_copy(
            update={"queue": settings.queue.model_copy(update={"worker_threads": threads})}
        )
    create_worker(settings).serve(stop_on_signals())


@app.command()
def setup(
    target: Annotated[str, typer.Argument(help=TARGET_HELP)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only; change nothing")] = False,
) -> None:
    """Create the custom fields / properties the push needs in a CRM (safe to run twice)."""
    from service.main import build_connection

    settings = _settings()
    name = _connection_name(settings, target)
    connector = registry.connector(settings.connections[name].kind)
    if not connector.capabilities.provisioning:
        typer.echo(f"{name}: {connector.label} needs no fields set up", err=True)
        return
    report = build_connection(settings, name).writer.provision(dry_run=dry_run)
    for field in report.existing:
        typer.echo(f"exists   {field}")
    verb = "would create" if dry_run else "created"
    for field in report.created:
        typer.echo(f"{verb:<8} {field}")
    typer.echo(f"{name}: {len(report.existing)} present, {len(report.created)} {verb}", err=True)


@app.command()
def sync(
    target: Annotated[str, typer.Argument(help=TARGET_HELP)],
    no_sentiment: Annotated[
        bool, typer.Option("--no-sentiment", help="Skip message sentiment (faster)")
    ] = False,
) -> None:
    """Pull what changed, score the customers it touched, push fields and tasks (one run)."""
    from service.clock import SYSTEM_CLOCK
    from service.main import build_connection, sync_stores
    from service.progress import CounterLine, progress_bar
    from service.sentiment.pipeline import SentimentAnalyzer
    from service.testing_hooks import scoring_clock
    from service.usecases.sync import sync as run_sync
    from service.waits import listening_for_waits

    settings = _settings()
    name = _connection_name(settings, target)
    connection = build_connection(settings, name)
    analyzer = None if no_sentiment else SentimentAnalyzer(settings.sentiment)
    with progress_bar() as bar:
        progress = CounterLine(bar, name)
        with listening_for_waits(progress.waiting):  # rate-limit waits on the progress line
            report = run_sync(
                name,
                connection.reader,
                connection.writer,
                sync_stores(settings, _engine(settings)),
                # Scored like the sync job: at the fault suites' fixed instant when they set one.
                scoring_clock(SYSTEM_CLOCK).now(),
                analyzer=analyzer,
                flag_policy=settings.churn,
                progress=progress,
            )
    typer.echo(
        f"{name}: pulled {report.pulled:,}, refused {len(report.refused):,}, "
        f"scored {report.scored:,}, fields pushed {report.pushed:,}, "
        f"tasks created {report.tasks_created:,}, failed writes {len(report.push_failed):,}"
    )
    for failure in report.push_failed[:20]:
        typer.echo(f"  failed: {failure}", err=True)


@customers_app.command("erase")
def customers_erase(customer_id: Annotated[str, typer.Argument(help="Our customer id")]) -> None:
    """Erase one customer: our CRM fields cleared, our tasks closed, our rows deleted."""
    from service.main import erasure_writer
    from service.store.erasure import ErasureStore
    from service.store.suppression import SuppressionList
    from service.store.tasks import TaskLedgerRepository
    from service.usecases.erase import ErasureStores, erase_customer

    settings = _settings()
    engine = _engine(settings)
    report = erase_customer(
        customer_id,
        lambda name: erasure_writer(settings, name),
        ErasureStores(
            ErasureStore(engine, SuppressionList(engine, settings.suppression_secret())),
            TaskLedgerRepository(engine),
        ),
    )
    if not report.found:
        raise CliError(f"no customer with id {customer_id} (unknown, or already erased)")
    typer.echo(
        f"erased: {report.records_cleared} CRM record(s) cleared, "
        f"{report.tasks_closed} task(s) closed, {sum(report.rows_deleted.values())} row(s) deleted"
    )
    for match in report.matched:
        typer.echo(
            f"  also erased, the same {' and '.join(map(str, match['reasons']))}: "  # type: ignore[call-overload]
            f"{match['records']} record(s) on {', '.join(map(str, match['connections']))}"  # type: ignore[call-overload]
        )


@models_app.command("train")
def models_train(
    target: Annotated[str, typer.Argument(help=TARGET_HELP)],
) -> None:
    """Train the connection's churn model on its stored CRM outcomes now (the scheduled job)."""
    from service.clock import SYSTEM_CLOCK
    from service.store.churn_models import ChurnModelRepository
    from service.store.records import RecordStore
    from service.testing_hooks import scoring_clock
    from service.usecases.churn_training import train_churn

    settings = _settings()
    name = _connection_name(settings, target)
    engine = _engine(settings)
    report = train_churn(
        RecordStore(engine),
        ChurnModelRepository(engine),
        name,
        scoring_clock(SYSTEM_CLOCK).now(),
        flag_policy=settings.churn,
        policy=settings.churn_training,
    )
    typer.echo(f"{name}: {report.reason}")


@models_app.command("show")
def models_show(
    target: Annotated[str, typer.Argument(help=TARGET_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="The card as JSON (as the API)")] = False,
) -> None:
    """The connection's churn model card: data, quality out of time, drivers, whether in use."""
    from service.store.churn_models import ChurnModelRepository
    from service.usecases.model_card import ChurnModelCard

    settings = _settings()
    name = _connection_name(settings, target)
    stored = ChurnModelRepository(_engine(settings)).latest(name, with_model=False)
    if stored is None:
        raise CliError(f"{name} has no churn model yet (run: cem models train {name})")
    card = ChurnModelCard.of(stored)
    if as_json:
        typer.echo(card.model_dump_json(indent=2))
        return
    typer.echo(card.as_text())


# Exit code of an import that left rows out (invalid or unmatched): scripts can tell it from a
# failure (1) and from a complete import (0).
IMPORT_INCOMPLETE = 3


@import_app.command("surveys")
def import_surveys(
    file: Annotated[Path, typer.Argument(help="The export: .csv, .xlsx, .json or .jsonl")],
    mapping: Annotated[
        Path, typer.Option("--mapping", help="The mapping (YAML; docs/survey-import.md)")
    ],
    connection: Annotated[
        str | None,
        typer.Option(help="The connection the CRM id column belongs to (overrides the mapping)"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and match only; write nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    report_file: Annotated[
        Path | None,
        typer.Option("--report", help="Where to write the report (default: FILE.report.json)"),
    ] = None,
    no_sentiment: Annotated[
        bool, typer.Option("--no-sentiment", help="Skip the comments' sentiment (faster)")
    ] = False,
) -> None:
    """Import NPS, CSAT and CES answers and comments from a survey tool's export, into the
    history of the persons who answered; rescore and push them. Exit code 3 when some rows were
    invalid or matched no one (listed in the report file)."""
    from service.clock import SYSTEM_CLOCK
    from service.imports.mapping import MappingError, load_mapping
    from service.imports.readers import FileError, open_table
    from service.main import build_connection, sync_stores
    from service.progress import CounterLine, progress_bar
    from service.sentiment.pipeline import SentimentAnalyzer
    from service.store.survey_imports import SurveyImportLookups
    from service.testing_hooks import scoring_clock
    from service.usecases.rescore import rescore_stores
    from service.usecases.survey_import import ImportSetupError, SurveyImport

    settings = _settings()
    try:
        parsed = load_mapping(mapping)
        table = open_table(file, parsed.format)
    except (MappingError, FileError) as error:
        raise CliError(str(error)) from None
    named = connection or parsed.crm_connection
    crm_connection = _connection_name(settings, named) if named else None
    engine = _engine(settings)
    writers: dict[str, CrmWriter] = {}

    def writer(name: str) -> CrmWriter:
        if name not in writers:
            writers[name] = build_connection(settings, name).writer
        return writers[name]

    run = SurveyImport(
        rescore_stores(sync_stores(settings, engine), engine),
        SurveyImportLookups(engine),
        writer,
        set(settings.connections),
        analyzer=None if no_sentiment or dry_run else SentimentAnalyzer(settings.sentiment),
        flag_policy=settings.churn,
    )
    now = scoring_clock(SYSTEM_CLOCK).now()  # scored like a sync (the fault suites fix it)
    try:
        if as_json:
            report = run.run(table, parsed, now, connection=crm_connection, dry_run=dry_run)
        else:
            with progress_bar() as bar:
                run.progress = CounterLine(bar, f"{parsed.label}")
                report = run.run(table, parsed, now, connection=crm_connection, dry_run=dry_run)
    except (ImportSetupError, FileError) as error:
        raise CliError(str(error)) from None
    document = {"file": str(file), "mapping": str(mapping), **report.as_dict()}
    target = report_file or file.with_name(file.name + ".report.json")
    try:
        target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as error:
        # The import itself is done: say so rather than fail it (use --report elsewhere).
        typer.echo(f"warning: {target}: cannot write the report ({error.strerror})", err=True)
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False))
    else:
        for line in _import_summary(report, dry_run):
            typer.echo(line)
        typer.echo(f"report: {target}", err=True)
    if not report.complete:
        raise typer.Exit(IMPORT_INCOMPLETE)


def _import_summary(report: Any, dry_run: bool) -> list[str]:
    """The human summary of an import (`ImportReport`)."""
    would = "would be " if dry_run else ""
    rules = ", ".join(f"{n} by {rule}" for rule, n in sorted(report.matched_by.items()))
    lines = [
        f"{report.source}: {report.rows_read:,} rows read, {report.valid:,} valid, "
        f"{report.invalid:,} invalid",
        f"matched {report.matched:,}{f' ({rules})' if rules else ''}, "
        f"unmatched {len(report.unmatched):,}",
        f"{report.new:,} {would}new, {report.updated:,} {would}updated, "
        f"{report.already_imported:,} already imported",
    ]
    if not dry_run:
        lines.append(
            f"rescored {report.persons:,} person(s): scored {report.scored:,}, "
            f"fields pushed {report.pushed:,}, tasks created {report.tasks_created:,}, "
            f"failed writes {len(report.push_failed):,}"
        )
    for problem in report.problems[:20]:
        lines.append(f"  invalid: {problem}")
    for row in report.unmatched[:20]:
        lines.append(f"  unmatched: row {row.row}: {row.reason}")
    for note in report.deferred:
        lines.append(f"  pushed at the next sync: {note}")
    return lines


@app.command("sentiment")
def sentiment(
    batch_size: Annotated[
        int, typer.Option(min=1, max=MAX_BATCH, help="Texts scored together.")
    ] = 32,
    fast_path: Annotated[
        bool | None,
        typer.Option(
            help="Let the fast stages answer the texts they are sure about "
            "[default: CEM_SENTIMENT__FAST_PATH, itself on by default]."
        ),
    ] = None,
) -> None:
    """Score JSON lines {"id","text","lang"?} from stdin; write results as JSON lines."""
    from service.sentiment.cli import run
    from service.sentiment.pipeline import SentimentAnalyzer

    settings = _settings().sentiment
    # A flag overrides the configured value only when it is given (CEM_SENTIMENT__* applies).
    if fast_path is not None:
        settings = settings.model_copy(update={"fast_path": fast_path})
    bad = run(sys.stdin, sys.stdout, sys.stderr, SentimentAnalyzer(settings), batch_size)
    if bad:
        raise CliError(f"{bad} line(s) could not be scored (see the messages above)")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the API")] = 8000,
    customers: Annotated[
        int, typer.Option(min=10, help="Generated customers, split between the two CRMs")
    ] = 800,
    once: Annotated[bool, typer.Option("--once", help="Exit after the summary")] = False,
) -> None:
    """The whole loop against the sandbox CRMs, then the API on a local SQLite file."""
    from sandbox.demo import run_demo

    run_demo(port, customers, once=once)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn every failure into one line on stderr."""
    try:
        # Outside standalone mode click returns a command's `typer.Exit` code instead of raising.
        code = app(args=argv, standalone_mode=False, prog_name="cem")
    except typer.Exit as done:
        return int(getattr(done, "exit_code", 0))
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        return 130
    except NoArgsIsHelpError:
        return 2  # the help text was already printed
    except typer.TyperException as error:
        # typer vendors click; its usage errors would print several lines of usage.
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        typer.echo(f"error: {message} (see cem --help)", err=True)
        return int(getattr(error, "exit_code", 2))
    except (ConfigError, CliError, CrmError, DatabaseUnavailableError) as error:
        typer.echo(f"error: {error}", err=True)
        return 1
    except SQLAlchemyError as error:
        # The driver's message can embed the URL; say what failed without it.
        typer.echo(
            f"error: database failure ({type(error).__name__}); check CEM_DATABASE_URL", err=True
        )
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the README promises one line, whatever failed
        logging.getLogger("cem.cli").debug("command failed", exc_info=True)
        typer.echo(
            f"error: {one_line_error(error)} (CEM_LOG_LEVEL=DEBUG shows the traceback)", err=True
        )
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
