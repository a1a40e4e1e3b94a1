"""The SQLite database file and its -wal/-shm companions are created owner-only (issue 16)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from service.store.database import make_engine, upgrade


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    # The common default umask; the files must still come out 0600.
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_database_wal_and_shm_files_are_0600(tmp_path: Path) -> None:
    database = tmp_path / "data" / "cem.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with engine.connect() as connection:  # WAL and SHM exist while a connection is open
            connection.execute(text("SELECT count(*) FROM alembic_version"))
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            assert all(f.exists() for f in files), [f.name for f in files if not f.exists()]
            assert {f.name: oct(_mode(f)) for f in files} == {f.name: "0o600" for f in files}
    finally:
        engine.dispose()


@pytest.mark.usefixtures("permissive_umask")
def test_existing_readable_database_is_kept_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "old.db"
    database.touch(mode=0o644)
    with caplog.at_level(logging.WARNING, logger="service.store.database"):
        make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o644  # an operator's choice is not changed behind their back
    assert "readable by others" in caplog.text


def test_memory_database_creates_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_engine("sqlite:///:memory:").dispose()
    assert list(tmp_path.iterdir()) == []
