"""Field definitions and the conversion of incoming JSON values to stored values.

Stored values are JSON-ready: datetimes as Salesforce-formatted strings (UTC, millis, `+0000`),
which sort correctly as plain strings; dates as `YYYY-MM-DD`; numbers as int/float; ids as the
18-character form. A query page is then serialised without converting anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sandbox.salesforce.errors import RecordError
from sandbox.salesforce.ids import MalformedIdError, to_18
from sandbox.salesforce.responses import format_datetime, parse_datetime


class FieldType(StrEnum):
    """The describe `type` values the emulated objects use."""

    ID = "id"
    REFERENCE = "reference"
    STRING = "string"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    PICKLIST = "picklist"
    BOOLEAN = "boolean"
    INT = "int"
    DOUBLE = "double"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"


NUMERIC_TYPES = frozenset({FieldType.INT, FieldType.DOUBLE, FieldType.CURRENCY, FieldType.PERCENT})
TEXT_TYPES = frozenset(
    {
        FieldType.STRING,
        FieldType.TEXTAREA,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.URL,
        FieldType.PICKLIST,
    }
)
ID_TYPES = frozenset({FieldType.ID, FieldType.REFERENCE})
_DEFAULT_LENGTH = {
    FieldType.STRING: 255,
    FieldType.TEXTAREA: 32000,
    FieldType.EMAIL: 80,
    FieldType.PHONE: 40,
    FieldType.URL: 255,
    FieldType.PICKLIST: 255,
    FieldType.ID: 18,
    FieldType.REFERENCE: 18,
}


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of an sObject, as describe reports it."""

    name: str
    type: FieldType
    label: str = ""
    length: int = 0
    required: bool = False
    createable: bool = True
    updateable: bool = True
    custom: bool = False
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    default: Any = None
    precision: int = 18
    scale: int = 2

    @property
    def max_length(self) -> int:
        """The length limit that STRING_TOO_LONG enforces (0 = none)."""
        return self.length or _DEFAULT_LENGTH.get(self.type, 0)

    @property
    def nillable(self) -> bool:
        """Whether null is allowed (booleans never are in Salesforce)."""
        return not self.required and self.type is not FieldType.BOOLEAN

    def describe(self) -> dict[str, Any]:
        """The describe entry for this field (the subset clients read)."""
        return {
            "name": self.name,
            "label": self.label or self.name.removesuffix("__c").replace("_", " "),
            "type": self.type.value,
            "length": self.max_length if self.type in TEXT_TYPES | ID_TYPES else 0,
            "precision": self.precision if self.type in NUMERIC_TYPES else 0,
            "scale": self.scale if self.type in NUMERIC_TYPES - {FieldType.INT} else 0,
            "custom": self.custom,
            "createable": self.createable,
            "updateable": self.updateable,
            "nillable": self.nillable,
            "defaultedOnCreate": self.default is not None or self.type is FieldType.BOOLEAN,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.type is FieldType.ID or self.external_id,
            "filterable": True,
            "sortable": self.type is not FieldType.TEXTAREA,
            "calculated": False,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "picklistValues": [
                {"active": True, "defaultValue": v == self.default, "label": v, "value": v}
                for v in self.picklist
            ],
            "soapType": _SOAP_TYPES[self.type],
        }


_SOAP_TYPES = {
    FieldType.ID: "tns:ID",
    FieldType.REFERENCE: "tns:ID",
    FieldType.BOOLEAN: "xsd:boolean",
    FieldType.INT: "xsd:int",
    FieldType.DOUBLE: "xsd:double",
    FieldType.CURRENCY: "xsd:double",
    FieldType.PERCENT: "xsd:double",
    FieldType.DATE: "xsd:date",
    FieldType.DATETIME: "xsd:dateTime",
    **dict.fromkeys(TEXT_TYPES, "xsd:string"),
}


def coerce(field: FieldDef, value: Any) -> Any:
    """The stored form of an incoming JSON `value` for `field`; raises `RecordError`."""
    if value is None:
        return None
    kind = field.type
    if kind in TEXT_TYPES:
        return _text(field, value)
    if kind in ID_TYPES:
        if not isinstance(value, str):
            raise _bad_value(field, value)
        try:
            return to_18(value)
        except MalformedIdError:
            raise RecordError(
                "MALFORMED_ID",
                f"{field.label or field.name}: id value of incorrect type: {value}",
                (field.name,),
            ) from None
    if kind is FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _bad_value(field, value)
    if kind in NUMERIC_TYPES:
        return _number(field, value)
    if kind is FieldType.DATE:
        return _date(field, value)
    return _datetime(field, value)


def _text(field: FieldDef, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _bad_value(field, value)
    text = str(value)
    if len(text) > field.max_length:
        raise RecordError(
            "STRING_TOO_LONG",
            f"{field.label or field.name}: data value too large: {text[:40]}... "
            f"(max length={field.max_length})",
            (field.name,),
        )
    if field.type is FieldType.EMAIL and text and not _plausible_email(text):
        raise RecordError(
            "INVALID_EMAIL_ADDRESS",
            f"{field.label or field.name}: invalid email address: {text}",
            (field.name,),
        )
    return text


def _plausible_email(text: str) -> bool:
    local, at, domain = text.partition("@")
    return bool(local) and bool(at) and "." in domain and " " not in text


def _number(field: FieldDef, value: Any) -> int | float:
    if isinstance(value, bool):
        raise _bad_value(field, value)
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise _bad_value(field, value) from None
    if field.type is FieldType.INT:
        if isinstance(number, float) and not number.is_integer():
            raise _bad_value(field, value)
        return int(number)
    return float(number)


def _date(field: FieldDef, value: Any) -> str:
    if not isinstance(value, str) or len(value) < 10:
        raise _bad_value(field, value)
    try:
        return parse_datetime(value[:10] + "T00:00:00Z").date().isoformat()
    except ValueError:
        raise _bad_value(field, value) from None


def _datetime(field: FieldDef, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad_value(field, value)
    try:
        return format_datetime(parse_datetime(value))
    except ValueError:
        raise _bad_value(field, value) from None


def _bad_value(field: FieldDef, value: Any) -> RecordError:
    # The real API answers a JSON type mismatch with JSON_PARSER_ERROR and this wording.
    return RecordError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {field.type.value} from value {value!r} "
        f"for field {field.name}",
        (field.name,),
    )
