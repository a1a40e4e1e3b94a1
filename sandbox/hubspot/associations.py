"""Associations between records (v4), with HubSpot's association type ids and labels.

Every association exists in both directions with its paired type id, as on HubSpot: creating
task -> contact (204) also creates contact -> task (203). Type ids are the HUBSPOT_DEFINED
values of docs/crm-api-facts.md §3.6; pairs missing from that table get ids from a sandbox range
(900+), which clients discover through the labels endpoint as the facts advise anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.hubspot.errors import validation_error
from sandbox.hubspot.objecttypes import OBJECT_TYPES, ObjectType


@dataclass(frozen=True, slots=True)
class AssociationType:
    """One direction of an association type."""

    category: str
    type_id: int
    label: str | None

    def to_json(self) -> dict[str, Any]:
        """v4 ``associationTypes`` item."""
        return {"category": self.category, "typeId": self.type_id, "label": self.label}


# (from, to, forward id, reverse id, label) - docs/crm-api-facts.md §3.6.
_PAIRS: tuple[tuple[str, str, int, int, str | None], ...] = (
    ("contacts", "companies", 1, 2, "Primary"),
    ("contacts", "companies", 279, 280, None),
    ("deals", "contacts", 3, 4, None),
    ("deals", "companies", 5, 6, "Primary"),
    ("deals", "companies", 341, 342, None),
    ("tickets", "contacts", 16, 15, None),
    ("tickets", "companies", 26, 25, "Primary"),
    ("tickets", "companies", 339, 340, None),
    ("line_items", "deals", 20, 19, None),
    ("tasks", "contacts", 204, 203, None),
    ("tasks", "companies", 192, 191, None),
    ("tasks", "deals", 216, 215, None),
    ("tasks", "tickets", 230, 229, None),
    ("notes", "contacts", 202, 201, None),
    ("notes", "companies", 190, 189, None),
    ("notes", "deals", 214, 213, None),
    ("notes", "tickets", 228, 227, None),
    ("emails", "contacts", 198, 197, None),
    ("emails", "companies", 186, 185, None),
    ("emails", "deals", 210, 209, None),
    ("emails", "tickets", 224, 223, None),
    ("calls", "contacts", 194, 193, None),
    ("calls", "companies", 182, 181, None),
    ("calls", "deals", 206, 205, None),
    ("calls", "tickets", 220, 219, None),
    ("meetings", "contacts", 200, 199, None),
    ("meetings", "companies", 188, 187, None),
    ("meetings", "deals", 212, 211, None),
    ("meetings", "tickets", 226, 225, None),
)


def _build_types() -> tuple[
    dict[tuple[str, str], list[AssociationType]], dict[tuple[str, str, int], int]
]:
    types: dict[tuple[str, str], list[AssociationType]] = {}
    inverse: dict[tuple[str, str, int], int] = {}
    for a, b, fwd, rev, label in _PAIRS:
        types.setdefault((a, b), []).append(AssociationType("HUBSPOT_DEFINED", fwd, label))
        types.setdefault((b, a), []).append(AssociationType("HUBSPOT_DEFINED", rev, label))
        inverse[(a, b, fwd)] = rev
        inverse[(b, a, rev)] = fwd
    # Every other pair gets one unlabelled sandbox-range type so any two records can associate.
    next_id = 900
    names = sorted(OBJECT_TYPES)
    for i, a in enumerate(names):
        for b in names[i:]:
            if (a, b) in types or a == b:
                continue
            types[(a, b)] = [AssociationType("HUBSPOT_DEFINED", next_id, None)]
            types[(b, a)] = [AssociationType("HUBSPOT_DEFINED", next_id + 1, None)]
            inverse[(a, b, next_id)] = next_id + 1
            inverse[(b, a, next_id + 1)] = next_id
            next_id += 2
    return types, inverse


TYPES, _INVERSE = _build_types()


def labels(from_type: ObjectType, to_type: ObjectType) -> list[AssociationType]:
    """Every association type from one object type to another."""
    return TYPES.get((from_type.name, to_type.name), [])


def default_type(from_type: ObjectType, to_type: ObjectType) -> AssociationType:
    """The unlabelled (default) association type of a pair."""
    found = labels(from_type, to_type)
    unlabelled = [t for t in found if t.label is None]
    if not unlabelled:
        raise validation_error(f"No association between {from_type.name} and {to_type.name}")
    return unlabelled[0]


def resolve(from_type: ObjectType, to_type: ObjectType, type_id: int) -> AssociationType:
    """The type ``type_id`` of a pair; 400 ``VALIDATION_ERROR`` when the pair has no such id."""
    for candidate in labels(from_type, to_type):
        if candidate.type_id == type_id:
            return candidate
    raise validation_error(
        f"{type_id} is not a valid association type between {from_type.name} and {to_type.name}"
    )


Targets = dict[int, tuple[int, ...]]
"""to-id -> association type ids, for one source record and one target type."""


@dataclass(frozen=True, slots=True)
class AssociationChange:
    """One association made or removed (both directions are implied)."""

    from_type: ObjectType
    from_id: int
    to_type: ObjectType
    to_id: int
    kind: AssociationType
    removed: bool
    at: datetime


AssociationListener = Callable[[AssociationChange], None]


Slot = tuple[int, tuple[int, ...]] | dict[int, tuple[int, ...]]
"""One source record's targets of one type: a (to-id, type ids) pair while there is a single
target (an engagement's contact), a dict once there are more (a contact's engagements)."""


def _as_dict(slot: Slot | None) -> Targets:
    if slot is None:
        return {}
    if isinstance(slot, tuple):
        return {slot[0]: slot[1]}
    return dict(slot)


def _types(slot: Slot | None, to_id: int) -> tuple[int, ...]:
    if slot is None:
        return ()
    if isinstance(slot, tuple):
        return slot[1] if slot[0] == to_id else ()
    return slot.get(to_id, ())


def _put(by_source: dict[int, Slot], a_id: int, b_id: int, types: tuple[int, ...]) -> None:
    slot = by_source.get(a_id)
    if slot is None or (isinstance(slot, tuple) and slot[0] == b_id):
        by_source[a_id] = (b_id, types)
    elif isinstance(slot, tuple):
        by_source[a_id] = {slot[0]: slot[1], b_id: types}
    else:
        slot[b_id] = types


def _pop(by_source: dict[int, Slot], a_id: int, b_id: int) -> tuple[int, ...] | None:
    slot = by_source.get(a_id)
    if slot is None:
        return None
    if isinstance(slot, tuple):
        if slot[0] != b_id:
            return None
        del by_source[a_id]
        return slot[1]
    found = slot.pop(b_id, None)
    if not slot:
        del by_source[a_id]
    return found


class AssociationStore:
    """All associations of the portal, stored in both directions; thread-safe.

    Laid out per (from type, to type) pair, then per source id (see :data:`Slot`), with the
    type-id tuples interned: a loaded portal holds millions of associations, and most records
    have one target per type. 13.1 -> 6.2 MiB for a 1,000-customer load (tracemalloc) against
    one dict per source record.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str], dict[int, Slot]] = {}
        self._tuples: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._clock = clock or (lambda: datetime.now(UTC))
        self.listeners: list[AssociationListener] = []

    def add(
        self,
        a: ObjectType,
        a_id: int,
        b: ObjectType,
        b_id: int,
        type_id: int,
        *,
        notify: bool = True,
    ) -> None:
        """Associate a -> b with ``type_id`` (and b -> a with its pair).

        ``notify=False`` for bulk loads and merges: no ``associationChange`` events.
        """
        reverse = _INVERSE[(a.name, b.name, type_id)]
        with self._lock:
            new = self._add(a.name, a_id, b.name, b_id, type_id)
            self._add(b.name, b_id, a.name, a_id, reverse)
        if new and notify:
            self._notify(a, a_id, b, b_id, (type_id,), removed=False)

    def _add(self, a: str, a_id: int, b: str, b_id: int, type_id: int) -> bool:
        by_source = self._pairs.setdefault((a, b), {})
        current = _types(by_source.get(a_id), b_id)
        if type_id in current:
            return False
        combined = (*current, type_id)
        _put(by_source, a_id, b_id, self._tuples.setdefault(combined, combined))
        return True

    def remove(self, a: ObjectType, a_id: int, b: ObjectType, b_id: int) -> bool:
        """Remove every association between the two records; whether there was one."""
        with self._lock:
            first = _pop(self._pairs.get((a.name, b.name), {}), a_id, b_id)
            _pop(self._pairs.get((b.name, a.name), {}), b_id, a_id)
        if first:
            self._notify(a, a_id, b, b_id, first, removed=True)
        return first is not None

    def _notify(
        self,
        a: ObjectType,
        a_id: int,
        b: ObjectType,
        b_id: int,
        type_ids: tuple[int, ...],
        *,
        removed: bool,
    ) -> None:
        known = {t.type_id: t for t in labels(a, b)}
        at = self._clock()
        for type_id in type_ids:
            change = AssociationChange(a, a_id, b, b_id, known[type_id], removed, at)
            for listener in self.listeners:
                listener(change)

    def targets(self, a: ObjectType, a_id: int, b: ObjectType) -> Targets:
        """The records of type ``b`` associated with a record, with their type ids."""
        with self._lock:
            return _as_dict(self._pairs.get((a.name, b.name), {}).get(a_id))

    def forget(self, a: ObjectType, a_id: int) -> None:
        """Drop every association of a record (hard delete)."""
        with self._lock:
            for (x, y), by_source in self._pairs.items():
                if x != a.name:
                    continue
                for b_id in _as_dict(by_source.pop(a_id, None)):
                    _pop(self._pairs.get((y, x), {}), b_id, a_id)

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._pairs.clear()
            self._tuples.clear()


def type_json(a: ObjectType, b: ObjectType, type_ids: tuple[int, ...]) -> list[dict[str, Any]]:
    """The v4 ``associationTypes`` list for stored type ids."""
    known = {t.type_id: t for t in labels(a, b)}
    return [known[t].to_json() for t in type_ids if t in known]


_TARGETS: dict[tuple[str, int], str] = {
    (a, t.type_id): b for (a, b), found in TYPES.items() for t in found
}


def target_of(from_type: ObjectType, type_id: int) -> ObjectType:
    """The object type an association type id of ``from_type`` points to; 400 when unknown."""
    name = _TARGETS.get((from_type.name, type_id))
    if name is None:
        raise validation_error(f"{type_id} is not a valid association type id for {from_type.name}")
    return OBJECT_TYPES[name]


def type_name(a: ObjectType, b: ObjectType, association: AssociationType) -> str:
    """The v3 association ``type`` string, e.g. ``contact_to_company``."""
    base = f"{a.singular}_to_{b.singular}"
    has_primary = any(t.label == "Primary" for t in labels(a, b))
    return f"{base}_unlabeled" if has_primary and association.label is None else base
