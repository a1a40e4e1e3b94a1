"""Associations as the v3 object endpoints see them: inline on create, expanded on read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.hubspot.associations import AssociationStore, labels, resolve, target_of, type_name
from sandbox.hubspot.errors import validation_error
from sandbox.hubspot.objects import ObjectService
from sandbox.hubspot.objecttypes import ObjectType, object_type


@dataclass(frozen=True, slots=True)
class Link:
    """One association to make: to a record of ``to_type`` with a type id."""

    to_type: ObjectType
    to_id: int
    type_id: int


def parse_inline(objects: ObjectService, otype: ObjectType, raw: Any) -> list[Link]:
    """Validate a create body's ``associations``; every target must exist (400 otherwise)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise validation_error("associations must be a list")
    links: list[Link] = []
    for item in raw:
        to = item.get("to") if isinstance(item, dict) else None
        types = item.get("types") if isinstance(item, dict) else None
        if not isinstance(to, dict) or not isinstance(types, list) or not types:
            raise validation_error("each association needs 'to': {'id'} and a non-empty 'types'")
        for spec in types:
            if not isinstance(spec, dict):
                raise validation_error("association types must be objects")
            try:
                type_id = int(spec.get("associationTypeId"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise validation_error("associationTypeId must be an integer") from None
            to_type = target_of(otype, type_id)
            resolve(otype, to_type, type_id)
            target = objects.find(to_type, str(to.get("id", "")), None)
            if target is None or target.archived:
                raise validation_error(
                    f"Could not create association: {to_type.singular} {to.get('id')} "
                    "does not exist.",
                    sub_category="crm.associations.INVALID_OBJECT_IDS",
                )
            links.append(Link(to_type, target.id, type_id))
    return links


def apply(store: AssociationStore, otype: ObjectType, object_id: int, links: list[Link]) -> None:
    """Create validated inline associations."""
    for link in links:
        store.add(otype, object_id, link.to_type, link.to_id, link.type_id)


def expand(
    store: AssociationStore, otype: ObjectType, object_id: int, to_names: tuple[str, ...]
) -> dict[str, Any]:
    """The v3 ``associations`` member of a record for the requested target types."""
    out: dict[str, Any] = {}
    for name in to_names:
        to_type = object_type(name)
        by_id = {t.type_id: t for t in labels(otype, to_type)}
        results = [
            {"id": str(to_id), "type": type_name(otype, to_type, by_id[tid])}
            for to_id, type_ids in sorted(store.targets(otype, object_id, to_type).items())
            for tid in type_ids
            if tid in by_id
        ]
        if results:
            out[to_type.name] = {"results": results}
    return out
