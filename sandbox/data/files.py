"""Write a generated dataset to a folder and read it back as the same record stream.

Layout (UTF-8 JSON lines, one object per line, fields in model order)::

    manifest.json          seed, size, window, counts, file names, format and generator versions
    owners.jsonl           companies.jsonl      persons.jsonl
    transactions.jsonl     interactions.jsonl   cases.jsonl      survey_answers.jsonl
    truth.jsonl            the hidden ground truth, one line per person (keep it from models!)

Values: datetimes as ISO 8601 in UTC with a ``Z``; money as JSON *strings* holding the exact
decimal (``"1249.00"``) so no float rounding creeps in; nested line items and case comments as
arrays of objects. Output is byte-for-byte reproducible: same seed and size, same files.

Reading restores the exact stream order of :func:`sandbox.data.generate.generate`: every file
is written in stream order, so the reader walks companies, their persons, and merges each
person's history from the four history files by ``history_key``.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints

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


# --- encoding ------------------------------------------------------------------------------
def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _to_json(hint: Any) -> Callable[[Any], Any] | None:
    """How to turn a value of a field with type ``hint`` into JSON (``None``: as it is)."""
    if hint is datetime:
        return _iso
    if hint is Decimal:
        return str
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        convert = _to_json(inner)
        if convert is None:
            return None
        return lambda v: None if v is None else convert(v)
    if origin is tuple:
        item = args[0]
        if is_dataclass(item) and isinstance(item, type):
            plan = _encoding_plan(item)
            return lambda v: [_as_object(x, plan) for x in v]
    return None  # str, int, float, bool, Literals and tuples of strings are JSON already


_Plan = tuple[tuple[str, Callable[[Any], Any] | None], ...]
_PLANS: dict[type, _Plan] = {}


def _encoding_plan(cls: type) -> _Plan:
    """Field names with their converters, worked out once per type from its annotations."""
    plan = _PLANS.get(cls)
    if plan is None:
        hints = get_type_hints(cls)
        plan = _PLANS[cls] = tuple((f.name, _to_json(hints[f.name])) for f in fields(cls))
    return plan


def _as_object(record: Any, plan: _Plan) -> dict[str, Any]:
    return {
        name: getattr(record, name) if convert is None else convert(getattr(record, name))
        for name, convert in plan
    }


# Values are made JSON-ready up front, so the C encoder runs without a Python ``default`` hook.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(record: Record | Truth) -> str:
    """One record as a compact JSON line (without the newline)."""
    return _ENCODER.encode(_as_object(record, _encoding_plan(type(record))))


# --- decoding ------------------------------------------------------------------------------
def _parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _converter(hint: Any) -> Callable[[Any], Any] | None:
    """How to turn the JSON value of a field with type ``hint`` back into Python."""
    if hint is datetime:
        return _parse_datetime
    if hint is Decimal:
        return Decimal
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        convert = _converter(inner)
        if convert is None:
            return None
        return lambda v: None if v is None else convert(v)
    if origin is tuple:
        item = args[0]
        if is_dataclass(item) and isinstance(item, type):
            decode_item = _decoder(item)
            return lambda v: tuple(decode_item(x) for x in v)
        return tuple
    return None  # str, int, float, bool and Literals are already right


_DECODERS: dict[type, Callable[[dict[str, Any]], Any]] = {}


def _decoder(cls: type[T]) -> Callable[[dict[str, Any]], T]:
    """A function building ``cls`` from its decoded JSON object (built once per type)."""
    cached = _DECODERS.get(cls)
    if cached is not None:
        return cached
    hints = get_type_hints(cls)
    converters = {
        name: convert for name, hint in hints.items() if (convert := _converter(hint)) is not None
    }

    def decode_obj(obj: dict[str, Any]) -> T:
        for name, convert in converters.items():
            obj[name] = convert(obj[name])
        return cls(**obj)

    _DECODERS[cls] = decode_obj
    return decode_obj


def decode(cls: type[T], line: str) -> T:
    """The record of type ``cls`` encoded in ``line``."""
    return _decoder(cls)(json.loads(line))


# --- writing -------------------------------------------------------------------------------
def _open(path: Path) -> IO[str]:
    return path.open("w", encoding="utf-8", newline="\n", buffering=_BUFFER)


Progress = Callable[[int], None]
"""Called with the number of persons written so far (every ``PROGRESS_EVERY`` persons)."""
PROGRESS_EVERY = 10_000


def write_records(
    folder: Path, records: Iterable[Record], *, on_progress: Progress | None = None
) -> dict[str, int]:
    """Write ``records`` (in stream order) into one JSON-lines file per type; return counts."""
    folder.mkdir(parents=True, exist_ok=True)
    handles = {cls: _open(folder / name) for cls, name in FILES.items()}
    counts = dict.fromkeys(FILES.values(), 0)
    persons = 0
    try:
        for record in records:
            cls = type(record)
            handles[cls].write(encode(record) + "\n")
            counts[FILES[cls]] += 1
            if cls is Person:
                persons += 1
                if on_progress is not None and persons % PROGRESS_EVERY == 0:
                    on_progress(persons)
    finally:
        for handle in handles.values():
            handle.close()
    return counts


def write_dataset(
    folder: str | Path,
    seed: int,
    customers: int,
    *,
    start: datetime | None = None,
    on_progress: Progress | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Generate a dataset into ``folder`` (created if missing) and return its manifest.

    Memory stays flat whatever ``customers`` is: records go to disk as they are generated.
    ``on_progress`` lets a command line show progress on large datasets (a million customers
    take minutes). ``workers`` > 1 generates parts on that many processes; the files are the
    same, byte for byte.
    """
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    if workers > 1:
        # Imported here: ``parts`` builds on this module's writer.
        from sandbox.data.parts import write_parts

        counts = write_parts(
            path, seed, customers, start=start, workers=workers, on_progress=on_progress
        )
    else:
        records = generate(seed, customers, start=start)
        counts = write_records(path, records, on_progress=on_progress)
        counts[TRUTH_FILE] = 0
        with _open(path / TRUTH_FILE) as handle:
            for truth in truths(seed, customers, start=start):
                handle.write(encode(truth) + "\n")
                counts[TRUTH_FILE] += 1
    begin, end = window(start)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "customers": customers,
        "window": {"start": _iso(begin), "end": _iso(end)},
        "counts": counts,
        "files": {cls.__name__: name for cls, name in FILES.items()} | {"Truth": TRUTH_FILE},
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


def _lines(path: Path, cls: type[T]) -> Iterator[T]:
    decode_obj = _decoder(cls)
    with path.open(encoding="utf-8") as handle:
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
    read_manifest(path)
    yield from _lines(path / FILES[Owner], Owner)
    persons = _Peekable(_lines(path / FILES[Person], Person))
    histories: list[_Peekable[History]] = [
        _Peekable(_lines(path / FILES[cls], cls))
        for cls in (Transaction, Interaction, Case, SurveyAnswer)
    ]
    for company in _lines(path / FILES[Company], Company):
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
    yield from _lines(Path(folder) / TRUTH_FILE, Truth)
