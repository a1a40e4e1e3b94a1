"""The survey import mapping: which column of a tool's export holds what (docs/survey-import.md).

A YAML file, validated against `schema.json` beside this module with the same reader and the same
`file:line: field: problem` errors as the connector mappings (adapters/mapping/loader.py), then
checked for what a schema cannot say (a comment about a question that does not exist, a scale
that is empty, NPS on another scale than 0-10, a time zone nobody knows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from adapters.mapping.loader import MappingError, line_of, read_validated
from service.domain import Channel, SurveyKind
from service.domain.events import DEFAULT_SCALES

SCHEMA = Path(__file__).resolve().parent / "schema.json"

__all__ = ["Mapping", "MappingError", "Question", "QuestionKind", "load_mapping"]


class QuestionKind(StrEnum):
    """What a mapped column holds: a score of one of the survey metrics, or a free-text comment."""

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    COMMENT = "comment"


@dataclass(frozen=True)
class Question:
    """One mapped question column."""

    name: str
    kind: QuestionKind
    column: str
    # (low, high) of a score's scale; the metric's conventional one when the mapping gives none.
    scale: tuple[int, int] | None = None
    # Answer text -> value, for tools that export the label ("Very satisfied") instead of 5;
    # matched trimmed and case-insensitively.
    labels: dict[str, float] = field(default_factory=dict)
    about: str | None = None  # a comment: the score question it explains

    @property
    def survey_kind(self) -> SurveyKind:
        return SurveyKind(self.kind.value)

    @property
    def bounds(self) -> tuple[int, int]:
        return self.scale or DEFAULT_SCALES[self.survey_kind]


@dataclass(frozen=True)
class FileFormat:
    """How to read the file; None means sniffed (the type from the file name, the encoding from
    its first bytes, the CSV delimiter from its first lines)."""

    type: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_rows: int = 1
    sheet: str | None = None
    records: str | None = None  # JSON: the key of the array of responses


@dataclass(frozen=True)
class Mapping:
    """A validated survey import mapping."""

    tool: str
    source: str  # the mapping file, for messages
    format: FileFormat
    questions: tuple[Question, ...]
    submitted_at: str
    response_id: tuple[str, ...]  # one column, or several whose values are hashed into the id
    response_id_hashed: bool = False
    submitted_format: str | None = None  # strptime format; None: ISO 8601
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    email: str | None = None
    phone: str | None = None
    crm_id: str | None = None
    crm_connection: str | None = None
    language: str | None = None
    touchpoint: str | None = None
    touchpoint_column: str | None = None
    channel: Channel | None = None
    # Column -> where the mapping names it ("questions.0.column"), for messages about the file.
    places: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The imported records' source object: `import:<tool>`."""
        return f"import:{self.tool}"

    def columns(self) -> list[str]:
        """Every column the mapping reads, in mapping order."""
        return list(self.places)


def _fail(path: Path, node: yaml.Node, where: list[str | int], problem: str) -> MappingError:
    dotted = ".".join(str(p) for p in where)
    return MappingError(f"{path}:{line_of(node, where)}: {dotted}: {problem}")


def _questions(path: Path, node: yaml.Node, raw: list[dict[str, Any]]) -> tuple[Question, ...]:
    questions: list[Question] = []
    names: set[str] = set()
    for index, spec in enumerate(raw):
        where: list[str | int] = ["questions", index]
        labels = spec.get("labels") or {}
        if spec["name"] in names:
            raise _fail(path, node, [*where, "name"], f"{spec['name']!r} is used twice")
        names.add(spec["name"])
        kind = QuestionKind(spec["kind"])
        scale = tuple(spec["scale"]) if "scale" in spec else None
        if kind is QuestionKind.COMMENT:
            for key in ("scale", "labels"):
                if key in spec:
                    raise _fail(path, node, [*where, key], "a comment has no scale or labels")
        else:
            if "about" in spec:
                raise _fail(path, node, [*where, "about"], "only a comment is about a question")
            low, high = scale or DEFAULT_SCALES[SurveyKind(kind.value)]
            if high <= low:
                raise _fail(path, node, [*where, "scale"], f"[{low}, {high}] is empty")
            if kind is QuestionKind.NPS and (low, high) != (0, 10):
                raise _fail(path, node, [*where, "scale"], "NPS is defined on 0-10 only")
            for label, value in labels.items():
                if not low <= value <= high:
                    problem = f"label {label!r} is {value}, outside the scale {low}-{high}"
                    raise _fail(path, node, [*where, "labels"], problem)
        questions.append(
            Question(
                name=spec["name"],
                kind=kind,
                column=spec["column"],
                scale=(scale[0], scale[1]) if scale else None,
                labels={
                    k.strip().casefold(): float(v) for k, v in (spec.get("labels") or {}).items()
                },
                about=spec.get("about"),
            )
        )
    scored = {q.name for q in questions if q.kind is not QuestionKind.COMMENT}
    for index, question in enumerate(questions):
        if question.about is not None and question.about not in scored:
            where = ["questions", index, "about"]
            raise _fail(path, node, where, f"no score question is named {question.about!r}")
    if not scored:
        raise _fail(path, node, ["questions"], "at least one NPS, CSAT or CES question is needed")
    return tuple(questions)


def _places(data: dict[str, Any]) -> dict[str, str]:
    """Column -> the mapping key naming it (the first one, when several do)."""
    places: dict[str, str] = {}

    def put(column: str | None, where: str) -> None:
        if column:
            places.setdefault(column, where)

    rid = data["response_id"]
    put(rid.get("column"), "response_id.column")
    for index, column in enumerate(rid.get("columns", [])):
        put(column, f"response_id.columns.{index}")
    put(data["submitted_at"]["column"], "submitted_at.column")
    respondent = data["respondent"]
    put(respondent.get("email"), "respondent.email")
    put(respondent.get("phone"), "respondent.phone")
    put((respondent.get("crm_id") or {}).get("column"), "respondent.crm_id.column")
    put(data.get("language"), "language")
    touchpoint = data.get("touchpoint")
    if isinstance(touchpoint, dict):
        put(touchpoint["column"], "touchpoint.column")
    for index, question in enumerate(data["questions"]):
        put(question["column"], f"questions.{index}.column")
    return places


def load_mapping(path: Path) -> Mapping:
    """Read and validate a survey import mapping; `MappingError` (one line) when it is wrong."""
    data, node = read_validated(path, SCHEMA)
    questions = _questions(path, node, data["questions"])
    when = data["submitted_at"]
    try:
        zone = ZoneInfo(when.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            path, node, ["submitted_at", "timezone"], f"unknown time zone {when['timezone']!r}"
        ) from None
    fmt = data.get("format") or {}
    respondent = data["respondent"]
    crm = respondent.get("crm_id") or {}
    rid = data["response_id"]
    touchpoint = data.get("touchpoint")
    return Mapping(
        tool=data["tool"],
        source=str(path),
        format=FileFormat(
            type=fmt.get("type"),
            encoding=fmt.get("encoding"),
            delimiter=fmt.get("delimiter"),
            header_rows=fmt.get("header_rows", 1),
            sheet=fmt.get("sheet"),
            records=fmt.get("records"),
        ),
        questions=questions,
        submitted_at=when["column"],
        submitted_format=when.get("format"),
        timezone=zone,
        response_id=(rid["column"],) if "column" in rid else tuple(rid["columns"]),
        response_id_hashed="columns" in rid,
        email=respondent.get("email"),
        phone=respondent.get("phone"),
        crm_id=crm.get("column"),
        crm_connection=crm.get("connection"),
        language=data.get("language"),
        touchpoint=touchpoint if isinstance(touchpoint, str) else None,
        touchpoint_column=touchpoint["column"] if isinstance(touchpoint, dict) else None,
        channel=Channel(data["channel"]) if "channel" in data else None,
        places=_places(data),
    )
