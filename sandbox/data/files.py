"""Write a generated dataset to a folder and read it back as the same record stream.

Layout (UTF-8 JSON lines, one object per line, fields in model order; see ``codec``)::

    manifest.json          seed, size, window, counts, file names, format and generator versions
    owners.jsonl           companies.jsonl      persons.jsonl
    transactions.jsonl     interactions.jsonl   cases.jsonl      survey_answers.jsonl
    truth.jsonl            the hidden ground truth, one line per person (keep it from models!)

With ``compress=True`` every ``.jsonl`` is a ``.jsonl.gz`` instead (a million customers are
about 4.5 GB uncompressed). Output is byte-for-byte reproducible: same seed and size, same files
(gzip headers carry no time or name).

Reading restores the exact stream order of :func:`sandbox.data.generate.generate`: every file
is written in stream order, so the reader walks companies, their persons, and merges each
person's history from the four history files by ``history_key``.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar, cast

from sandbox.data.codec import decoder, encode, iso
from sandbox.data.generate import GENERATOR_VERSION, generate, truths, window
from sandbox.data.model import (
    Case,
    Company,
    Interaction,
    Owner,
    Person,
    Record,
    SurveyAnswer,
    Transaction,
    Truth,
)
from sandbox.data.timeline import History, history_key

FORMAT = "cem-sandbox-dataset"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TRUTH_FILE = "truth.jsonl"
FILES: dict[type[Record], str] = {
    Owner: "owners.jsonl",
    Company: "companies.jsonl",
    Person: "persons.jsonl",
    Transaction: "transactions.jsonl",
    Interaction: "interactions.jsonl",
    Case: "cases.jsonl",
    SurveyAnswer: "survey_answers.jsonl",
}
_BUFFER = 1 << 20
T = TypeVar("T")


# --- writing -------------------------------------------------------------------------------
def file_name(base: str, compress: bool) -> str:
    """The name a data file has on disk: ``base`` or ``base.gz``."""
    return f"{base}.gz" if compress else base


class _GzipText(io.TextIOWrapper):
    """Text written through gzip into a file; closing it closes all three layers.

    ``GzipFile`` leaves a file object it was given open, and ``gzip.open`` would write the
    current time and the file name into the header, which breaks byte-for-byte reproducibility.
    """

    def __init__(self, path: Path) -> None:
        self._raw = path.open("wb")
        zipped = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
        super().__init__(zipped, encoding="utf-8", newline="\n")

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_for_writing(path: Path, compress: bool) -> IO[str]:
    """A text file to write JSON lines to, gzip-compressed if ``compress``."""
    if compress:
        return _GzipText(path)
    return path.open("w", encoding="utf-8", newline="\n", buffering=_BUFFER)


Progress = Callable[[int], None]
"""Called with the number of persons written so far (every ``PROGRESS_EVERY`` persons)."""
PROGRESS_EVERY = 10_000


def write_records(
    folder: Path,
    records: Iterable[Record],
    *,
    on_progress: Progress | None = None,
    compress: bool = False,
) -> dict[str, int]:
    """Write ``records`` (in stream order) into one JSON-lines file per type; return the line
    count per file name."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {cls: file_name(base, compress) for cls, base in FILES.items()}
    counts = dict.fromkeys(names.values(), 0)
    persons = 0
    with ExitStack() as stack:
        handles = {
            cls: stack.enter_context(open_for_writing(folder / name, compress))
            for cls, name in names.items()
        }
        for record in records:
            cls = type(record)
            handles[cls].write(encode(record) + "\n")
            counts[names[cls]] += 1
            if cls is Person:
                persons += 1
                if on_progress is not None and persons % PROGRESS_EVERY == 0:
                    on_progress(persons)
    return counts


def write_truths(path: Path, truth_records: Iterable[Truth], compress: bool) -> int:
    """Write the ground truth to ``path``; return how many lines were written."""
    count = 0
    with open_for_writing(path, compress) as handle:
        for truth in truth_records:
            handle.write(encode(truth) + "\n")
            count += 1
    return count


def write_dataset(
    folder: str | Path,
    seed: int,
    customers: int,
    *,
    start: datetime | None = None,
    on_progress: Progress | None = None,
    workers: int = 1,
    compress: bool = False,
) -> dict[str, Any]:
    """Generate a dataset into ``folder`` (created if missing) and return its manifest.

    Memory stays flat whatever ``customers`` is: records go to disk as they are generated.
    ``on_progress`` lets a command line show progress on large datasets (a million customers
    take minutes). ``workers`` > 1 generates parts on that many processes; the files are the
    same, byte for byte (compressed files: the same content, as multi-member gzip).
    """
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    truth_name = file_name(TRUTH_FILE, compress)
    if workers > 1:
        # Imported here: ``parts`` builds on this module's writer.
        from sandbox.data.parts import write_parts

        counts = write_parts(
            path,
            seed,
            customers,
            start=start,
            workers=workers,
            on_progress=on_progress,
            compress=compress,
        )
    else:
        records = generate(seed, customers, start=start)
        counts = write_records(path, records, on_progress=on_progress, compress=compress)
        counts[truth_name] = write_truths(
            path / truth_name, truths(seed, customers, start=start), compress
        )
    begin, end = window(start)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "customers": customers,
        "window": {"start": iso(begin), "end": iso(end)},
        "counts": counts,
        "files": {cls.__name__: file_name(base, compress) for cls, base in FILES.items()}
        | {"Truth": truth_name},
        "compressed": compress,
        "money": "decimal strings in the record's currency",
    }
    with (path / MANIFEST).open("w", encoding="utf-8", newline="\n") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2, sort_keys=True)
        handle.write("\n")
    return manifest


# --- reading -------------------------------------------------------------------------------
def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The dataset's manifest; raises ``ValueError`` for a folder that is not a dataset."""
    with (Path(folder) / MANIFEST).open(encoding="utf-8") as handle:
        manifest: dict[str, Any] = json.load(handle)
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{folder} is not a {FORMAT} v{FORMAT_VERSION} dataset")
    return manifest


def open_for_reading(path: Path) -> IO[str]:
    """A data file opened as text, decompressing a ``.gz`` one."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _lines(path: Path, cls: type[T]) -> Iterator[T]:
    decode_obj = decoder(cls)
    with open_for_reading(path) as handle:
        for line in handle:
            yield decode_obj(json.loads(line))


class _Peekable(Iterator[T]):
    """An iterator that can look at its next item without taking it."""

    _END: Any = object()

    def __init__(self, items: Iterator[T]) -> None:
        self._items = items
        self._next: Any = next(items, self._END)

    def __next__(self) -> T:
        item = self._next
        if item is self._END:
            raise StopIteration
        self._next = next(self._items, self._END)
        return cast(T, item)

    def peek(self) -> T | None:
        return None if self._next is self._END else cast(T, self._next)


def read_dataset(folder: str | Path) -> Iterator[Record]:
    """Read a dataset back as the record stream ``generate`` produced, in the same order."""
    path = Path(folder)
    names: dict[str, str] = read_manifest(path)["files"]

    def lines(cls: type[T]) -> Iterator[T]:
        return _lines(path / names[cls.__name__], cls)

    yield from lines(Owner)
    persons = _Peekable(lines(Person))
    histories: list[_Peekable[History]] = [
        _Peekable(lines(cls)) for cls in (Transaction, Interaction, Case, SurveyAnswer)
    ]
    for company in lines(Company):
        yield company
        while (person := persons.peek()) is not None and person.company_id == company.id:
            yield next(persons)
            own: list[History] = []
            for source in histories:
                while (item := source.peek()) is not None and item.person_id == person.id:
                    own.append(next(source))
            own.sort(key=history_key)
            yield from own
    # Anything left over was not where stream order puts it: say so rather than drop it.
    sources: list[_Peekable[Person] | _Peekable[History]] = [persons, *histories]
    for rest in sources:
        if (left := rest.peek()) is not None:
            raise ValueError(f"{path}: records out of stream order, first: {left!r}")


def read_truths(folder: str | Path) -> Iterator[Truth]:
    """Read the ground truth back, one ``Truth`` per person in stream order."""
    path = Path(folder)
    yield from _lines(path / read_manifest(path)["files"]["Truth"], Truth)
