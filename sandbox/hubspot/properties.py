"""Property definitions and groups per object type, and the checking of property values.

Holds HubSpot-defined properties (:mod:`sandbox.hubspot.propertyschema`) plus the ones users
create through ``/crm/v3/properties``. Values are normalised the way HubSpot returns them: all
strings, datetimes as ISO with milliseconds, booleans ``"true"``/``"false"``
(docs/crm-api-facts.md §3.2).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.hubspot.errors import HubSpotError, conflict, not_found, validation_error
from sandbox.hubspot.objecttypes import OBJECT_TYPES, ObjectType
from sandbox.hubspot.pipelines import pipeline_options
from sandbox.hubspot.propertyschema import BUILTIN, GROUP_LABELS, OPTIONS
from sandbox.hubspot.timefmt import iso, parse_date, parse_instant

# Valid type/fieldType pairs of a property create (docs/crm-api-facts.md §3.8).
FIELD_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "textarea", "file", "html", "phonenumber"}),
    "number": frozenset({"number", "calculation_equation"}),
    "enumeration": frozenset({"select", "radio", "checkbox", "booleancheckbox"}),
    "bool": frozenset({"booleancheckbox"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
}
# HubSpot allows only a few unique-value properties per object type (docs/crm-api-facts.md §3.8).
MAX_UNIQUE_PER_TYPE = 10
_OPTIONS = OPTIONS | pipeline_options()
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


@dataclass(frozen=True, slots=True)
class PropertyDef:
    """One property definition as the properties API shows it."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    created_at: datetime
    description: str = ""
    options: tuple[dict[str, Any], ...] = ()
    has_unique_value: bool = False
    hubspot_defined: bool = True
    read_only_value: bool = False
    display_order: int = -1
    form_field: bool = False

    def to_json(self) -> dict[str, Any]:
        """The API representation."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group_name,
            "description": self.description,
            "options": list(self.options),
            "displayOrder": self.display_order,
            "hasUniqueValue": self.has_unique_value,
            "hidden": False,
            "formField": self.form_field,
            "calculated": self.field_type == "calculation_equation",
            "externalOptions": False,
            "showCurrencySymbol": False,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only_value,
            },
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.created_at),
            "archived": False,
        }


@dataclass(frozen=True, slots=True)
class PropertyGroup:
    """A property group (the push-back provisions its own, e.g. ``cx_sync``)."""

    name: str
    label: str
    display_order: int = -1

    def to_json(self) -> dict[str, Any]:
        """The API representation."""
        return {
            "name": self.name,
            "label": self.label,
            "displayOrder": self.display_order,
            "archived": False,
        }


@dataclass(slots=True)
class _TypeSchema:
    properties: dict[str, PropertyDef] = field(default_factory=dict)
    groups: dict[str, PropertyGroup] = field(default_factory=dict)


class PropertyRegistry:
    """Definitions and groups of every object type; thread-safe."""

    def __init__(self, created_at: datetime) -> None:
        self._lock = threading.Lock()
        self.created_at = created_at
        self._schemas: dict[str, _TypeSchema] = {}
        self.reset()

    def reset(self) -> None:
        """Back to HubSpot's built-in properties only."""
        schemas: dict[str, _TypeSchema] = {}
        for otype in OBJECT_TYPES.values():
            schema = _TypeSchema()
            for name, ptype, ftype, group in BUILTIN.get(otype.name, ()):
                options = tuple(
                    {"label": v.title(), "value": v, "displayOrder": i, "hidden": False}
                    for i, v in enumerate(_OPTIONS.get((otype.name, name), ()))
                )
                schema.properties[name] = PropertyDef(
                    name, _label(name), ptype, ftype, group, self.created_at, options=options
                )
                schema.groups.setdefault(group, PropertyGroup(group, GROUP_LABELS[group]))
            system_group = next(iter(schema.groups), "objectinformation")
            schema.groups.setdefault(system_group, PropertyGroup(system_group, "Information"))
            for name, ptype in _system_properties(otype):
                schema.properties[name] = PropertyDef(
                    name,
                    _label(name),
                    ptype,
                    {"number": "number", "string": "text"}.get(ptype, "date"),
                    system_group,
                    self.created_at,
                    read_only_value=name != otype.created_property,
                )
            # Contacts are unique by email (docs/crm-api-facts.md §3.3: duplicate create is a 409).
            if otype.name == "contacts":
                email = schema.properties["email"]
                schema.properties["email"] = replace(email, has_unique_value=True)
            schemas[otype.name] = schema
        with self._lock:
            self._schemas = schemas

    def get(self, otype: ObjectType, name: str) -> PropertyDef | None:
        """The definition of ``name`` or None."""
        return self._schemas[otype.name].properties.get(name)

    def all(self, otype: ObjectType) -> list[PropertyDef]:
        """Every definition of the type."""
        with self._lock:
            return list(self._schemas[otype.name].properties.values())

    def unique_names(self, otype: ObjectType) -> frozenset[str]:
        """Names of the unique-value properties (usable as ``idProperty``)."""
        with self._lock:
            props = self._schemas[otype.name].properties.values()
            return frozenset(p.name for p in props if p.has_unique_value)

    def groups(self, otype: ObjectType) -> list[PropertyGroup]:
        """Every group of the type."""
        with self._lock:
            return list(self._schemas[otype.name].groups.values())

    def group(self, otype: ObjectType, name: str) -> PropertyGroup:
        """One group; 404 when missing."""
        found = self._schemas[otype.name].groups.get(name)
        if found is None:
            raise not_found(f"Unable to find property group {name} for object type {otype.type_id}")
        return found

    def create_group(self, otype: ObjectType, body: dict[str, Any]) -> PropertyGroup:
        """Create a group; 409 when the name exists."""
        name, label = body.get("name"), body.get("label")
        if not isinstance(name, str) or not _NAME.match(name):
            raise validation_error(f"Invalid property group name: {name!r}")
        if not isinstance(label, str) or not label:
            raise validation_error("Property group label is required")
        order = body.get("displayOrder", -1)
        group = PropertyGroup(name, label, order if isinstance(order, int) else -1)
        with self._lock:
            schema = self._schemas[otype.name]
            if name in schema.groups:
                raise conflict(f"A property group named '{name}' already exists.")
            schema.groups[name] = group
        return group

    def create(self, otype: ObjectType, body: dict[str, Any], at: datetime) -> PropertyDef:
        """Create a custom property from an API body; 400 on bad input, 409 on a taken name."""
        prop = _parse_definition(body, at)
        with self._lock:
            schema = self._schemas[otype.name]
            if prop.name in schema.properties:
                raise conflict(
                    f"Property named '{prop.name}' already exists.",
                    sub_category="PropertyValidationError.PROPERTY_ALREADY_EXISTS",
                )
            if prop.group_name not in schema.groups:
                raise validation_error(f"Property group '{prop.group_name}' does not exist.")
            unique = sum(1 for p in schema.properties.values() if p.has_unique_value)
            if prop.has_unique_value and unique >= MAX_UNIQUE_PER_TYPE:
                raise validation_error(
                    f"Object type {otype.type_id} already has the maximum of "
                    f"{MAX_UNIQUE_PER_TYPE} unique-value properties."
                )
            schema.properties[prop.name] = prop
        return prop

    def archive(self, otype: ObjectType, name: str) -> None:
        """Remove a custom property definition (its values stay on records, unreadable)."""
        with self._lock:
            self._schemas[otype.name].properties.pop(name, None)

    def normalise(
        self, otype: ObjectType, values: dict[str, Any], *, creating: bool
    ) -> dict[str, str | None]:
        """Check ``values`` against the definitions; normalised strings, None meaning "clear".

        Raises 400 ``VALIDATION_ERROR`` listing every invalid value in HubSpot's format
        ("Property values were not valid: [...]") when any is unknown or malformed.
        """
        schema = self._schemas[otype.name].properties
        out: dict[str, str | None] = {}
        problems: list[dict[str, Any]] = []
        for name, raw in values.items():
            prop = schema.get(name)
            if prop is None:
                problems.append(
                    _problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                )
                continue
            if prop.read_only_value:
                problems.append(
                    _problem(
                        name,
                        "READ_ONLY_VALUE",
                        f'"{name}" is a read only property; its value cannot be set.',
                    )
                )
                continue
            if raw is None or raw == "":
                out[name] = None  # an empty string clears the value (docs/crm-api-facts.md §3.3)
                continue
            try:
                out[name] = _coerce(prop, raw)
            except ValueError as exc:
                problems.append(
                    _problem(name, _code_for(prop), f"{raw!r} was not a valid {prop.type}: {exc}")
                )
        if creating:
            for name in otype.required:
                if out.get(name) is None:
                    problems.append(
                        _problem(name, "REQUIRED_PROPERTY", f'Property "{name}" is required')
                    )
        if problems:
            raise HubSpotError(
                400,
                "VALIDATION_ERROR",
                "Property values were not valid: " + json.dumps(problems),
                errors=[
                    {
                        "message": p["message"],
                        "code": p["error"],
                        "context": {"propertyName": [p["name"]]},
                    }
                    for p in problems
                ],
            )
        return out


def _system_properties(otype: ObjectType) -> list[tuple[str, str]]:
    return [
        ("hs_object_id", "number"),
        ("hs_merged_object_ids", "string"),
        (otype.created_property, "datetime"),
        (otype.modified_property, "datetime"),
    ]


def _label(name: str) -> str:
    return name.removeprefix("hs_").replace("_", " ").capitalize()


def _problem(name: str, code: str, message: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": code,
        "name": name,
        "localizedErrorMessage": message,
    }


def _code_for(prop: PropertyDef) -> str:
    if prop.name == "email":
        return "INVALID_EMAIL"
    return {
        "number": "INVALID_DOUBLE",
        "bool": "INVALID_BOOLEAN",
        "date": "INVALID_DATE",
        "datetime": "INVALID_DATE",
        "enumeration": "INVALID_OPTION",
    }.get(prop.type, "INVALID_STRING")


def format_number(number: Decimal) -> str:
    """A number property value as HubSpot returns it: ``"300.5"``, ``"12"`` (no exponent)."""
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _coerce(prop: PropertyDef, raw: Any) -> str:
    if isinstance(raw, dict | list):
        raise ValueError("objects and arrays are not property values")
    if prop.type == "number":
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError("not a number") from None
        if not number.is_finite():
            raise ValueError("not a finite number")
        return format_number(number)
    if prop.type == "bool":
        text = str(raw).strip().lower()
        if text not in ("true", "false"):
            raise ValueError("expected true or false")
        return text
    if prop.type == "datetime":
        return iso(parse_instant(raw))
    if prop.type == "date":
        return parse_date(raw).isoformat()
    text = str(raw)
    if prop.name == "email":
        # HubSpot stores emails lower-cased and rejects ones without user@domain.
        text = text.strip().lower()
        user, _, domain = text.partition("@")
        if not user or not domain or " " in text:
            raise ValueError("not a valid email address")
    if prop.type == "enumeration" and prop.options:
        allowed = {o["value"] for o in prop.options}
        # checkbox enumerations hold several options separated by semicolons.
        chosen = text.split(";") if prop.field_type == "checkbox" else [text]
        bad = [v for v in chosen if v not in allowed]
        if bad:
            raise ValueError(f"allowed options are {sorted(allowed)}")
    return text


def _parse_definition(body: dict[str, Any], at: datetime) -> PropertyDef:
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        raise validation_error(f"Missing required fields: {', '.join(missing)}")
    name, ptype, ftype = str(body["name"]), str(body["type"]), str(body["fieldType"])
    if not _NAME.match(name):
        raise validation_error(
            f"Property name {name!r} must start with a lower-case letter and hold only "
            "lower-case letters, digits and underscores."
        )
    if ftype not in FIELD_TYPES.get(ptype, frozenset()):
        raise validation_error(f"Invalid fieldType {ftype!r} for type {ptype!r}")
    raw_options = body.get("options") or []
    if not isinstance(raw_options, list) or not all(isinstance(o, dict) for o in raw_options):
        raise validation_error("options must be a list of {label, value} objects")
    options = tuple(
        {
            "label": str(o.get("label", o.get("value", ""))),
            "value": str(o.get("value", "")),
            "displayOrder": int(o.get("displayOrder", i)),
            "hidden": bool(o.get("hidden", False)),
        }
        for i, o in enumerate(raw_options)
    )
    if ptype == "enumeration" and ftype != "booleancheckbox" and not options:
        raise validation_error("Enumeration properties need at least one option")
    return PropertyDef(
        name=name,
        label=str(body["label"]),
        type=ptype,
        field_type=ftype,
        group_name=str(body["groupName"]),
        created_at=at,
        description=str(body.get("description") or ""),
        options=options,
        has_unique_value=bool(body.get("hasUniqueValue", False)),
        hubspot_defined=False,
        display_order=int(body.get("displayOrder", -1)),
        form_field=bool(body.get("formField", False)),
    )
