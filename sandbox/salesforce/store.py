"""The org's records in memory: one dict per object, reference and external-id indexes.

Writes go through two steps so sObject Collections can honour `allOrNone`
(docs/crm-api-facts.md §2.6): `prepare_*` validates and builds the new record without touching the
store, `commit` applies a prepared write. Every write stamps `SystemModstamp` from the sandbox
clock, strictly increasing, so watermark pulls never see two writes at the same instant out of
order. Deleted records stay in the table with `IsDeleted = true` (the recycle bin `queryAll` shows)
and are written to a delete log for `getDeleted`.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.clock import SandboxClock
from sandbox.salesforce.derived import AutoNumbers, derive
from sandbox.salesforce.errors import RecordError, not_found, required_missing
from sandbox.salesforce.fields import FieldDef, FieldType, coerce
from sandbox.salesforce.ids import IdFactory, MalformedIdError, to_18
from sandbox.salesforce.responses import format_datetime
from sandbox.salesforce.schema import ObjectDef, Schema

Record = dict[str, Any]
_AUDIT = ("CreatedById", "LastModifiedById", "OwnerId")
# Before-images of the writes made inside `SalesforceStore.transaction()` (per asyncio task, so
# writes of concurrent requests never land in another request's undo log).
UndoLog = list[tuple[ObjectDef, str, Record | None]]
# Key (never a field name: those have no leading underscore) holding when a delayed write
# becomes visible to queries; see `CommitDelay`.
VISIBLE_AT = "_visible_at"


@dataclass
class CommitDelay:
    """Out-of-order commits (docs/crm-api-facts.md §2.10, §6): a share `rate` of writes is stamped
    (SystemModstamp) when made but reaches SOQL only `seconds` later, as when a long transaction
    commits after a shorter, later one. A watermark pull without look-back overlap misses them.
    """

    rate: float = 0.0
    seconds: float = 2.0
    seed: int = 0
    rng: random.Random = field(default_factory=random.Random)
    # The latest visibility time handed out: queries only filter while it lies ahead.
    horizon: str = ""

    def reseed(self) -> None:
        """Restart the deterministic sequence from `seed`."""
        self.rng = random.Random(self.seed)  # noqa: S311 - reproducible, not secret


_UNDO: ContextVar[UndoLog | None] = ContextVar("salesforce_undo", default=None)


@dataclass(frozen=True, slots=True)
class RecordChange:
    """One committed write, for change-event listeners (Change Data Capture)."""

    obj: ObjectDef
    record_id: str
    change_type: str  # CREATE, UPDATE or DELETE
    values: Record  # the fields written (all of them on CREATE)
    stamp: str  # the record's new SystemModstamp
    user_id: str


ChangeListener = Callable[[RecordChange], None]


@dataclass(slots=True)
class PendingWrite:
    """A validated write, not yet applied."""

    obj: ObjectDef
    record_id: str
    values: Record
    created: bool
    unique_keys: list[tuple[str, str]] = field(default_factory=list)
    delete: bool = False


class SalesforceStore:
    """Thread-safe in-memory tables; one lock because writes are short and reads copy refs."""

    def __init__(self, schema: Schema, clock: SandboxClock, ids: IdFactory | None = None) -> None:
        self.schema = schema
        self.clock = clock
        self.ids = ids or IdFactory()
        self.lock = threading.RLock()
        self._tables: dict[str, dict[str, Record]] = defaultdict(dict)
        self._deleted: dict[str, list[tuple[str, str]]] = defaultdict(list)
        # (object, field) -> lower-cased value -> ids; for external-id and unique fields.
        self._keys: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(dict)
        # (child object, reference field) -> parent id -> child ids, for subqueries and views.
        self._children: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(dict)
        self._last_stamp = datetime.min.replace(tzinfo=clock.now().tzinfo)
        self.autonumbers = AutoNumbers()
        self._plans: dict[str, tuple[int, list[str], list[str]]] = {}
        self.commit_delay = CommitDelay()
        # Told about every committed API write (not loader inserts), inside the store lock.
        # A write later rolled back by allOrNone has been announced already; a receiver that
        # re-reads by id sees the rolled-back state, so the stray event costs one read.
        self.listeners: list[ChangeListener] = []

    # ---- reading -------------------------------------------------------------------------

    def table(self, obj: ObjectDef) -> dict[str, Record]:
        """The live table of `obj` (id -> record), including deleted rows."""
        return self._tables[obj.name]

    def rows(self, obj: ObjectDef, include_deleted: bool = False) -> Iterator[Record]:
        """A snapshot iterator over the object's records, in creation order."""
        with self.lock:
            snapshot = list(self._tables[obj.name].values())
        if include_deleted:
            return iter(snapshot)
        return (r for r in snapshot if not r.get("IsDeleted"))

    def get(self, obj: ObjectDef, record_id: str, include_deleted: bool = False) -> Record | None:
        """One record by 15/18-character id, or None."""
        table = self._tables[obj.name]
        # Fast path: stored ids are canonical 18-character ids, and so are most lookups.
        record = table.get(record_id)
        if record is None:
            try:
                record = table.get(to_18(record_id))
            except MalformedIdError:
                return None
        if record is None or (record.get("IsDeleted") and not include_deleted):
            return None
        return record

    def get_any(self, record_id: str) -> tuple[ObjectDef, Record] | None:
        """A live record of any object, found through the id's key prefix."""
        obj = self.schema.by_prefix(record_id)
        if obj is None:
            return None
        record = self.get(obj, record_id)
        return (obj, record) if record is not None else None

    def find_by_key(self, obj: ObjectDef, field_def: FieldDef, value: Any) -> list[str]:
        """Ids of live records whose external-id/unique `field_def` equals `value` (any case)."""
        index = self._keys.get((obj.name, field_def.name), {})
        return list(index.get(str(value).lower(), ()))

    def children(self, child: ObjectDef, field_name: str, parent_id: str) -> list[Record]:
        """Live records of `child` whose `field_name` points at `parent_id`."""
        with self.lock:
            ids = list(self._children.get((child.name, field_name), {}).get(parent_id, ()))
        table = self._tables[child.name]
        return [r for i in ids if (r := table.get(i)) is not None and not r.get("IsDeleted")]

    def deleted_since(self, obj: ObjectDef, start: str, end: str) -> list[tuple[str, str]]:
        """(id, deletedDate) of deletions with start <= deletedDate < end (formatted strings)."""
        with self.lock:
            return [(i, at) for i, at in self._deleted[obj.name] if start <= at < end]

    def count(self, obj: ObjectDef) -> int:
        """Live records of `obj`."""
        return sum(1 for _ in self.rows(obj))

    # ---- writing -------------------------------------------------------------------------

    def next_stamp(self) -> str:
        """A SystemModstamp strictly after the previous one (1 ms apart when the clock stalls)."""
        with self.lock:
            now = self.clock.now()
            if now <= self._last_stamp:
                now = self._last_stamp + timedelta(milliseconds=1)
            self._last_stamp = now
            return format_datetime(now)

    def prepare_create(
        self, obj: ObjectDef, body: Mapping[str, Any], user_id: str, reserved: set[tuple[str, str]]
    ) -> PendingWrite:
        """Validate a create; `reserved` holds unique keys taken earlier in the same batch."""
        values = self._coerce_body(obj, body, creating=True)
        record: Record = {}
        for f in obj.fields.values():
            if f.default is not None:
                record[f.name] = f.default
            elif f.type is FieldType.BOOLEAN:
                record[f.name] = False
        record.update(values)
        if "ownerid" in obj.fields:
            record.setdefault("OwnerId", user_id)
        missing = [f.name for f in obj.fields.values() if f.required and record.get(f.name) is None]
        if missing:
            raise required_missing(missing)
        pending = PendingWrite(obj, self.ids.new(obj.key_prefix), record, created=True)
        self._check_references(obj, record)
        self._check_unique(pending, reserved)
        return pending

    def prepare_update(
        self,
        obj: ObjectDef,
        record_id: str,
        body: Mapping[str, Any],
        reserved: set[tuple[str, str]],
    ) -> PendingWrite:
        """Validate an update of an existing record."""
        current = self._existing(obj, record_id)
        values = self._coerce_body(obj, body, creating=False)
        merged = {**current, **values}
        blanked = [f.name for f in obj.fields.values() if f.required and merged.get(f.name) is None]
        if blanked:
            raise required_missing(blanked)
        self._check_references(obj, values)
        pending = PendingWrite(obj, current["Id"], values, created=False)
        self._check_unique(pending, reserved)
        return pending

    def prepare_delete(self, obj: ObjectDef, record_id: str) -> PendingWrite:
        """Validate a delete (the record must exist and not be deleted already)."""
        current = self._existing(obj, record_id)
        return PendingWrite(obj, current["Id"], {}, created=False, delete=True)

    def commit(self, pending: PendingWrite, user_id: str) -> str:
        """Apply a prepared write; returns the record id."""
        obj = pending.obj
        if pending.delete:
            self.delete(obj, pending.record_id, user_id)
            return pending.record_id
        with self.lock:
            stamp = self.next_stamp()
            table = self._tables[obj.name]
            if pending.created:
                record = dict(pending.values)
                record.update(
                    Id=pending.record_id,
                    IsDeleted=False,
                    CreatedDate=stamp,
                    CreatedById=user_id,
                )
                old: Record = {}
            else:
                record = table[pending.record_id]
                old = dict(record)
                record.update(pending.values)
            self._remember(obj, pending.record_id, old or None)
            record.update(LastModifiedDate=stamp, LastModifiedById=user_id, SystemModstamp=stamp)
            self._delay_visibility(record)
            derive(self, obj, record, old)
            table[pending.record_id] = record
            self._reindex(obj, record, old)
            kind = "CREATE" if pending.created else "UPDATE"
            self._announce(
                RecordChange(obj, pending.record_id, kind, dict(pending.values), stamp, user_id)
            )
            return pending.record_id

    def insert_trusted(self, obj: ObjectDef, record: Record) -> str:
        """Loader fast path: `record` is already in stored form and carries its own audit stamps."""
        record_id = self.ids.new(obj.key_prefix)
        # Unset fields are simply absent (reads render them as null): at a million records
        # the saved dict slots are hundreds of megabytes.
        record = {k: v for k, v in record.items() if v is not None}
        record["Id"] = record_id
        record.setdefault("IsDeleted", False)
        with self.lock:
            derive(self, obj, record, {})
            self._tables[obj.name][record_id] = record
            self._reindex(obj, record, {})
        return record_id

    def delete(self, obj: ObjectDef, record_id: str, user_id: str) -> None:
        """Move a record to the recycle bin; raises 404 / ENTITY_IS_DELETED like the API."""
        with self.lock:
            record = self._existing(obj, record_id)
            old = dict(record)
            self._remember(obj, record["Id"], old)
            stamp = self.next_stamp()
            record.update(
                IsDeleted=True,
                LastModifiedDate=stamp,
                LastModifiedById=user_id,
                SystemModstamp=stamp,
            )
            self._reindex(obj, record, old)
            self._deleted[obj.name].append((record["Id"], stamp))
            self._announce(RecordChange(obj, record["Id"], "DELETE", {}, stamp, user_id))

    def _announce(self, change: RecordChange) -> None:
        for listener in self.listeners:
            listener(change)

    @contextmanager
    def transaction(self) -> Iterator[UndoLog]:
        """Record before-images of every write in this context, for `rollback`."""
        log: UndoLog = []
        token = _UNDO.set(log)
        try:
            yield log
        finally:
            _UNDO.reset(token)

    def rollback(self, log: UndoLog) -> None:
        """Undo the writes in `log`, newest first (auto numbers stay burnt, as in Salesforce)."""
        with self.lock:
            for obj, record_id, before in reversed(log):
                table = self._tables[obj.name]
                current = table.get(record_id)
                if current is None:
                    continue
                if current.get("IsDeleted") and (before is None or not before.get("IsDeleted")):
                    deleted = self._deleted[obj.name]
                    for index in range(len(deleted) - 1, -1, -1):
                        if deleted[index][0] == record_id:
                            del deleted[index]
                            break
                if before is None:
                    self._reindex(obj, {"Id": record_id, "IsDeleted": True}, current)
                    del table[record_id]
                else:
                    table[record_id] = before
                    self._reindex(obj, before, current)
            log.clear()

    def _delay_visibility(self, record: Record) -> None:
        delay = self.commit_delay
        if delay.rate and delay.rng.random() < delay.rate:
            visible = format_datetime(self.clock.now() + timedelta(seconds=delay.seconds))
            record[VISIBLE_AT] = visible
            delay.horizon = max(delay.horizon, visible)
        else:
            record.pop(VISIBLE_AT, None)

    def _remember(self, obj: ObjectDef, record_id: str, before: Record | None) -> None:
        log = _UNDO.get()
        if log is not None:
            log.append((obj, record_id, dict(before) if before is not None else None))

    def clear(self) -> None:
        """Empty every table and index."""
        with self.lock:
            self._tables.clear()
            self._deleted.clear()
            self._keys.clear()
            self._children.clear()
            self._plans.clear()
            self.autonumbers = AutoNumbers()

    # ---- helpers -------------------------------------------------------------------------

    def _existing(self, obj: ObjectDef, record_id: str) -> Record:
        try:
            key = to_18(record_id)
        except MalformedIdError:
            key = ""
        if key[:3] != obj.key_prefix:
            raise RecordError(
                "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", ("Id",)
            )
        record = self._tables[obj.name].get(key)
        if record is None:
            raise not_found()
        if record.get("IsDeleted"):
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", ())
        return record

    def _coerce_body(self, obj: ObjectDef, body: Mapping[str, Any], creating: bool) -> Record:
        values: Record = {}
        locked: list[str] = []
        for name, raw in body.items():
            if name == "attributes" or (name.lower() == "id" and not creating):
                continue
            f = obj.find(name)
            if f is None:
                raise RecordError(
                    "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {obj.name}",
                    (name,),
                )
            if not (f.createable if creating else f.updateable):
                locked.append(f.name)
                continue
            values[f.name] = coerce(f, raw)
        if locked:
            raise RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                tuple(locked),
            )
        return values

    def _check_references(self, obj: ObjectDef, values: Record) -> None:
        for name, value in values.items():
            f = obj.fields[name.lower()]
            if f.type is not FieldType.REFERENCE or value is None:
                continue
            target = self.get_any(value)
            if target is None:
                raise RecordError(
                    "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {value}", (f.name,)
                )
            if target[0].name not in f.reference_to:
                raise RecordError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"{f.label or f.name}: id value of incorrect type: {value}",
                    (f.name,),
                )

    def _check_unique(self, pending: PendingWrite, reserved: set[tuple[str, str]]) -> None:
        obj = pending.obj
        for f in obj.fields.values():
            if not f.unique or pending.values.get(f.name) is None:
                continue
            key = str(pending.values[f.name]).lower()
            holders = [i for i in self.find_by_key(obj, f, key) if i != pending.record_id]
            if holders or (f.name, key) in reserved:
                holder = holders[0] if holders else "(same request)"
                raise RecordError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {f.name} duplicates value on record with id: {holder}",
                    (f.name,),
                )
            pending.unique_keys.append((f.name, key))
        reserved.update(pending.unique_keys)

    def _index_plan(self, obj: ObjectDef) -> tuple[list[str], list[str]]:
        # (key fields, reference fields) of `obj`; cached until a custom field is added.
        cached = self._plans.get(obj.name)
        if cached is not None and cached[0] == len(obj.fields):
            return cached[1], cached[2]
        keys = [f.name for f in obj.fields.values() if f.external_id or f.unique]
        refs = [
            f.name
            for f in obj.fields.values()
            if f.type is FieldType.REFERENCE and f.name not in _AUDIT and f.name not in keys
        ]
        self._plans[obj.name] = (len(obj.fields), keys, refs)
        return keys, refs

    def _reindex(self, obj: ObjectDef, record: Record, old: Record) -> None:
        record_id = record["Id"]
        alive = not record.get("IsDeleted")
        was_alive = bool(old) and not old.get("IsDeleted")
        key_fields, ref_fields = self._index_plan(obj)
        for name in key_fields:
            index = self._keys[(obj.name, name)]
            before, after = old.get(name), record.get(name)
            if was_alive and before is not None:
                ids = index.get(str(before).lower(), [])
                if record_id in ids:
                    ids.remove(record_id)
            if alive and after is not None:
                index.setdefault(str(after).lower(), []).append(record_id)
        for name in ref_fields:
            before, after = old.get(name), record.get(name)
            if before == after and old:
                continue
            links = self._children[(obj.name, name)]
            if before is not None and record_id in links.get(before, []):
                links[before].remove(record_id)
            if after is not None:
                links.setdefault(after, []).append(record_id)
