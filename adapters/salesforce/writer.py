"""Pushing to Salesforce: owned fields by sObject Collections, tasks upserted by our key, setup.

- Field pushes go through `PATCH /composite/sobjects` (200 records a call, `allOrNone: false`), by
  the record's Salesforce id, with our external id written alongside. An update by id, not an
  upsert by external id, because an upsert of a contact that is not linked yet would *create* a
  stray contact; an update by id fails loudly (reported) instead. Updates are idempotent anyway.
- Tasks are upserted by `CEM_Task_Key__c` (unique external id = hash of customer, playbook,
  reason) through `PATCH /composite/sobjects/Task/CEM_Task_Key__c`: a retry after a timeout, a
  rerun, or a crash between Salesforce's answer and our ledger write updates the same task.
- Per-record `UNABLE_TO_LOCK_ROW` is retried (a few rounds, only those records); other per-record
  errors are reported as `CrmRejectedError` and the rest of the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from adapters.mapping import FieldMap, MappingSet
from adapters.pushing import PushMappings
from adapters.salesforce import soql
from adapters.salesforce.client import SalesforceClient, restful, run_query
from adapters.salesforce.connector import TASK_KEY_FIELD
from adapters.salesforce.errors import GONE_RECORD_CODES, TRANSIENT_RECORD_CODES
from service.domain import ActionTask, TaskPriority
from service.ports import (
    CrmRejectedError,
    FieldUpdate,
    ProvisionReport,
    WriteReport,
)

log = logging.getLogger(__name__)

BATCH = 200  # sObject Collections limit (docs/crm-api-facts.md §2.6)
LOCK_ROUNDS = 3
_PRIORITY = {
    TaskPriority.LOW: "Low",
    TaskPriority.NORMAL: "Normal",
    TaskPriority.HIGH: "High",
    TaskPriority.URGENT: "High",
}


def _wire(value: Any) -> Any:
    """A JSON value as Salesforce expects it (datetimes as ISO-8601 with offset)."""
    return value.isoformat() if isinstance(value, datetime) else value


def _metadata(field: FieldMap) -> dict[str, Any]:
    label = field.label or field.crm.removesuffix("__c").replace("_", " ")
    match field.type:
        case "number" | "integer":
            return {"label": label, "type": "Number", "precision": 18, "scale": 2}
        case "boolean":
            return {"label": label, "type": "Checkbox", "defaultValue": "false"}
        case "datetime" | "epoch_ms":
            return {"label": label, "type": "DateTime"}
        case "date":
            return {"label": label, "type": "Date"}
        case "text":
            return {"label": label, "type": "LongTextArea", "length": 32768, "visibleLines": 3}
        case _:
            return {"label": label, "type": "Text", "length": field.max_length or 255}


def _key_metadata(label: str) -> dict[str, Any]:
    return {"label": label, "type": "Text", "length": 64, "externalId": True, "unique": True}


class SalesforceWriter:
    """`CrmWriter` for one Salesforce org."""

    def __init__(self, client: SalesforceClient, mappings: MappingSet) -> None:
        self.connection = client.name
        self.client = client
        self._push = PushMappings("salesforce", "Salesforce", client.name, mappings)
        self.pushable = self._push.objects

    # --- generic collection call with per-record results --------------------------------

    def _collection(
        self,
        path: str,
        records: list[dict[str, Any]],
        keys: list[str],
        report: _Report,
    ) -> None:
        """Send `records` (≤ 200) to a collection endpoint; retry locked rows, report refusals."""
        pending = list(zip(keys, records, strict=True))
        for round_ in range(LOCK_ROUNDS):
            body = {"allOrNone": False, "records": [r for _, r in pending]}
            results: list[dict[str, Any]] = self.client.call(
                partial(restful, path=path, method="PATCH", body=body)
            )
            report.calls += 1
            retry: list[tuple[str, dict[str, Any]]] = []
            for (key, record), result in zip(pending, results, strict=True):
                if result.get("success"):
                    report.written.append(key)
                    if result.get("id"):
                        report.created_ids[key] = str(result["id"])
                    continue
                error = (result.get("errors") or [{}])[0]
                code = str(error.get("statusCode", "UNKNOWN"))
                if code in TRANSIENT_RECORD_CODES and round_ < LOCK_ROUNDS - 1:
                    retry.append((key, record))
                else:
                    report.rejected.append(
                        CrmRejectedError(
                            f"Salesforce refused {key}: {code} {error.get('message', '')}".strip(),
                            record_id=key,
                            code=code,
                            connection=self.connection,
                            gone=code in GONE_RECORD_CODES,
                        )
                    )
            if not retry:
                return
            pending = retry

    # --- CrmWriter ------------------------------------------------------------------------

    def upsert_fields(self, updates: Sequence[FieldUpdate]) -> WriteReport:
        report = _Report()
        by_object, refused = self._push.group(updates)
        report.rejected.extend(refused)
        for crm_object, items in by_object.items():
            mapping = self._push.get(crm_object)
            names = {f.canonical: f.crm for f in mapping.fields}
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                records = [
                    {
                        "attributes": {"type": crm_object},
                        "id": u.crm_id,
                        mapping.external_id_field or "": u.external_id,
                        **{names[k]: _wire(v) for k, v in u.fields.items() if k in names},
                    }
                    for u in chunk
                ]
                self._collection(
                    "composite/sobjects", records, [u.external_id for u in chunk], report
                )
        return report.freeze()

    def _task_record(self, task: ActionTask) -> dict[str, Any]:
        record: dict[str, Any] = {
            "attributes": {"type": "Task"},
            TASK_KEY_FIELD: task.idempotency_key,
            "Subject": task.subject[:255],
            "Description": f"{task.body}\n\n{task.why}".strip(),
            "ActivityDate": task.due_at.date().isoformat(),
            "Priority": _PRIORITY[task.priority],
            "Status": "Not Started",
            "WhoId": task.customer_id,
        }
        if task.owner_id:
            record["OwnerId"] = task.owner_id
        return record

    def create_tasks(self, tasks: Sequence[ActionTask]) -> WriteReport:
        report = _Report()
        path = f"composite/sobjects/Task/{TASK_KEY_FIELD}"
        for start in range(0, len(tasks), BATCH):
            chunk = list(tasks[start : start + BATCH])
            self._collection(
                path,
                [self._task_record(t) for t in chunk],
                [t.idempotency_key for t in chunk],
                report,
            )
        return report.freeze()

    def close_tasks(self, idempotency_keys: Sequence[str]) -> WriteReport:
        report = _Report()
        for start in range(0, len(idempotency_keys), BATCH):
            chunk = list(idempotency_keys[start : start + BATCH])
            query = soql.select(
                ["Id", TASK_KEY_FIELD], "Task", f"{TASK_KEY_FIELD} IN {soql.in_list(chunk)}"
            )
            found: dict[str, Any] = self.client.call(partial(run_query, query=query))
            report.calls += 1
            ids = {str(r[TASK_KEY_FIELD]): str(r["Id"]) for r in found.get("records", [])}
            # A key with no task (closed by hand and deleted) has nothing left to close.
            keys = [k for k in chunk if k in ids]
            records = [
                {"attributes": {"type": "Task"}, "id": ids[k], "Status": "Completed"} for k in keys
            ]
            if records:
                self._collection("composite/sobjects", records, keys, report)
        return report.freeze()

    def clear_fields(self, crm_object: str, crm_ids: Sequence[str]) -> WriteReport:
        report = _Report()
        mapping = self._push.get(crm_object)
        # Salesforce checkboxes cannot be null: unchecked is their empty value.
        empty = {f.crm: (False if f.type == "boolean" else None) for f in mapping.fields}
        if mapping.external_id_field:
            empty[mapping.external_id_field] = None
        for start in range(0, len(crm_ids), BATCH):
            chunk = list(crm_ids[start : start + BATCH])
            records = [{"attributes": {"type": crm_object}, "id": i, **empty} for i in chunk]
            self._collection("composite/sobjects", records, chunk, report)
        return report.freeze()

    # --- provisioning ------------------------------------------------------------------

    def _wanted(self) -> dict[str, dict[str, Any]]:
        """Full field name (Object.Field__c) -> Metadata for every field the push needs."""
        wanted: dict[str, dict[str, Any]] = {}
        for mapping in self._push:
            if mapping.external_id_field:
                wanted[f"{mapping.object}.{mapping.external_id_field}"] = _key_metadata(
                    "CEM External Id"
                )
            for field in mapping.fields:
                wanted[f"{mapping.object}.{field.crm}"] = _metadata(field)
        wanted[f"Task.{TASK_KEY_FIELD}"] = _key_metadata("CEM Task Key")
        return wanted

    def provision(self, *, dry_run: bool) -> ProvisionReport:
        wanted = self._wanted()
        existing: set[str] = set()
        for sobject in sorted({name.split(".")[0] for name in wanted}):
            describe: dict[str, Any] = self.client.call(
                partial(restful, path=f"sobjects/{sobject}/describe")
            )
            existing.update(f"{sobject}.{f['name']}" for f in describe.get("fields", []))
        missing = [name for name in wanted if name not in existing]
        if not dry_run:
            for name in missing:
                body = {"FullName": name, "Metadata": wanted[name]}
                self.client.call(
                    partial(restful, path="tooling/sobjects/CustomField", method="POST", body=body)
                )
        return ProvisionReport(
            existing=tuple(sorted(set(wanted) - set(missing))),
            created=tuple(missing),
            dry_run=dry_run,
        )


class _Report:
    """Mutable accumulator behind a `WriteReport`."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.rejected: list[CrmRejectedError] = []
        self.calls = 0
        self.created_ids: dict[str, str] = {}

    def freeze(self) -> WriteReport:
        return WriteReport(
            written=tuple(self.written),
            rejected=tuple(self.rejected),
            calls=self.calls,
            created_ids=dict(self.created_ids),
        )
