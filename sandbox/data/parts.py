"""Write a dataset on several processes: independent parts, concatenated in stream order.

Because every unit of the dataset has its own seed (see ``seeding``), the companies of any
range of layout blocks can be generated without the rest. Each worker writes the files of one
range into ``<folder>/.parts/<n>/``; the parts are then concatenated in order, which gives
exactly the files a single process writes — byte for byte — in a fraction of the time on a
machine with cores to spare. (Compressed parts concatenate to a multi-member gzip file: the
same content, different bytes.)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime
from itertools import chain
from pathlib import Path

# ``files.write_dataset`` imports this module at call time, so importing ``files`` is no cycle.
from sandbox.data.files import FILES, TRUTH_FILE, file_name, write_records, write_truths
from sandbox.data.generate import blocks, generate_part, owners, truths
from sandbox.data.model import Person

_PARTS = ".parts"
_PIECES_PER_WORKER = 4  # smaller pieces even out uneven workloads across workers


def _split(total_blocks: int, pieces: int) -> list[range]:
    """``pieces`` consecutive, nearly equal block ranges covering ``range(total_blocks)``."""
    pieces = max(1, min(pieces, total_blocks))
    size, extra = divmod(total_blocks, pieces)
    ranges, first = [], 0
    for n in range(pieces):
        stop = first + size + (1 if n < extra else 0)
        ranges.append(range(first, stop))
        first = stop
    return ranges


def _write_part(
    folder: Path,
    seed: int,
    customers: int,
    part: range,
    start: datetime | None,
    head: bool,
    compress: bool,
) -> dict[str, int]:
    """Write one part's files; the first part (``head``) also carries the owners."""
    records = generate_part(seed, customers, part, start=start)
    if head:
        records = chain(owners(seed, customers), records)
    counts = write_records(folder, records, compress=compress)
    truth_name = file_name(TRUTH_FILE, compress)
    part_truths = truths(seed, customers, start=start, part=part)
    counts[truth_name] = write_truths(folder / truth_name, part_truths, compress)
    return counts


def write_parts(
    path: Path,
    seed: int,
    customers: int,
    *,
    start: datetime | None,
    workers: int,
    on_progress: Callable[[int], None] | None = None,
    compress: bool = False,
) -> dict[str, int]:
    """Write all record and truth files of a dataset into ``path`` using ``workers`` processes.

    ``on_progress`` is called with the number of persons written each time a part finishes.
    Returns the line count per file.
    """
    parts = _split(blocks(customers), workers * _PIECES_PER_WORKER)
    root = path / _PARTS
    shutil.rmtree(root, ignore_errors=True)
    folders = [root / f"{n:04d}" for n in range(len(parts))]
    names = [file_name(base, compress) for base in (*FILES.values(), TRUTH_FILE)]
    counts = dict.fromkeys(names, 0)
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(_write_part, folder, seed, customers, part, start, n == 0, compress)
                for n, (folder, part) in enumerate(zip(folders, parts, strict=True))
            ]
            for future in as_completed(futures):
                for name, count in future.result().items():
                    counts[name] += count
                if on_progress is not None:
                    on_progress(counts[file_name(FILES[Person], compress)])
        for name in counts:
            with (path / name).open("wb") as out:
                for folder in folders:
                    with (folder / name).open("rb") as part_file:
                        shutil.copyfileobj(part_file, out, 1 << 20)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return counts
