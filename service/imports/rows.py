"""One exported response checked and read as the mapping says: its id, when it was submitted,
who answered (the keys to match them by), the scores and the comments.

A row with any malformed cell is refused whole, with every problem named by row and column: half
a response imported would change a score the CX lead then cannot explain. Problems quote a
cell's value only for score and time columns; contact details and comments are never repeated
(the report is a file people pass around).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from service.domain.limits import EARLIEST, not_in_future
from service.imports.mapping import Mapping, Question, QuestionKind
from service.imports.readers import Row

_QUOTED = 40  # characters of a bad value quoted in a problem


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row (or one of its cells) could not be read."""

    row: int
    column: str | None
    problem: str

    def __str__(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        return f"row {self.row}: {where}{self.problem}"


@dataclass(frozen=True, slots=True)
class Answer:
    question: Question
    value: float


@dataclass(frozen=True, slots=True)
class Comment:
    question: Question
    text: str


@dataclass(frozen=True)
class Response:
    """A valid row: what gets matched and stored."""

    row: int
    response_id: str
    submitted_at: datetime
    email: str | None
    phone: str | None
    crm_id: str | None
    language: str | None
    touchpoint: str | None
    answers: tuple[Answer, ...]
    comments: tuple[Comment, ...]


def _text(value: Any) -> str | None:
    """A cell as trimmed text (None when empty); a whole float from a spreadsheet loses `.0`."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _quote(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= _QUOTED else text[:_QUOTED] + "…")


def _score(question: Question, value: Any) -> float | str:
    """The answer's value, or why it is not one."""
    low, high = question.bounds
    number: float
    if isinstance(value, bool):
        return f"{_quote(value)} is not a score"
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if text.casefold() in question.labels:
            return question.labels[text.casefold()]
        try:
            number = float(text)
        except ValueError:
            known = " or a known label" if question.labels else ""
            return f"{_quote(text)} is not a number{known}"
    if not math.isfinite(number) or not low <= number <= high:
        return f"{_quote(value)} is outside the scale {low}-{high}"
    return number


def _moment(mapping: Mapping, value: Any, now: datetime) -> datetime | str:
    """The submission time, aware (the mapping's time zone for times without an offset)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = str(value).strip()
        try:
            if mapping.submitted_format:
                moment = datetime.strptime(text, mapping.submitted_format)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            expected = mapping.submitted_format or "ISO 8601"
            return f"{_quote(text)} is not a time in {expected}"
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=mapping.timezone)
    if moment < EARLIEST:
        return f"{_quote(value)} is before 1970"
    try:
        not_in_future(moment, now)
    except ValueError:
        return f"{_quote(value)} is in the future"
    return moment


def _response_id(mapping: Mapping, cells: dict[str, Any]) -> str | None:
    parts = [_text(cells.get(column)) for column in mapping.response_id]
    if not any(parts):
        return None
    if not mapping.response_id_hashed:
        return parts[0]
    # The tool exports no id (Google Forms): the named columns' values stand for one.
    joined = "\x1f".join(p or "" for p in parts)
    return hashlib.sha256(joined.encode()).hexdigest()[:32]


def read_row(mapping: Mapping, row: Row, now: datetime) -> Response | list[Problem]:
    """The response in `row`, or every problem with it."""
    if row.problem is not None:
        return [Problem(row.number, None, row.problem)]
    cells = dict(row.cells)
    problems: list[Problem] = []
    response_id = _response_id(mapping, cells)
    if response_id is None:
        problems.append(Problem(row.number, ", ".join(mapping.response_id), "no response id"))
    raw_when = cells.get(mapping.submitted_at)
    submitted: datetime | None = None
    if _text(raw_when) is None:
        problems.append(Problem(row.number, mapping.submitted_at, "no submission time"))
    else:
        found = _moment(mapping, raw_when, now)
        if isinstance(found, str):
            problems.append(Problem(row.number, mapping.submitted_at, found))
        else:
            submitted = found
    answers: list[Answer] = []
    comments: list[Comment] = []
    for question in mapping.questions:
        value = cells.get(question.column)
        if _text(value) is None:
            continue  # not answered
        if question.kind is QuestionKind.COMMENT:
            comments.append(Comment(question, str(value).strip()))
            continue
        score = _score(question, value)
        if isinstance(score, str):
            problems.append(Problem(row.number, question.column, score))
        else:
            answers.append(Answer(question, score))
    if not problems and not answers and not comments:
        problems.append(Problem(row.number, None, "no mapped question is answered"))
    if problems or response_id is None or submitted is None:
        return problems
    touchpoint = (
        _text(cells.get(mapping.touchpoint_column))
        if mapping.touchpoint_column
        else mapping.touchpoint
    )
    return Response(
        row=row.number,
        response_id=response_id,
        submitted_at=submitted,
        email=_text(cells.get(mapping.email)) if mapping.email else None,
        phone=_text(cells.get(mapping.phone)) if mapping.phone else None,
        crm_id=_text(cells.get(mapping.crm_id)) if mapping.crm_id else None,
        language=_text(cells.get(mapping.language)) if mapping.language else None,
        touchpoint=touchpoint,
        answers=tuple(answers),
        comments=tuple(comments),
    )


def missing_columns(mapping: Mapping, columns: list[str]) -> list[str]:
    """The mapping's columns the file does not have, as `'name' (mapping key)`."""
    present = set(columns)
    return [f"{c!r} ({where})" for c, where in mapping.places.items() if c not in present]
