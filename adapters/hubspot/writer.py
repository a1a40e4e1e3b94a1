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

from hubspot import HubSpot
from hubspot.crm.associations.v4 import BatchInputPublicDefaultAssociationMultiPost
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
)
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.connector import TASK_KEY
from adapters.mapping import FieldMap, MappingSet
from adapters.pushing import PushMappings
from service.domain import ActionTask, TaskPriority
from service.ports import (
    CrmRejectedError,
    FieldUpdate,
    ProvisionReport,
    WriteReport,
)

BATCH = 100  # HubSpot batch input limit (crm-api-facts §3.4)
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


def _property(field: FieldMap, group: str) -> PropertyCreate:
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
    return PropertyCreate(
        name=field.crm,
        label=field.label or field.crm.replace("_", " "),
        type=kind,
        field_type=field_type,
        group_name=group,
    )


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
        body = BatchInputSimplePublicObjectBatchInput(inputs=inputs)

        def call(sdk: HubSpot, timeout: tuple[float, float]) -> Any:
            return sdk.crm.objects.batch_api.update_with_http_info(
                crm_object,
                batch_input_simple_public_object_batch_input=body,
                _request_timeout=timeout,
            )

        page: dict[str, Any] = self.client.call(call).to_dict()
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
            body = BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[self._task_input(t) for t in chunk]
            )

            def call(sdk: HubSpot, timeout: tuple[float, float], b: Any = body) -> Any:
                return sdk.crm.objects.batch_api.upsert_with_http_info(
                    "tasks",
                    batch_input_simple_public_object_batch_input_upsert=b,
                    _request_timeout=timeout,
                )

            page: dict[str, Any] = self.client.call(call).to_dict()
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
                assoc = BatchInputPublicDefaultAssociationMultiPost(inputs=links)

                def link(sdk: HubSpot, timeout: tuple[float, float], a: Any = assoc) -> Any:
                    return sdk.crm.associations.v4.batch_api.create_default_with_http_info(
                        "tasks",
                        "contacts",
                        batch_input_public_default_association_multi_post=a,
                        _request_timeout=timeout,
                    )

                self.client.call(link)
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
            read = BatchReadInputSimplePublicObjectId(
                properties=[TASK_KEY], id_property=TASK_KEY, inputs=[{"id": k} for k in chunk]
            )

            def find(sdk: HubSpot, timeout: tuple[float, float], r: Any = read) -> Any:
                return sdk.crm.objects.batch_api.read_with_http_info(
                    "tasks", batch_read_input_simple_public_object_id=r, _request_timeout=timeout
                )

            page: dict[str, Any] = self.client.call(find).to_dict()
            calls += 1
            # A key with no task (deleted by hand) has nothing left to close.
            ids = {
                str((r.get("properties") or {}).get(TASK_KEY)): str(r["id"])
                for r in page.get("results") or []
            }
            if not ids:
                continue
            body = BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    {"id": i, "properties": {"hs_task_status": "COMPLETED"}} for i in ids.values()
                ]
            )

            def close(sdk: HubSpot, timeout: tuple[float, float], b: Any = body) -> Any:
                return sdk.crm.objects.batch_api.update_with_http_info(
                    "tasks",
                    batch_input_simple_public_object_batch_input=b,
                    _request_timeout=timeout,
                )

            self.client.call(close)
            calls += 1
            written.extend(k for k in chunk if k in ids)
        return WriteReport(written=tuple(written), calls=calls)

    # --- provisioning ------------------------------------------------------------------

    def _wanted(self) -> dict[str, list[PropertyCreate]]:
        wanted: dict[str, list[PropertyCreate]] = {}
        for mapping in self._push:
            props = [_property(f, GROUP) for f in mapping.fields]
            if mapping.external_id_field:
                props.append(
                    PropertyCreate(
                        name=mapping.external_id_field,
                        label="CEM external id",
                        type="string",
                        field_type="text",
                        group_name=GROUP,
                        has_unique_value=True,
                    )
                )
            wanted[mapping.object] = props
        wanted.setdefault("tasks", []).append(
            PropertyCreate(
                name=TASK_KEY,
                label="CEM task key",
                type="string",
                field_type="text",
                group_name=GROUP,
                has_unique_value=True,
            )
        )
        return wanted

    def provision(self, *, dry_run: bool) -> ProvisionReport:
        existing: list[str] = []
        created: list[str] = []
        for object_type, props in self._wanted().items():

            def groups(sdk: HubSpot, timeout: tuple[float, float], o: str = object_type) -> Any:
                return sdk.crm.properties.groups_api.get_all_with_http_info(
                    o, _request_timeout=timeout
                )

            def current(sdk: HubSpot, timeout: tuple[float, float], o: str = object_type) -> Any:
                return sdk.crm.properties.core_api.get_all_with_http_info(
                    o, _request_timeout=timeout
                )

            have_groups = {
                g["name"] for g in self.client.call(groups).to_dict().get("results") or []
            }
            have = {p["name"] for p in self.client.call(current).to_dict().get("results") or []}
            if GROUP in have_groups:
                existing.append(f"{object_type}.group:{GROUP}")
            else:
                created.append(f"{object_type}.group:{GROUP}")
                if not dry_run:
                    group = PropertyGroupCreate(name=GROUP, label="cem-bridge", display_order=-1)

                    def make_group(
                        sdk: HubSpot,
                        timeout: tuple[float, float],
                        o: str = object_type,
                        g: Any = group,
                    ) -> Any:
                        return sdk.crm.properties.groups_api.create_with_http_info(
                            o, property_group_create=g, _request_timeout=timeout
                        )

                    self.client.call(make_group)
            for prop in props:
                name = f"{object_type}.{prop.name}"
                if prop.name in have:
                    existing.append(name)
                    continue
                created.append(name)
                if not dry_run:

                    def make(
                        sdk: HubSpot,
                        timeout: tuple[float, float],
                        o: str = object_type,
                        p: Any = prop,
                    ) -> Any:
                        return sdk.crm.properties.core_api.create_with_http_info(
                            o, property_create=p, _request_timeout=timeout
                        )

                    self.client.call(make)
        return ProvisionReport(existing=tuple(existing), created=tuple(created), dry_run=dry_run)
