"""Survey mappings: which QID is NPS, CSAT or CES (and on what scale), which one is free text,
which embedded data field is the e-mail, which a CRM contact id, which the language.

They are ordinary mapping files (`adapters/mapping/`, validated against the shipped JSON schema
with file:line errors), one per survey: `object` is the survey id, `canonical: survey`,
`modified_field: recordedDate`. Qualtrics' own reading of the `fields` (which canonical names
mean what, the scales in `constants`) is checked here, with the same file:line messages. Why
not a schema of its own: the loader reads every YAML file under a mappings directory against
one schema, the registry checks every mapping's `crm`, and the capability test counts pull
mappings; a second format would need all three to learn about it (docs/qualtrics.md
"Survey mappings").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from adapters.mapping import FieldMap, Mapping, MappingError
from adapters.mapping.coerce import Scalar
from adapters.mapping.loader import line_of
from service.domain import SurveyKind

KIND = "qualtrics"
# Canonical names a survey mapping may use, besides refs.<system> and attributes.<name>.
METRICS = ("nps", "csat", "ces")
RESPONDENT = ("email", "language", "display_name")
RESPONSE = ("comment", "touchpoint")
_SCALE = re.compile(r"^(\d+)-(\d+)$")


@dataclass(frozen=True)
class Metric:
    """One metric question: its kind, QID (export column) and scale."""

    kind: SurveyKind
    field: FieldMap
    scale: tuple[int, int] | None


@dataclass(frozen=True)
class SurveyMap:
    """How one survey's export columns become a respondent and their answers."""

    survey_id: str
    mapping: Mapping
    metrics: tuple[Metric, ...]
    comment: FieldMap | None
    touchpoint: FieldMap | None
    # The respondent's fields (email, language, display_name, refs.*, attributes.*).
    respondent: tuple[FieldMap, ...]
    constant_touchpoint: str | None = None

    @property
    def ref_fields(self) -> tuple[FieldMap, ...]:
        return tuple(f for f in self.respondent if f.canonical.startswith("refs."))

    @property
    def email(self) -> FieldMap | None:
        return next((f for f in self.respondent if f.canonical == "email"), None)


def _line(source: str, *path: str) -> int:
    """1-based line of the key at `path` in the YAML file (1 when the file cannot be read)."""
    try:
        node = yaml.compose(Path(source).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return 1
    return line_of(node, list(path)) if node is not None else 1


def _fail(mapping: Mapping, problem: str, *path: str) -> MappingError:
    where = ".".join(path) or "(top level)"
    return MappingError(f"{mapping.source}:{_line(mapping.source, *path)}: {where}: {problem}")


def survey_map(mapping: Mapping) -> SurveyMap:
    """The survey reading of one qualtrics pull mapping; MappingError (file:line) if it is not
    one."""
    if mapping.canonical != "survey":
        raise _fail(mapping, "a Qualtrics mapping reads a survey (canonical: survey)", "canonical")
    if not mapping.object.startswith("SV_"):
        raise _fail(mapping, "object must be the survey id (SV_...)", "object")
    constants = dict(mapping.constants)
    metrics: list[Metric] = []
    respondent: list[FieldMap] = []
    comment = touchpoint = None
    for field in mapping.fields:
        name = field.canonical
        if name in METRICS:
            if field.type not in ("integer", "number"):
                raise _fail(mapping, "a score is a number (type: integer)", "fields", name, "type")
            metrics.append(Metric(SurveyKind(name), field, _scale(mapping, name, constants)))
        elif name == "comment":
            comment = field
        elif name == "touchpoint":
            touchpoint = field
        elif name in RESPONDENT or name.startswith(("refs.", "attributes.")):
            respondent.append(field)
        else:
            known = ", ".join((*METRICS, *RESPONSE, *RESPONDENT, "refs.<system>"))
            raise _fail(mapping, f"not a survey field (known: {known})", "fields", name)
    if not metrics:
        raise _fail(mapping, "map at least one of nps, csat, ces to its QID", "fields")
    for key in constants:
        if key != "touchpoint" and not key.endswith("_scale"):
            raise _fail(mapping, "only touchpoint and <metric>_scale are constants", "constants")
    fixed = constants.get("touchpoint")
    return SurveyMap(
        survey_id=mapping.object,
        mapping=mapping,
        metrics=tuple(metrics),
        comment=comment,
        touchpoint=touchpoint,
        respondent=tuple(respondent),
        constant_touchpoint=str(fixed) if fixed is not None else None,
    )


def _scale(mapping: Mapping, kind: str, constants: dict[str, Scalar]) -> tuple[int, int] | None:
    """`constants.<kind>_scale: "1-5"`; None: the conventional scale of the kind."""
    text = constants.get(f"{kind}_scale")
    if text is None:
        return None
    found = _SCALE.match(str(text))
    if found is None or int(found.group(2)) <= int(found.group(1)):
        raise _fail(mapping, "a scale is written low-high, e.g. 1-5", "constants", f"{kind}_scale")
    scale = (int(found.group(1)), int(found.group(2)))
    if kind == "nps" and scale != (0, 10):
        raise _fail(mapping, "NPS is 0-10 only", "constants", f"{kind}_scale")
    return scale


def survey_maps(mappings: list[Mapping]) -> list[SurveyMap]:
    """Every qualtrics pull mapping read as a survey map (MappingError at the first bad one)."""
    return [survey_map(m) for m in mappings]
