"""What a sandbox CRM holds of ours after a run, and how often each field was written.

`snapshot()` reads our owned fields on every customer record and our tasks by key over the CRM's
own REST API (faults off by then); `write_counts()` counts, from the request bodies the sandbox
captured, how many accepted requests wrote each (record, field) and each task key.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from adapters.mapping import load_mappings
from tests.faults.processes import SandboxProcess

SF_VERSION = "v59.0"
SF_TASK_KEY = "CEM_Task_Key__c"
HS_TASK_KEY = "cem_task_key"
CUSTOMER_OBJECT = {"salesforce": "Contact", "hubspot": "contacts"}
# Paths of the writes whose bodies the sandbox keeps for `write_counts`.
WRITE_PATHS = {"salesforce": "/services/data/*/composite/sobjects*", "hubspot": "/crm/*/batch/*"}


def owned_fields(crm: str) -> list[str]:
    """The CRM names of the fields we push onto customers (the external id left out)."""
    mapping = load_mappings().get(crm, CUSTOMER_OBJECT[crm], "push")
    return [f.crm for f in mapping.fields]


@dataclass
class CrmState:
    """Our fields on each customer record (only those with any value) and our tasks by key."""

    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {"fields": self.fields, "tasks": dict(self.tasks)}


def snapshot(sandbox: SandboxProcess) -> CrmState:
    return _salesforce(sandbox) if sandbox.crm == "salesforce" else _hubspot(sandbox)


def _normal(value: Any) -> Any:
    # Both CRMs answer numbers in their own spelling (HubSpot: strings); compare the values.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def _salesforce(sandbox: SandboxProcess) -> CrmState:
    token = sandbox.post("salesforce/sessions", {})["access_token"]
    http = sandbox.session()
    http.headers["Authorization"] = f"Bearer {token}"
    base = f"{sandbox.base_url}/services/data/{SF_VERSION}"

    def query(soql: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        response = http.get(f"{base}/query", params={"q": soql})
        while True:
            response.raise_for_status()
            body = response.json()
            rows.extend(body["records"])
            if body.get("done", True):
                return rows
            response = http.get(f"{sandbox.base_url}{body['nextRecordsUrl']}")

    names = owned_fields("salesforce")
    state = CrmState()
    for row in query(f"SELECT Id, {', '.join(names)} FROM Contact"):
        values = {n: _normal(row.get(n)) for n in names if row.get(n) not in (None, False)}
        if values:
            state.fields[str(row["Id"])] = values
    for row in query(f"SELECT Id, {SF_TASK_KEY} FROM Task WHERE {SF_TASK_KEY} != null"):
        state.tasks[str(row[SF_TASK_KEY])] += 1
    return state


def _hubspot(sandbox: SandboxProcess) -> CrmState:
    http = sandbox.session()
    http.headers["Authorization"] = f"Bearer {sandbox.info['access_token']}"

    def everything(object_type: str, properties: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, "properties": ",".join(properties)}
            if after:
                params["after"] = after
            response = http.get(f"{sandbox.base_url}/crm/v3/objects/{object_type}", params=params)
            response.raise_for_status()
            body = response.json()
            rows.extend(body["results"])
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return rows

    names = owned_fields("hubspot")
    state = CrmState()
    for row in everything("contacts", names):
        props = row.get("properties") or {}
        values = {n: _normal(props.get(n)) for n in names if props.get(n) not in (None, "")}
        # HubSpot keeps an unset boolean as "false"; Salesforce's default is False: both "none".
        values = {k: v for k, v in values.items() if v not in ("false", False)}
        if values:
            state.fields[str(row["id"])] = values
    for row in everything("tasks", [HS_TASK_KEY]):
        key = (row.get("properties") or {}).get(HS_TASK_KEY)
        if key:
            state.tasks[str(key)] += 1
    return state


@dataclass
class WriteCounts:
    """How many accepted write requests carried each (record, field) and each task key."""

    fields: Counter[tuple[str, str]] = field(default_factory=Counter)
    tasks: Counter[str] = field(default_factory=Counter)

    @property
    def duplicate_field_writes(self) -> int:
        return sum(n - 1 for n in self.fields.values() if n > 1)

    @property
    def duplicate_task_writes(self) -> int:
        return sum(n - 1 for n in self.tasks.values() if n > 1)


def write_counts(crm: str, entries: list[dict[str, Any]]) -> WriteCounts:
    """Counts from captured request bodies of accepted (2xx) writes; a dropped or refused
    request wrote nothing, a slow one was still carried out."""
    counts = WriteCounts()
    owned = set(owned_fields(crm))
    for entry in entries:
        body = entry.get("body")
        if body is None or not 200 <= int(entry["status"]) < 300:
            continue
        data = json.loads(body)
        if crm == "salesforce":
            for record in data.get("records", []):
                if SF_TASK_KEY in record:
                    counts.tasks[str(record[SF_TASK_KEY])] += 1
                    continue
                for name in owned & record.keys():
                    counts.fields[(str(record.get("id")), name)] += 1
        else:
            for item in data.get("inputs", []):
                props = item.get("properties") or {}
                if item.get("idProperty") == HS_TASK_KEY or HS_TASK_KEY in props:
                    counts.tasks[str(props.get(HS_TASK_KEY) or item.get("id"))] += 1
                    continue
                for name in owned & props.keys():
                    counts.fields[(str(item.get("id")), name)] += 1
    return counts
