"""The service's database for one run: a fresh PostgreSQL database when CEM_TEST_POSTGRES_URL
names a server (as `make test` does), else a SQLite file; and a text dump of every table.

PostgreSQL is preferred: on SQLite a job's heartbeat waits for the job's own write of a page of
records, and on a loaded machine that wait can pass the stale-job limit (docs/faults.md).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import make_url

POSTGRES_ENV = "CEM_TEST_POSTGRES_URL"
STALE_SECONDS = {"postgresql": 20, "sqlite": 180}


def _admin(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create(workdir: Path) -> str:
    """A URL to an empty database for one run."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        return f"sqlite:///{workdir / 'cem.db'}"
    name = f"cem_faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin(base), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def dump(url: str, out: Path) -> Path:
    """Every row of every table as text (what the secret scan reads)."""
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn, out.open("w", encoding="utf-8") as text:
            for table in meta.sorted_tables:
                for row in conn.execute(select(table)):
                    text.write(f"{table.name}\t{tuple(row)!r}\n")
    finally:
        engine.dispose()
    return out


def drop(url: str) -> None:
    base = os.environ.get(POSTGRES_ENV)
    if kind(url) == "postgresql" and base:
        # From the server's own database: one cannot drop the database one is connected to.
        name = make_url(url).database
        with psycopg.connect(_admin(base), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
