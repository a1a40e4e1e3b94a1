"""Pushing to HubSpot: owned properties by batch update, tasks upserted by our key, setup.

- Property pushes use `batch/update` by HubSpot id (100 a call) with our `cem_external_id` set
  alongside. An upsert by `cem_external_id` would *create* a contact when the link is missing;
  an update by id refuses instead, and updates are idempotent.
- Tasks use `batch/upsert` with `idProperty=cem_task_key` (a unique-value property holding the
  hash of customer, playbook and reason), then a default task→contact association (v4, itself
  idempotent). A retry, a rerun or a crash after HubSpot answered updates the same task.
- A 207 answer lists refused ids per error; those are reported, the rest are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.connector import TASK_KEY
from adapters.hubspot.errors import GONE_RECORD_CODES
from adapters.mapping import FieldMap, MappingSet
from adapters.pushing import PushMappings
from service.domain import ActionTask, TaskPriority
from service.ports import (
    CrmRejectedError,
    FieldUpdate,
    ProvisionReport,
    WriteReport,
)

BATCH = 100  # HubSpot batch input limit (docs/crm-api-facts.md §3.4)
GROUP = "cem"
_PRIORITY = {
    TaskPriority.LOW: "LOW",
    TaskPriority.NORMAL: "MEDIUM",
    TaskPriority.HIGH: "HIGH",
    TaskPriority.URGENT: "HIGH",
}


def _wire(value: Any) -> str:
    """HubSpot property values are strings; datetimes as epoch milliseconds."""
    if value is None:
        return ""  # an empty string clears a property
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str(int(value.astimezone(UTC).timestamp() * 1000))
    return str(value)


def _property(field: FieldMap, group: str) -> dict[str, Any]:
    kinds = {
        "number": ("number", "number"),
        "integer": ("number", "number"),
        "boolean": ("bool", "booleancheckbox"),
        "datetime": ("datetime", "date"),
        "epoch_ms": ("datetime", "date"),
        "date": ("date", "date"),
        "text": ("string", "textarea"),
    }
    kind, field_type = kinds.get(field.type, ("string", "text"))
    return {
        "name": field.crm,
        "label": field.label or field.crm.replace("_", " "),
        "type": kind,
        "fieldType": field_type,
        "groupName": group,
    }


def _unique_text(name: str, label: str) -> dict[str, Any]:
    """A text property whose values are unique in the portal (our keys)."""
    return {
        "name": name,
        "label": label,
        "type": "string",
        "fieldType": "text",
        "groupName": GROUP,
        "hasUniqueValue": True,
    }


def _refused(page: dict[str, Any], connection: str, keys: dict[str, str]) -> list[CrmRejectedError]:
    """Per-input errors of a 207 answer, keyed back to our ids."""
    refused: list[CrmRejectedError] = []
    for error in page.get("errors") or []:
        context = error.get("context") or {}
        ids = context.get("ids") or context.get("fromObjectId") or []
        for crm_id in ids:
            refused.append(
                CrmRejectedError(
                    f"HubSpot refused {crm_id}: "
                    f"{error.get('category', '')} {error.get('message', '')}".strip(),
                    record_id=keys.get(str(crm_id), str(crm_id)),
                    code=str(error.get("category") or "UNKNOWN"),
                    connection=connection,
                    gone=error.get("category") in GONE_RECORD_CODES,
                )
            )
    return refused


class HubSpotWriter:
    """`CrmWriter` for one HubSpot portal."""

    def __init__(self, client: HubSpotClient, mappings: MappingSet) -> None:
        self.connection = client.name
        self.client = client
        self._push = PushMappings("hubspot", "HubSpot", client.name, mappings)
        self.pushable = self._push.objects

    def _update(
        self, crm_object: str, inputs: list[dict[str, Any]], keys: dict[str, str]
    ) -> tuple[list[str], list[CrmRejectedError]]:
        """One `batch/update` call (≤ 100 inputs): our keys written, and the refusals."""
        page = self.client.batch_update(crm_object, inputs)
        refused = _refused(page, self.connection, keys)
        bad = {r.record_id for r in refused}
        return [k for k in keys.values() if k not in bad], refused

    def upsert_fields(self, updates: Sequence[FieldUpdate]) -> WriteReport:
        written: list[str] = []
        rejected: list[CrmRejectedError] = []
        calls = 0
        by_object, refused = self._push.group(updates)
        rejected.extend(refused)
        for crm_object, items in by_object.items():
            mapping = self._push.get(crm_object)
            names = {f.canonical: f.crm for f in mapping.fields}
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                inputs = [
                    {
                        "id": u.crm_id,
                        "properties": {
                            mapping.external_id_field or "": u.external_id,
                            **{names[k]: _wire(v) for k, v in u.fields.items() if k in names},
                        },
                    }
                    for u in chunk
                ]
                done, refused = self._update(
                    crm_object, inputs, {str(u.crm_id): u.external_id for u in chunk}
                )
                calls += 1
                written.extend(done)
                rejected.extend(refused)
        return WriteReport(written=tuple(written), rejected=tuple(rejected), calls=calls)

    def clear_fields(self, crm_object: str, crm_ids: Sequence[str]) -> WriteReport:
        written: list[str] = []
        rejected: list[CrmRejectedError] = []
        mapping = self._push.get(crm_object)
        empty = {f.crm: _wire(None) for f in mapping.fields}
        if mapping.external_id_field:
            empty[mapping.external_id_field] = _wire(None)
        calls = 0
        for start in range(0, len(crm_ids), BATCH):
            chunk = list(crm_ids[start : start + BATCH])
            inputs = [{"id": i, "properties": dict(empty)} for i in chunk]
            done, refused = self._update(crm_object, inputs, {i: i for i in chunk})
            calls += 1
            written.extend(done)
            rejected.extend(refused)
        return WriteReport(written=tuple(written), rejected=tuple(rejected), calls=calls)

    def _task_input(self, task: ActionTask) -> dict[str, Any]:
        properties = {
            TASK_KEY: task.idempotency_key,
            "hs_task_subject": task.subject,
            "hs_task_body": f"{task.body}\n\n{task.why}".strip(),
            "hs_timestamp": _wire(task.due_at),
            "hs_task_priority": _PRIORITY[task.priority],
            "hs_task_status": "NOT_STARTED",
            "hs_task_type": "TODO",
        }
        if task.owner_id:
            properties["hubspot_owner_id"] = task.owner_id
        return {"id": task.idempotency_key, "idProperty": TASK_KEY, "properties": properties}

    def create_tasks(self, tasks: Sequence[ActionTask]) -> WriteReport:
        written: list[str] = []
        rejected: list[CrmRejectedError] = []
        created: dict[str, str] = {}
        calls = 0
        for start in range(0, len(tasks), BATCH):
            chunk = list(tasks[start : start + BATCH])
            page = self.client.batch_upsert("tasks", [self._task_input(t) for t in chunk])
            calls += 1
            ids = {
                str((r.get("properties") or {}).get(TASK_KEY)): str(r["id"])
                for r in page.get("results") or []
            }
            rejected.extend(_refused(page, self.connection, {}))
            links = [
                {"from": {"id": ids[t.idempotency_key]}, "to": {"id": t.customer_id}}
                for t in chunk
                if t.idempotency_key in ids
            ]
            if links:
                self.client.associate_default("tasks", "contacts", links)
                calls += 1
            for t in chunk:
                if t.idempotency_key in ids:
                    written.append(t.idempotency_key)
                    created[t.idempotency_key] = ids[t.idempotency_key]
        return WriteReport(
            written=tuple(written), rejected=tuple(rejected), calls=calls, created_ids=created
        )

    def close_tasks(self, idempotency_keys: Sequence[str]) -> WriteReport:
        written: list[str] = []
        calls = 0
        for start in range(0, len(idempotency_keys), BATCH):
            chunk = list(idempotency_keys[start : start + BATCH])
            read = {
                "properties": [TASK_KEY],
                "idProperty": TASK_KEY,
                "inputs": [{"id": k} for k in chunk],
            }
            page = self.client.batch_read("tasks", read)
            calls += 1
            # A key with no task (deleted by hand) has nothing left to close.
            ids = {
                str((r.get("properties") or {}).get(TASK_KEY)): str(r["id"])
                for r in page.get("results") or []
            }
            if not ids:
                continue
            self.client.batch_update(
                "tasks",
                [{"id": i, "properties": {"hs_task_status": "COMPLETED"}} for i in ids.values()],
            )
            calls += 1
            written.extend(k for k in chunk if k in ids)
        return WriteReport(written=tuple(written), calls=calls)

    # --- provisioning ------------------------------------------------------------------

    def _wanted(self) -> dict[str, list[dict[str, Any]]]:
        wanted: dict[str, list[dict[str, Any]]] = {}
        for mapping in self._push:
            props = [_property(f, GROUP) for f in mapping.fields]
            if mapping.external_id_field:
                props.append(_unique_text(mapping.external_id_field, "CEM external id"))
            wanted[mapping.object] = props
        wanted.setdefault("tasks", []).append(_unique_text(TASK_KEY, "CEM task key"))
        return wanted

    def provision(self, *, dry_run: bool) -> ProvisionReport:
        existing: list[str] = []
        created: list[str] = []
        for object_type, props in self._wanted().items():
            have_groups = {g["name"] for g in self.client.property_groups(object_type)}
            have = {p["name"] for p in self.client.properties(object_type)}
            if GROUP in have_groups:
                existing.append(f"{object_type}.group:{GROUP}")
            else:
                created.append(f"{object_type}.group:{GROUP}")
                if not dry_run:
                    self.client.create_property_group(
                        object_type, {"name": GROUP, "label": "cem-bridge", "displayOrder": -1}
                    )
            for prop in props:
                name = f"{object_type}.{prop['name']}"
                if prop["name"] in have:
                    existing.append(name)
                    continue
                created.append(name)
                if not dry_run:
                    self.client.create_property(object_type, prop)
        return ProvisionReport(existing=tuple(existing), created=tuple(created), dry_run=dry_run)
