"""Records as the API shows them (docs/crm-api-facts.md §3.2): only requested properties, all
strings.

Unset requested properties come back as ``null``; with no ``properties`` asked for, the type's
default set is returned (``createdate``, ``email``, ... for contacts).
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.objecttypes import ObjectType
from sandbox.hubspot.store import StoredObject


def pick(values: dict[str, str], names: tuple[str, ...]) -> dict[str, str | None]:
    """The requested property values, null when unset."""
    return {name: values.get(name) for name in names}


def record_json(
    obj: StoredObject,
    otype: ObjectType,
    names: tuple[str, ...] | None,
    history_names: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One record (``SimplePublicObject``); ``names`` None means the default properties."""
    wanted = names if names else otype.default_properties
    data: dict[str, Any] = {
        "id": str(obj.id),
        "properties": pick(obj.properties, wanted),
        "createdAt": obj.created_at,
        "updatedAt": obj.updated_at,
        "archived": obj.archived_at is not None,
    }
    if obj.archived_at is not None:
        data["archivedAt"] = obj.archived_at
    if history_names:
        data["propertiesWithHistory"] = {name: history_json(obj, name) for name in history_names}
    return data


def history_json(obj: StoredObject, name: str) -> list[dict[str, Any]]:
    """A property's versions, newest first (``ValueWithTimestamp``)."""
    entries = (obj.history or {}).get(name)
    if entries is None:
        value = obj.properties.get(name)
        entries = [] if value is None else [(value, obj.created_at, "API")]
    return [
        {"value": value, "timestamp": at, "sourceType": source}
        for value, at, source in reversed(entries)
    ]


def snapshot_json(
    object_id: int, values: dict[str, str], otype: ObjectType, names: tuple[str, ...] | None
) -> dict[str, Any]:
    """A search hit: built from the indexed version, which may lag the stored record."""
    wanted = names if names else otype.default_properties
    created = values.get(otype.created_property)
    return {
        "id": str(object_id),
        "properties": pick(values, wanted),
        "createdAt": created,
        "updatedAt": values.get(otype.modified_property),
        "archived": False,
    }
