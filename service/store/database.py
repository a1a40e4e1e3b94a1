"""Engine and sessions for SQLite (default, a file) and PostgreSQL (psycopg 3), plus migrations."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.logs import redact

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# A SQLite database holds customers' data and API key hashes: owner-only. SQLite gives its -wal
# and -shm files the mode of the database file, so creating that one 0600 covers all three.
SQLITE_FILE_MODE = 0o600

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder created and sane pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private_file(Path(parsed.database).expanduser())
        # No pre-ping: a SQLite file cannot drop a connection the way a server can, and the
        # extra `SELECT 1` on every checkout was ~10 % of an authenticated API request's CPU.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _create_private_file(path: Path) -> None:
    """Create the database file owner-only (0600) before SQLite creates it with the umask's mode;
    an existing file keeps its mode, with a warning when others can read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("database file %s is readable by others (mode %o): chmod 600", path, mode)
        return
    os.close(descriptor)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def is_ready(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # readiness reports any failure as not ready
        return False
    return True


class DatabaseUnavailableError(Exception):
    """The database does not answer at start-up; the message is one line, without credentials."""


def check_database(engine: Engine) -> None:
    """Raise `DatabaseUnavailableError` unless the database answers a trivial query.

    Run before anything else touches the database at start-up, so a server that cannot work
    says so in one line instead of a driver traceback from inside uvicorn's start-up."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver or pool failure means "not reachable"
        url = engine.url
        where = f"{url.host}:{url.port or 'default port'}" if url.host else str(url.database)
        cause = error.__cause__ or error.__context__ or error
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        # The driver's reason, after its "connection failed: " prefix, never with the password.
        reason = redact(first.split(": ", 1)[-1], [url.password or ""]) or type(cause).__name__
        raise DatabaseUnavailableError(
            f"the database at {where} does not answer ({reason[:200]}); check CEM_DATABASE_URL "
            "and that the database server is running"
        ) from None
