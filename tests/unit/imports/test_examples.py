"""The example files written by us for each tool's mapping (docs/examples/surveys/) read without
a problem: an extra check that the mappings fit the shapes docs/survey-import.md describes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.imports.mapping import load_mapping
from service.imports.readers import open_table
from service.imports.rows import Response, missing_columns, read_row

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples" / "surveys"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "export", sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in {".csv", ".json"})
)
def test_each_example_export_reads_with_its_mapping(export: str) -> None:
    path = EXAMPLES / export
    mapping = load_mapping(path.with_suffix(".yaml"))
    table = open_table(path, mapping.format)
    assert missing_columns(mapping, table.columns) == []
    rows = [read_row(mapping, row, NOW) for row in table.rows]
    assert rows
    assert all(isinstance(r, Response) for r in rows), rows
    assert all(r.answers for r in rows if isinstance(r, Response))
