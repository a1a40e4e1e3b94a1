"""Load and validate mapping files; errors name the file, the line and the field.

Real orgs rename and add fields, so mappings are data a user can copy and edit
(`CEM_MAPPINGS_DIR`). A typo must stop start-up with a message that points at it, e.g.
`shipped/salesforce/Contact.yaml:12: fields.email.type: 'strng' is not one of [...]`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from adapters.mapping.coerce import Scalar

# The shipped mappings are package data (installed with the package, read from site-packages).
DEFAULT_DIR = Path(__file__).resolve().parent / "shipped"
SCHEMA_FILE = "schema.json"


class MappingError(Exception):
    """A mapping file is missing, unreadable or invalid (one line: file:line: field: problem)."""


@dataclass(frozen=True)
class FieldMap:
    canonical: str
    crm: str
    type: str = "string"
    values: dict[str, Scalar] | None = None
    default: Scalar = None
    required: bool = False
    max_length: int | None = None
    label: str | None = None


@dataclass(frozen=True)
class Mapping:
    """One CRM object's mapping in one direction."""

    crm: str
    object: str
    canonical: str
    direction: str
    fields: tuple[FieldMap, ...]
    modified_field: str | None = None
    external_id_field: str | None = None
    constants: tuple[tuple[str, Scalar], ...] = ()
    where: str | None = None
    source: str = ""

    def crm_fields(self) -> list[str]:
        """The CRM field names this mapping reads or writes, in file order, without repeats."""
        names = [f.crm for f in self.fields]
        for extra in (self.modified_field, self.external_id_field):
            if extra:
                names.append(extra)
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class MappingSet:
    """All mappings of a directory, looked up by (crm, object, direction)."""

    mappings: tuple[Mapping, ...]

    def get(self, crm: str, crm_object: str, direction: str = "pull") -> Mapping:
        for mapping in self.mappings:
            if (mapping.crm, mapping.object, mapping.direction) == (crm, crm_object, direction):
                return mapping
        raise MappingError(f"no {direction} mapping for {crm} object {crm_object}")

    def for_crm(self, crm: str, direction: str | None = None) -> list[Mapping]:
        return [
            m
            for m in self.mappings
            if m.crm == crm and (direction is None or m.direction == direction)
        ]


@cache
def _validator(schema_path: Path) -> Draft202012Validator:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def line_of(node: yaml.Node, path: list[str | int]) -> int:
    """1-based line of the YAML node at `path` (or of the deepest ancestor that exists)."""
    line = node.start_mark.line
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    # Point at the key: that is where a person looks for "fields.email".
                    line = key.start_mark.line
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line
        if child is None:
            break
        node = child
    return line + 1


def _describe(error: ValidationError) -> str:
    field = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"{field}: {error.message}"


def _parse(path: Path) -> tuple[Any, yaml.Node]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as error:
        raise MappingError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path}: not UTF-8 text") from None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise MappingError(f"{path}:{line}: invalid YAML: {error.problem}") from None
    if node is None:
        raise MappingError(f"{path}:1: the file is empty")
    return data, node


def read_validated(path: Path, schema_path: Path) -> tuple[Any, yaml.Node]:
    """A YAML file's data and node tree, valid against the JSON Schema at `schema_path`;
    `MappingError` naming the file, the line and the first problem otherwise."""
    data, node = _parse(path)
    errors = sorted(_validator(schema_path).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise MappingError(f"{path}:{line_of(node, list(first.absolute_path))}: "
                           f"{_describe(first)}{more}")  # fmt: skip
    return data, node


def load_mapping(path: Path, schema_path: Path) -> Mapping:
    """Load one mapping file, validating it against the schema."""
    data, _node = read_validated(path, schema_path)
    fields = tuple(
        FieldMap(
            canonical=name,
            crm=spec["crm"],
            type=spec.get("type", "string"),
            values=spec.get("values"),
            default=spec.get("default"),
            required=spec.get("required", False),
            max_length=spec.get("max_length"),
            label=spec.get("label"),
        )
        for name, spec in data["fields"].items()
    )
    return Mapping(
        crm=data["crm"],
        object=data["object"],
        canonical=data["canonical"],
        direction=data["direction"],
        fields=fields,
        modified_field=data.get("modified_field"),
        external_id_field=data.get("external_id_field"),
        constants=tuple(sorted((data.get("constants") or {}).items())),
        where=data.get("where"),
        source=str(path),
    )


EXAMPLES = "examples"
"""A folder of that name under a mappings directory holds examples to copy, never loaded."""


def _files(directory: Path) -> Iterator[Path]:
    for pattern in ("*.yaml", "*.yml"):
        for path in directory.rglob(pattern):
            if EXAMPLES not in path.relative_to(directory).parts[:-1]:
                yield path


def load_mappings(directory: Path | None = None) -> MappingSet:
    """Load every mapping under `directory` (default: the shipped `adapters/mapping/shipped/`)."""
    root = directory or DEFAULT_DIR
    if not root.is_dir():
        raise MappingError(f"{root}: mappings directory not found (check CEM_MAPPINGS_DIR)")
    # A user's directory may hold only YAML files; the schema then comes from the shipped one.
    schema_path = root / SCHEMA_FILE if (root / SCHEMA_FILE).exists() else DEFAULT_DIR / SCHEMA_FILE
    mappings = tuple(load_mapping(p, schema_path) for p in sorted(_files(root)))
    seen: dict[tuple[str, str, str], str] = {}
    for m in mappings:
        key = (m.crm, m.object, m.direction)
        if key in seen:
            raise MappingError(
                f"{m.source}:1: {m.crm} {m.object} ({m.direction}) is also mapped in {seen[key]}"
            )
        seen[key] = m.source
    return MappingSet(mappings)
