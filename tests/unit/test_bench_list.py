"""`make bench` runs every benchmark module: the list names only modules that exist."""

from __future__ import annotations

from importlib.util import find_spec

from bench.__main__ import BENCHMARKS


def test_every_listed_benchmark_exists() -> None:
    missing = [name for name in BENCHMARKS if find_spec(name) is None]
    assert missing == []
