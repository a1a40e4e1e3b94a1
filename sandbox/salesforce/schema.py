"""sObject definitions: the registry describe answers from and every write is checked against.

Names are case-insensitive in Salesforce (SOQL, JSON bodies, URLs), so lookups go through
lower-cased keys while records and responses keep the canonical API names.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce.errors import invalid_field, invalid_type
from sandbox.salesforce.fields import FieldDef, FieldType


@dataclass(frozen=True, slots=True)
class ChildRelationship:
    """A parent-to-child relationship usable in a SOQL subquery, e.g. Account.Contacts."""

    name: str
    child: str
    field: str


@dataclass(slots=True)
class ObjectDef:
    """One sObject type; `fields` grows when a custom field is created."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: dict[str, FieldDef]
    custom: bool = False
    name_field: str = "Name"
    children: list[ChildRelationship] = field(default_factory=list)

    def field(self, name: str) -> FieldDef:
        """The field called `name` (any case); raises INVALID_FIELD."""
        found = self.fields.get(name.lower())
        if found is None:
            raise invalid_field(name, self.name)
        return found

    def find(self, name: str) -> FieldDef | None:
        """The field called `name` (any case), or None."""
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is `name` (any case), or None."""
        lowered = name.lower()
        for candidate in self.fields.values():
            rel = candidate.relationship_name
            if rel is not None and rel.lower() == lowered:
                return candidate
        return None

    def child(self, name: str) -> ChildRelationship | None:
        """The child relationship called `name` (any case), or None."""
        lowered = name.lower()
        return next((c for c in self.children if c.name.lower() == lowered), None)

    def urls(self, version: str) -> dict[str, str]:
        """The `urls` block of describe/global describe."""
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}

    def describe(self, version: str) -> dict[str, Any]:
        """Full describe of the object."""
        return {
            **self.summary(version),
            "fields": [f.describe() for f in self.fields.values()],
            "childRelationships": [
                {
                    "childSObject": c.child,
                    "field": c.field,
                    "relationshipName": c.name,
                    "cascadeDelete": False,
                }
                for c in self.children
            ],
            "recordTypeInfos": [],
        }

    def summary(self, version: str) -> dict[str, Any]:
        """The short form used by global describe and `GET /sobjects/{Obj}`."""
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label_plural,
            "keyPrefix": self.key_prefix,
            "custom": self.custom,
            "createable": True,
            "updateable": True,
            "deletable": True,
            "queryable": True,
            "retrieveable": True,
            "searchable": True,
            "layoutable": True,
            "urls": self.urls(version),
        }


class Schema:
    """The org's object registry; thread-safe for custom-field creation."""

    def __init__(self, objects: list[ObjectDef]) -> None:
        self._lock = threading.RLock()
        self._objects = {o.name.lower(): o for o in objects}
        self._prefixes = {o.key_prefix: o for o in objects}
        self._link_children()

    def restore(self, fresh: Schema) -> None:
        """Take over `fresh`'s objects in place (routes hold on to this instance)."""
        with self._lock:
            self._objects = dict(fresh._objects)
            self._prefixes = dict(fresh._prefixes)

    def object(self, name: str) -> ObjectDef:
        """The object called `name` (any case); raises INVALID_TYPE."""
        found = self._objects.get(name.lower())
        if found is None:
            raise invalid_type(name)
        return found

    def find(self, name: str) -> ObjectDef | None:
        """The object called `name` (any case), or None."""
        return self._objects.get(name.lower())

    def objects(self) -> list[ObjectDef]:
        """All objects, by name."""
        return sorted(self._objects.values(), key=lambda o: o.name)

    def by_prefix(self, record_id: str) -> ObjectDef | None:
        """The object whose key prefix starts `record_id`."""
        return self._prefixes.get(record_id[:3])

    def add_field(self, object_name: str, new: FieldDef) -> None:
        """Add a (custom) field; the caller has checked it does not exist yet."""
        with self._lock:
            target = self.object(object_name)
            target.fields[new.name.lower()] = new
            self._link_children()

    def _link_children(self) -> None:
        for obj in self._objects.values():
            obj.children = []
        for child in self._objects.values():
            for ref in child.fields.values():
                if ref.type is not FieldType.REFERENCE or ref.name in _NO_CHILD_LIST:
                    continue
                for parent_name in ref.reference_to:
                    parent = self._objects.get(parent_name.lower())
                    if parent is None:
                        continue
                    rel_name = _CHILD_NAMES.get((child.name, ref.name), child.label_plural)
                    rel_name = rel_name.replace(" ", "")
                    if child.custom:
                        rel_name = child.name.removesuffix("__c") + "s__r"
                    parent.children.append(ChildRelationship(rel_name, child.name, ref.name))


# Audit lookups would make every object a "child" of User; Salesforce names them but we do not
# need them in subqueries.
_NO_CHILD_LIST = frozenset({"CreatedById", "LastModifiedById", "OwnerId"})
_CHILD_NAMES = {
    ("Contact", "AccountId"): "Contacts",
    ("Opportunity", "AccountId"): "Opportunities",
    ("Case", "AccountId"): "Cases",
    ("Case", "ContactId"): "Cases",
    ("Case", "ParentId"): "Cases",
    ("CaseComment", "ParentId"): "CaseComments",
    ("Task", "WhoId"): "Tasks",
    ("Task", "WhatId"): "Tasks",
    ("Event", "WhoId"): "Events",
    ("Event", "WhatId"): "Events",
    ("EmailMessage", "ParentId"): "EmailMessages",
    ("EmailMessage", "RelatedToId"): "Emails",
    ("EmailMessage", "ActivityId"): "EmailMessages",
    ("Order", "AccountId"): "Orders",
    ("Order", "BillToContactId"): "Orders",
    ("Opportunity", "ContactId"): "Opportunities",
    ("Lead", "ConvertedAccountId"): "ConvertedLeads",
    ("Lead", "ConvertedContactId"): "ConvertedLeads",
}
