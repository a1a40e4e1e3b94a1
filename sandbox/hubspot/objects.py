"""Reads and writes of CRM records: validation, unique values, history, search staging, events.

Routes and the bulk loader both go through :class:`ObjectService`, so every write stamps the
system properties the same way, keeps the unique indexes right, stages the new version for the
(lagging) search index and tells the webhook sender what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sandbox.core.clock import SandboxClock
from sandbox.hubspot.errors import HubSpotError, conflict, not_found, validation_error
from sandbox.hubspot.objecttypes import ObjectType
from sandbox.hubspot.properties import PropertyRegistry
from sandbox.hubspot.store import ObjectStore, ObjectTable, StoredObject
from sandbox.hubspot.timefmt import iso

ChangeKind = Literal["creation", "propertyChange", "deletion", "privacyDeletion", "merge"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change a webhook subscription can be about."""

    kind: ChangeKind
    object_type: ObjectType
    object_id: int
    occurred_at: datetime
    property_name: str | None = None
    property_value: str | None = None
    merged_ids: tuple[int, ...] = ()  # merge: the records folded into ``object_id``


ChangeListener = Callable[[ChangeEvent], None]


def unique_key(name: str, value: str) -> str:
    """How a unique value is compared: HubSpot treats emails case-insensitively."""
    return value.lower() if name == "email" else value


class ObjectService:
    """All record operations of one portal; every method is thread-safe."""

    def __init__(
        self,
        store: ObjectStore,
        registry: PropertyRegistry,
        clock: SandboxClock,
        search_lag_seconds: float = 0.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.search_lag = timedelta(seconds=search_lag_seconds)
        self.listeners: list[ChangeListener] = []

    # ---- reads -------------------------------------------------------------------------

    def get(self, otype: ObjectType, key: str, id_property: str | None = None) -> StoredObject:
        """A live record by id or by a unique property's value; 404 when missing or archived."""
        with self.store.lock:
            obj = self.find(otype, key, id_property)
        if obj is None or obj.archived:
            raise not_found()
        return obj

    def find(self, otype: ObjectType, key: str, id_property: str | None) -> StoredObject | None:
        """The record (archived too) ``key`` names, or None; 400 on a non-unique idProperty."""
        table = self.store.table(otype.name)
        if id_property is not None and not isinstance(id_property, str):
            # JSON input can put anything here (a list, a number); HubSpot answers 400.
            raise validation_error("idProperty must be a property name (a string).")
        if id_property in (None, "", "hs_object_id"):
            try:
                object_id = int(key)
            except (TypeError, ValueError):
                return None
            # A merged-away id keeps answering with the record it was merged into.
            return table.objects.get(table.aliases.get(object_id, object_id))
        assert id_property is not None
        if id_property not in self.registry.unique_names(otype):
            raise validation_error(
                f"Property {id_property} is not a unique-value property of {otype.name} "
                "and cannot be used as idProperty."
            )
        found = table.unique.get(id_property, {}).get(unique_key(id_property, key))
        return None if found is None else table.objects.get(found)

    # ---- writes ------------------------------------------------------------------------

    def create(self, otype: ObjectType, properties: dict[str, Any]) -> StoredObject:
        """Create a record from API input (201 on the wire)."""
        self._writable(otype)
        values = self.registry.normalise(otype, properties, creating=True)
        now = self.clock.now()
        with self.store.lock:
            table = self.store.table(otype.name)
            self._check_unique(otype, table, values, None)
            obj = self._insert(otype, table, values, iso(now))
            table.stage(now + self.search_lag, obj)
        self._emit(ChangeEvent("creation", otype, obj.id, now))
        for name, value in values.items():
            if value is not None:
                self._emit(ChangeEvent("propertyChange", otype, obj.id, now, name, value))
        return obj

    def load(self, otype: ObjectType, values: dict[str, str], created_at_iso: str) -> StoredObject:
        """Insert an already-normalised record as historical data: indexed at once, no events."""
        with self.store.lock:
            table = self.store.table(otype.name)
            obj = self._insert(otype, table, dict(values), created_at_iso)
            table.index_now(obj)
        return obj

    def update(
        self,
        otype: ObjectType,
        key: str,
        properties: dict[str, Any],
        id_property: str | None = None,
    ) -> StoredObject:
        """Update a live record; 404 when it is missing or archived."""
        self._writable(otype)
        values = self.registry.normalise(otype, properties, creating=False)
        with self.store.lock:
            obj = self.find(otype, key, id_property)
            if obj is None or obj.archived:
                raise not_found()
            return self._apply(otype, obj, values)

    def upsert(
        self, otype: ObjectType, key: str, id_property: str | None, properties: dict[str, Any]
    ) -> tuple[StoredObject, bool]:
        """Update the record whose unique ``id_property`` is ``key``, else create it.

        Returns (record, whether it was created).
        """
        self._writable(otype)
        with self.store.lock:
            existing = self.find(otype, key, id_property)
            if existing is not None and not existing.archived:
                values = self.registry.normalise(otype, properties, creating=False)
                return self._apply(otype, existing, values), False
            if id_property in (None, "", "hs_object_id"):
                raise not_found(f"No {otype.singular} with id {key} to update")
            assert id_property is not None
            return self.create(otype, {**properties, id_property: key}), True

    def archive(self, otype: ObjectType, key: str) -> None:
        """Archive (soft-delete) a record; archiving an archived or missing one is a no-op 204."""
        self._writable(otype)
        now = self.clock.now()
        with self.store.lock:
            table = self.store.table(otype.name)
            obj = self.find(otype, key, None)
            if obj is None or obj.archived:
                return
            obj.archived_at = iso(now)
            obj.updated_at = obj.archived_at
            for name in list(table.unique):
                value = obj.properties.get(name)
                if value is not None:
                    table.unique[name].pop(unique_key(name, value), None)
            table.stage(now + self.search_lag, obj)
        self._emit(ChangeEvent("deletion", otype, obj.id, now))

    def purge(self, otype: ObjectType, obj: StoredObject) -> None:
        """Delete a record for good (GDPR delete): gone from the store, indexes and search."""
        self.remove(otype, obj)
        self._emit(ChangeEvent("privacyDeletion", otype, obj.id, self.clock.now()))

    def apply_system(
        self, otype: ObjectType, obj: StoredObject, values: dict[str, str | None]
    ) -> StoredObject:
        """Write already-normalised values, read-only ones included (merges)."""
        with self.store.lock:
            return self._apply(otype, obj, values)

    def emit(self, event: ChangeEvent) -> None:
        """Tell the listeners about a change made outside this service (merges)."""
        self._emit(event)

    def remove(self, otype: ObjectType, obj: StoredObject) -> None:
        """Take a record out of the store, its unique indexes and search, without an event."""
        with self.store.lock:
            table = self.store.table(otype.name)
            table.objects.pop(obj.id, None)
            table.unindex(obj.id)
            for name, index in table.unique.items():
                value = obj.properties.get(name)
                if value is not None and index.get(unique_key(name, value)) == obj.id:
                    del index[unique_key(name, value)]

    # ---- internals ---------------------------------------------------------------------

    def _writable(self, otype: ObjectType) -> None:
        if not otype.writable:
            # Feedback submissions come from HubSpot's surveys only; the API reads them.
            raise HubSpotError(
                405,
                "VALIDATION_ERROR",
                f"Object type {otype.name} is read-only through the API.",
            )

    def _insert(
        self, otype: ObjectType, table: ObjectTable, values: dict[str, str | None], stamp: str
    ) -> StoredObject:
        object_id = self.store.allocate_id()
        props = {k: v for k, v in values.items() if v is not None}
        props["hs_object_id"] = str(object_id)
        props.setdefault(otype.created_property, stamp)
        props[otype.modified_property] = stamp
        if otype.name == "tickets":
            props.setdefault("hs_pipeline", "0")  # the default support pipeline (§3.3)
        obj = StoredObject(object_id, props, stamp, stamp)
        table.insert(obj)
        for name in self.registry.unique_names(otype):
            value = props.get(name)
            if value is not None:
                table.unique.setdefault(name, {})[unique_key(name, value)] = object_id
        return obj

    def _check_unique(
        self,
        otype: ObjectType,
        table: ObjectTable,
        values: dict[str, str | None],
        own_id: int | None,
    ) -> None:
        for name in self.registry.unique_names(otype):
            value = values.get(name)
            if value is None:
                continue
            holder = table.unique.get(name, {}).get(unique_key(name, value))
            if holder is None or holder == own_id:
                continue
            if name == "email":
                # The exact wording clients parse the id out of (docs/crm-api-facts.md §3.3).
                raise conflict(f"Contact already exists. Existing ID: {holder}")
            raise conflict(
                f"A {otype.singular} with {name}={value} already exists. Existing ID: {holder}",
                context={"id": [str(holder)], "propertyName": [name]},
            )

    def _apply(
        self, otype: ObjectType, obj: StoredObject, values: dict[str, str | None]
    ) -> StoredObject:
        table = self.store.table(otype.name)
        self._check_unique(otype, table, values, obj.id)
        now = self.clock.now()
        stamp = iso(now)
        changed = {k: v for k, v in values.items() if obj.properties.get(k) != v}
        if not changed:
            return obj
        props = dict(obj.properties)  # copy-on-write: the search index may hold the old dict
        history = obj.history if obj.history is not None else {}
        for name, value in changed.items():
            old = props.get(name)
            if name not in history and old is not None:
                history[name] = [(old, obj.updated_at, "API")]
            history.setdefault(name, []).append((value or "", stamp, "API"))
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
            if name in table.unique and old is not None:
                table.unique[name].pop(unique_key(name, old), None)
            if value is not None and name in self.registry.unique_names(otype):
                table.unique.setdefault(name, {})[unique_key(name, value)] = obj.id
        props[otype.modified_property] = stamp
        obj.properties = props
        obj.history = history
        obj.updated_at = stamp
        table.stage(now + self.search_lag, obj)
        for name, value in changed.items():
            self._emit(ChangeEvent("propertyChange", otype, obj.id, now, name, value or ""))
        return obj

    def _emit(self, event: ChangeEvent) -> None:
        for listener in self.listeners:
            listener(event)
