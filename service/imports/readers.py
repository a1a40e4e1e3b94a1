"""Reading a survey export into rows of cells by column name: CSV, XLSX, JSON and JSON Lines.

What the tools and Excel actually write (docs/survey-import.md, "File formats"):
- CSV in UTF-8, UTF-8 with a byte-order mark (Excel's "CSV UTF-8"), UTF-16 with a BOM (Excel's
  "Unicode Text", tab-separated), or a legacy code page (Excel's plain "CSV" on Windows: cp1252
  in the West). The encoding is read from the BOM, else UTF-8 when the bytes decode as UTF-8,
  else cp1252; the delimiter (`,` `;` tab `|`) is sniffed from the first lines. A mapping may set
  both.
- Two header rows (SurveyMonkey): the first holds the question, written once over all the
  columns of a multi-column question, the second the answer option or "Response"; a column is
  named `<first row> / <second row>`, the first row carried right over blank cells, or the first
  row alone when the second is blank.
- XLSX through openpyxl in read-only mode (rows streamed, formulas' cached values), the first
  sheet or the one named.
- JSON: an array of objects, or an object holding the array under a named key; nested objects are
  read as dotted column names (`answers.nps`). JSON Lines: one object a line.

A row's `number` is where a person finds it: the spreadsheet row (header rows counted) for CSV
and XLSX, the line for JSON Lines, the position in the array (from 1) for JSON.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.imports.mapping import FileFormat

_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
# Excel's plain "CSV" on a Western Windows: the code page when the bytes are not UTF-8.
_LEGACY_ENCODING = "cp1252"


class FileError(Exception):
    """The file cannot be read as the mapping says (one line, no traceback)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One response as read: its place in the file and its cells by column name."""

    number: int
    cells: Mapping[str, Any]
    # Why the row could not be read at all (a line that is not JSON): reported, the others go on.
    problem: str | None = None


@dataclass
class Table:
    """A file's columns and its rows (streamed where the format allows)."""

    columns: list[str]
    rows: Iterator[Row]
    unit: str  # "row", "line" or "record": what `Row.number` counts


def file_type(path: Path, fmt: FileFormat) -> str:
    """csv, xlsx, json or jsonl: the mapping's, else from the file name."""
    if fmt.type:
        return fmt.type
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        known = ", ".join(sorted(_SUFFIXES))
        raise FileError(f"{path}: cannot tell the format from the name (known: {known}); "
                        "set format.type in the mapping")  # fmt: skip
    return found


def open_table(path: Path, fmt: FileFormat) -> Table:
    """The file's table; `FileError` when it cannot be read."""
    kind = file_type(path, fmt)
    if not path.is_file():
        raise FileError(f"{path}: no such file")
    if kind == "xlsx":
        return _xlsx(path, fmt)
    text = _text(path, fmt.encoding)
    if kind == "csv":
        return _csv(path, text, fmt)
    if kind == "jsonl":
        return _json_lines(path, text)
    return _json(path, text, fmt.records)


def _text(path: Path, encoding: str | None) -> str:
    data = path.read_bytes()
    if encoding is None:
        encoding = _sniff_encoding(data)
    try:
        return data.decode(encoding)
    except LookupError:
        raise FileError(f"{path}: unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as error:
        raise FileError(
            f"{path}: not {encoding} text (byte {error.start}); set format.encoding"
        ) from None


def _sniff_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the BOM says which byte order, and is dropped
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return _LEGACY_ENCODING
    return "utf-8"


def _header(first: list[Any], second: list[Any] | None) -> list[str]:
    """Column names from one or two header rows, made unique (`name (2)`) when repeated."""
    names: list[str] = []
    carried = ""
    width = max(len(first), len(second or []))
    for index in range(width):
        top = str(first[index] or "").strip() if index < len(first) else ""
        if top:
            carried = top
        name = top
        if second is not None:
            below = str(second[index] or "").strip() if index < len(second) else ""
            name = f"{carried} / {below}" if below and carried else (below or carried)
        names.append(name)
    seen: dict[str, int] = {}
    unique: list[str] = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def _rows(columns: list[str], body: Iterator[list[Any]], first_number: int) -> Iterator[Row]:
    for number, values in enumerate(body, start=first_number):
        if not any(v not in (None, "") for v in values):
            continue  # a blank line (Excel leaves them at the end)
        yield Row(number, dict(zip(columns, values, strict=False)))


def _csv(path: Path, text: str, fmt: FileFormat) -> Table:
    delimiter = fmt.delimiter
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:_SNIFF_BYTES], _DELIMITERS).delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        heads = [next(reader) for _ in range(fmt.header_rows)]
    except StopIteration:
        raise FileError(f"{path}: fewer than {fmt.header_rows} header row(s)") from None
    except csv.Error as error:
        raise FileError(f"{path}: not CSV ({error})") from None
    columns = _header(heads[0], heads[1] if len(heads) > 1 else None)

    def body() -> Iterator[list[Any]]:
        try:
            yield from reader
        except csv.Error as error:
            raise FileError(f"{path}: row {reader.line_num}: not CSV ({error})") from None

    return Table(columns, _rows(columns, body(), fmt.header_rows + 1), "row")


def _xlsx(path: Path, fmt: FileFormat) -> Table:
    # openpyxl ships no type information (no stubs are pinned).
    from openpyxl import load_workbook  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as error:
        raise FileError(f"{path}: not an XLSX workbook ({type(error).__name__})") from None
    if fmt.sheet is not None and fmt.sheet not in book.sheetnames:
        book.close()
        raise FileError(f"{path}: no sheet {fmt.sheet!r} (sheets: {', '.join(book.sheetnames)})")
    sheet = book[fmt.sheet] if fmt.sheet is not None else book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    heads = [list(row) for _, row in zip(range(fmt.header_rows), values, strict=False)]
    if len(heads) < fmt.header_rows:
        book.close()
        raise FileError(f"{path}: fewer than {fmt.header_rows} header row(s)")
    columns = _header(heads[0], heads[1] if len(heads) > 1 else None)

    def body() -> Iterator[list[Any]]:
        try:
            for row in values:
                yield list(row)
        finally:
            book.close()  # read-only mode keeps the file open until closed

    return Table(columns, _rows(columns, body(), fmt.header_rows + 1), "row")


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys: {"answers": {"nps": 9}} -> {"answers.nps": 9}."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _records_table(records: list[tuple[int, Any]], unit: str, path: Path) -> Table:
    rows: list[Row] = []
    columns: dict[str, None] = {}
    for number, record in records:
        if isinstance(record, str):  # the reader's note on a line that is not JSON
            rows.append(Row(number, {}, record))
            continue
        if not isinstance(record, dict):
            rows.append(Row(number, {}, "not a JSON object"))
            continue
        cells = _flat(record)
        columns.update(dict.fromkeys(cells))
        rows.append(Row(number, cells))
    return Table(list(columns), iter(rows), unit)


def _json(path: Path, text: str, key: str | None) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FileError(f"{path}:{error.lineno}: not JSON ({error.msg})") from None
    if key is not None:
        if not isinstance(data, dict) or not isinstance(data.get(key), list):
            raise FileError(f"{path}: no array under the key {key!r} (format.records)")
        data = data[key]
    if not isinstance(data, list):
        raise FileError(f"{path}: not an array of responses; name its key in format.records")
    return _records_table(list(enumerate(data, start=1)), "record", path)


def _json_lines(path: Path, text: str) -> Table:
    records: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError as error:
            parsed = f"not a JSON line ({error.msg})"
        else:
            # A JSON string on a line is not a response; only objects are.
            parsed = parsed if not isinstance(parsed, str) else [parsed]
        records.append((number, parsed))
    return _records_table(records, "line", path)
