"""Same seed, same bytes; different seed, different data; any slice generated alone is equal."""

from __future__ import annotations

import itertools
import tracemalloc
from pathlib import Path

import pytest

from sandbox.data.files import write_dataset
from sandbox.data.generate import generate, truths
from sandbox.data.model import Owner


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    write_dataset(tmp_path / "a", seed=7, customers=150)
    write_dataset(tmp_path / "b", seed=7, customers=150)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a == b
    assert len(a) == 9  # seven record files, truth and manifest
    assert all(content for content in a.values())


def test_different_seeds_give_different_data(tmp_path: Path) -> None:
    write_dataset(tmp_path / "a", seed=7, customers=150)
    write_dataset(tmp_path / "b", seed=8, customers=150)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    for name in a:
        assert a[name] != b[name], name


def test_a_smaller_dataset_is_a_prefix_of_a_larger_one() -> None:
    # 96 is a whole number of layout blocks and both sizes get the same owner roster,
    # so chunking cannot matter: the same customer is the same wherever it is generated.
    small = [r for r in generate(5, 96) if not isinstance(r, Owner)]
    large = [r for r in generate(5, 400) if not isinstance(r, Owner)]
    assert large[: len(small)] == small
    assert list(truths(5, 96)) == list(itertools.islice(truths(5, 400), 96))


def test_a_million_customer_stream_is_lazy() -> None:
    tracemalloc.start()
    try:
        first = list(itertools.islice(generate(1, 1_000_000), 2_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(first) == 2_000
    # The first records of a million customers cost what they cost for ten: a few MB.
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    owners = [r for r in first if isinstance(r, Owner)]
    assert len(owners) == len({o.email for o in owners}) > 100  # roster scales with the book


def test_parallel_parts_write_the_same_bytes(tmp_path: Path) -> None:
    # 203 customers: 26 layout blocks, the last one partial, split over 8 parts.
    write_dataset(tmp_path / "one", seed=9, customers=203)
    progress: list[int] = []
    write_dataset(tmp_path / "two", seed=9, customers=203, workers=2, on_progress=progress.append)
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    assert progress[-1] == 203
    assert progress == sorted(progress)
    assert not (tmp_path / "two" / ".parts").exists()


def test_parallel_writing_of_an_empty_dataset_still_has_the_owners(tmp_path: Path) -> None:
    write_dataset(tmp_path / "one", seed=9, customers=0)
    write_dataset(tmp_path / "two", seed=9, customers=0, workers=3)
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    assert (tmp_path / "two" / "owners.jsonl").read_text(encoding="utf-8").count("\n") == 8


def _peak_while_streaming(customers: int) -> int:
    tracemalloc.start()
    try:
        for _ in generate(3, customers):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_the_size_of_the_stream() -> None:
    list(itertools.islice(generate(3, 10), 50))  # load phrase banks and caches first
    small, large = _peak_while_streaming(1_000), _peak_while_streaming(8_000)
    # Seven thousand more customers add at most what one unusually busy customer holds:
    # anything kept per customer (even 80 bytes each) would exceed this.
    assert large - small < 512 * 1024, (small, large)
    assert large < 4 * 1024 * 1024
