"""The Tooling API's `CustomField` sObject: how `cem setup salesforce` provisions fields.

`POST /tooling/sobjects/CustomField` with `{"FullName": "Contact.Cx_Score__c", "Metadata": {...}}`
adds the field to the org's schema at once (describe, writes and SOQL see it); the CustomField
rows themselves live in a tooling store of their own so tooling SOQL such as
`SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = 'Contact'` works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.core.clock import SandboxClock
from sandbox.salesforce.errors import RecordError, required_missing
from sandbox.salesforce.fields import FieldDef, FieldType
from sandbox.salesforce.ids import IdFactory
from sandbox.salesforce.query import QueryEngine
from sandbox.salesforce.responses import format_datetime
from sandbox.salesforce.schema import ObjectDef, Schema
from sandbox.salesforce.store import SalesforceStore

# Metadata API field types -> describe types.
_TYPES = {
    "Text": FieldType.STRING,
    "TextArea": FieldType.TEXTAREA,
    "LongTextArea": FieldType.TEXTAREA,
    "Number": FieldType.DOUBLE,
    "Percent": FieldType.PERCENT,
    "Currency": FieldType.CURRENCY,
    "Checkbox": FieldType.BOOLEAN,
    "Date": FieldType.DATE,
    "DateTime": FieldType.DATETIME,
    "Email": FieldType.EMAIL,
    "Phone": FieldType.PHONE,
    "Url": FieldType.URL,
    "Picklist": FieldType.PICKLIST,
}
_NEEDS_LENGTH = frozenset({"Text", "LongTextArea"})


def _tooling_schema() -> Schema:
    def f(name: str, kind: FieldType = FieldType.STRING) -> FieldDef:
        return FieldDef(name, kind, createable=False, updateable=False)

    fields = [
        f("Id", FieldType.ID),
        f("IsDeleted", FieldType.BOOLEAN),
        f("DeveloperName"),
        f("FullName"),
        f("TableEnumOrId"),
        f("NamespacePrefix"),
        f("Description", FieldType.TEXTAREA),
        f("CreatedDate", FieldType.DATETIME),
        f("LastModifiedDate", FieldType.DATETIME),
        f("SystemModstamp", FieldType.DATETIME),
    ]
    custom_field = ObjectDef(
        name="CustomField",
        label="Custom Field",
        label_plural="Custom Fields",
        key_prefix="00N",
        fields={x.name.lower(): x for x in fields},
        name_field="DeveloperName",
    )
    return Schema([custom_field])


def _integrity(message: str, field: str) -> RecordError:
    return RecordError("FIELD_INTEGRITY_EXCEPTION", message, (field,))


class ToolingApi:
    """CustomField creation and lookup, sharing the clock and id factory of the org."""

    def __init__(self, org: SalesforceStore, clock: SandboxClock, ids: IdFactory) -> None:
        self.org = org
        self.store = SalesforceStore(_tooling_schema(), clock, ids)
        self.queries = QueryEngine(self.store)
        self._metadata: dict[str, dict[str, Any]] = {}

    @property
    def custom_field(self) -> ObjectDef:
        """The tooling `CustomField` object definition."""
        return self.store.schema.object("CustomField")

    def create_custom_field(self, body: Mapping[str, Any]) -> str:
        """Validate and add a custom field; returns the new CustomField id (prefix 00N)."""
        full_name = body.get("FullName")
        metadata = body.get("Metadata")
        if not isinstance(full_name, str) or "." not in full_name:
            raise required_missing(["FullName"])
        if not isinstance(metadata, Mapping):
            raise required_missing(["Metadata"])
        object_name, _, field_name = full_name.partition(".")
        target = self.org.schema.find(object_name)
        if target is None:
            raise _integrity(f"FullName: no such object: {object_name}", "FullName")
        if not field_name.endswith("__c") or not field_name[:-3].replace("_", "a").isalnum():
            raise _integrity(
                f"FullName: the API name {field_name} must end in __c and contain only "
                "letters, digits and underscores",
                "FullName",
            )
        with self.org.lock:
            if target.find(field_name) is not None:
                raise RecordError(
                    "DUPLICATE_DEVELOPER_NAME",
                    f"There is already a field named {field_name[:-3]} on {target.name}.",
                    ("FullName",),
                )
            new_field = self._field_def(field_name, metadata)
            self.org.schema.add_field(target.name, new_field)
            stamp = format_datetime(self.store.clock.now())
            record_id = self.store.insert_trusted(
                self.custom_field,
                {
                    "DeveloperName": field_name[:-3],
                    "FullName": f"{target.name}.{field_name}",
                    "TableEnumOrId": target.name,
                    "NamespacePrefix": None,
                    "Description": metadata.get("description"),
                    "CreatedDate": stamp,
                    "LastModifiedDate": stamp,
                    "SystemModstamp": stamp,
                },
            )
        self._metadata[record_id] = dict(metadata)
        return record_id

    def clear(self) -> None:
        """Forget every created field (the org schema is restored separately)."""
        self.store.clear()
        self.queries.clear()
        self._metadata.clear()

    def metadata(self, record_id: str) -> dict[str, Any] | None:
        """The Metadata the field was created with."""
        return self._metadata.get(record_id)

    def _field_def(self, name: str, metadata: Mapping[str, Any]) -> FieldDef:
        label = metadata.get("label")
        if not isinstance(label, str) or not label.strip():
            raise _integrity("Label: You must enter a value", "label")
        type_name = metadata.get("type")
        kind = _TYPES.get(str(type_name))
        if kind is None:
            raise _integrity(f"Type: bad value for restricted picklist field: {type_name}", "type")
        length = _int(metadata.get("length"))
        if type_name in _NEEDS_LENGTH and not length:
            raise _integrity("Length: You must enter a value", "length")
        picklist: tuple[str, ...] = ()
        if kind is FieldType.PICKLIST:
            values = (metadata.get("valueSet") or {}).get("valueSetDefinition", {}).get("value", [])
            picklist = tuple(str(v.get("fullName")) for v in values if isinstance(v, Mapping))
        default = None
        if kind is FieldType.BOOLEAN:
            default = str(metadata.get("defaultValue", "false")).lower() == "true"
        return FieldDef(
            name=name,
            type=kind,
            label=label,
            length=length or 0,
            custom=True,
            external_id=bool(metadata.get("externalId", False)),
            unique=bool(metadata.get("unique", False)),
            precision=_int(metadata.get("precision")) or 18,
            scale=_int(metadata.get("scale")) or 0,
            picklist=picklist,
            default=default,
        )


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
