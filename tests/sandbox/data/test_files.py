"""Dataset files: exact round trip, manifest, encoding of every value type."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.data import files
from sandbox.data.codec import decode, encode
from sandbox.data.files import (
    FILES,
    TRUTH_FILE,
    read_dataset,
    read_manifest,
    read_truths,
    write_dataset,
)
from sandbox.data.generate import GENERATOR_VERSION, generate, truths
from sandbox.data.model import Case, CaseComment, LineItem, Transaction, Truth


def test_round_trip_restores_the_same_stream_and_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "PROGRESS_EVERY", 50)
    progress: list[int] = []
    manifest = write_dataset(tmp_path, seed=11, customers=200, on_progress=progress.append)
    assert progress == [50, 100, 150, 200]
    assert list(read_dataset(tmp_path)) == list(generate(11, 200))
    assert list(read_truths(tmp_path)) == list(truths(11, 200))
    assert read_manifest(tmp_path) == manifest


def test_manifest_describes_the_dataset(tmp_path: Path) -> None:
    manifest = write_dataset(tmp_path, seed=3, customers=40)
    assert manifest["seed"] == 3
    assert manifest["customers"] == 40
    assert manifest["generator_version"] == GENERATOR_VERSION
    assert manifest["window"] == {"start": "2024-11-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    for name, count in manifest["counts"].items():
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) == count, name
    assert manifest["counts"]["persons.jsonl"] == manifest["counts"][TRUTH_FILE] == 40
    assert set(manifest["files"].values()) == {*FILES.values(), TRUTH_FILE}


def test_a_folder_that_is_not_a_dataset_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a cem-sandbox-dataset"):
        list(read_dataset(tmp_path))


def test_values_encode_exactly() -> None:
    at = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    order = Transaction(
        "t1-001", "p1", "c1", "order", Decimal("2500000"), "VND", "won", at,
        (LineItem("Bình giữ nhiệt", 2, Decimal("1250000")),),
    )  # fmt: skip
    line = encode(order)
    obj = json.loads(line)
    assert obj["amount"] == "2500000"
    assert obj["occurred_at"] == "2025-03-01T08:30:00Z"
    assert "Bình giữ nhiệt" in line  # UTF-8, not \\u escapes
    assert decode(Transaction, line) == order
    case = Case(
        "k1-001", "p1", "c1", "S", "D", "new", "low", at, None, (CaseComment("x", at, True),)
    )
    assert decode(Case, encode(case)) == case
    truth = Truth("p1", 0.25, True, at, ("delivery", "price"))
    assert decode(Truth, encode(truth)) == truth


def test_files_out_of_stream_order_are_reported_not_dropped(tmp_path: Path) -> None:
    write_dataset(tmp_path, seed=4, customers=30)
    persons = tmp_path / "persons.jsonl"
    lines = persons.read_text(encoding="utf-8").splitlines(keepends=True)
    persons.write_text("".join(reversed(lines)), encoding="utf-8")
    with pytest.raises(ValueError, match="out of stream order"):
        list(read_dataset(tmp_path))


def test_compressed_datasets_round_trip_and_stay_reproducible(tmp_path: Path) -> None:
    manifest = write_dataset(tmp_path / "a", seed=6, customers=120, compress=True)
    write_dataset(tmp_path / "b", seed=6, customers=120, compress=True)
    plain = write_dataset(tmp_path / "plain", seed=6, customers=120)
    assert manifest["compressed"] is True
    assert all(name.endswith(".jsonl.gz") for name in manifest["files"].values())
    for name in manifest["files"].values():
        packed = (tmp_path / "a" / name).read_bytes()
        assert packed == (tmp_path / "b" / name).read_bytes()  # no time or name in headers
        assert gzip.decompress(packed) == (tmp_path / "plain" / name[:-3]).read_bytes()
    assert list(read_dataset(tmp_path / "a")) == list(generate(6, 120))
    assert list(read_truths(tmp_path / "a")) == list(truths(6, 120))
    assert sorted(manifest["counts"].values()) == sorted(plain["counts"].values())


def test_compressed_parallel_parts_hold_the_same_content(tmp_path: Path) -> None:
    one = write_dataset(tmp_path / "one", seed=6, customers=120, compress=True)
    write_dataset(tmp_path / "two", seed=6, customers=120, compress=True, workers=2)
    for name in one["files"].values():
        assert gzip.decompress((tmp_path / "one" / name).read_bytes()) == gzip.decompress(
            (tmp_path / "two" / name).read_bytes()
        )
