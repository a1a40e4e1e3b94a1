"""Merging two records into one (``POST /crm/v3/objects/{type}/merge``).

What survives, as on HubSpot: the primary record and its id; properties the primary lacks are
filled from the merged record; the merged record's associations move to the primary; its id is
listed in ``hs_merged_object_ids`` and keeps resolving to the primary on reads; its unique
values (a contact's email) keep finding the primary. Subscribers get one ``<type>.merge`` event.
Whether HubSpot assigns a new id to the result varies by object and date; the sandbox keeps
the primary's (``newObjectId`` in the event says which).
"""

from __future__ import annotations

from sandbox.hubspot.associations import AssociationStore
from sandbox.hubspot.errors import not_found, validation_error
from sandbox.hubspot.objects import ChangeEvent, ObjectService, unique_key
from sandbox.hubspot.objecttypes import OBJECT_TYPES, ObjectType
from sandbox.hubspot.store import StoredObject

_KEEP = frozenset({"hs_object_id", "hs_merged_object_ids"})


def merge(
    objects: ObjectService,
    associations: AssociationStore,
    otype: ObjectType,
    primary_key: str,
    merged_key: str,
) -> StoredObject:
    """Fold ``merged_key``'s record into ``primary_key``'s; the surviving record."""
    with objects.store.lock:
        primary = _live(objects, otype, primary_key)
        merged = _live(objects, otype, merged_key)
        if primary.id == merged.id:
            raise validation_error("A record cannot be merged with itself.")
        table = objects.store.table(otype.name)
        system = {otype.created_property, otype.modified_property}
        fill: dict[str, str | None] = {
            name: value
            for name, value in merged.properties.items()
            if name not in _KEEP and name not in system and primary.properties.get(name) is None
        }
        ids = [i for i in primary.properties.get("hs_merged_object_ids", "").split(";") if i]
        ids += [i for i in merged.properties.get("hs_merged_object_ids", "").split(";") if i]
        fill["hs_merged_object_ids"] = ";".join([*ids, str(merged.id)])
        for other in OBJECT_TYPES.values():
            for target, type_ids in associations.targets(otype, merged.id, other).items():
                if other is otype and target == primary.id:
                    continue
                for type_id in type_ids:
                    associations.add(otype, primary.id, other, target, type_id, notify=False)
        associations.forget(otype, merged.id)
        objects.remove(otype, merged)
        for name in list(table.unique):
            value = merged.properties.get(name)
            if value is not None:  # the merged record's unique values still find the primary
                table.unique[name].setdefault(unique_key(name, value), primary.id)
        table.aliases[merged.id] = primary.id
        for old, target in list(table.aliases.items()):
            if target == merged.id:
                table.aliases[old] = primary.id
        survivor = objects.apply_system(otype, primary, fill)
    objects.emit(
        ChangeEvent("merge", otype, survivor.id, objects.clock.now(), merged_ids=(merged.id,))
    )
    return survivor


def _live(objects: ObjectService, otype: ObjectType, key: str) -> StoredObject:
    found = objects.find(otype, key, None)
    if found is None or found.archived:
        raise not_found(f"No {otype.singular} with id {key}")
    return found
