"""Watching the sandbox CRMs from outside: what a customer's record shows of cem-bridge's work
(churn flag, last scoring time, the keys of the tasks it created), and writing the negative
interactions that real-time tests, `make demo` and `bench.realtime` send through the CRMs' own
event senders.

Plain HTTP through each emulator's public API, as a person looking at the CRM would see it:
HubSpot with its bearer token, Salesforce with a session id over the sandbox's TLS. Batch reads
keep polling cheap: one poll of many customers is three HubSpot or two Salesforce calls.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

SF_VERSION = "59.0"


@dataclass(frozen=True, slots=True)
class Seen:
    """One customer as the CRM shows it."""

    flag: bool
    scored_at: str | None
    task_keys: frozenset[str]
    # Whether the CRM shows a churn risk at all (customers with no purchase yet have none; a
    # complaint still raises their flag, without a risk).
    has_risk: bool = False
    # The churn risk as the CRM holds it (None: none pushed).
    risk: float | None = None


class CrmWatch(Protocol):
    """What tests, the demo and the benchmark need from a sandbox CRM."""

    def customers(self) -> list[str]: ...
    def look(self, customer_ids: Sequence[str]) -> dict[str, Seen]: ...
    def complain(self, customer_id: str, text: str) -> str: ...
    def close(self) -> None: ...


def _equals(name: str, value: str) -> dict[str, str]:
    return {"propertyName": name, "operator": "EQ", "value": value}


def _number(value: Any) -> float | None:
    """A number property as the CRM returns it (HubSpot: a string; Salesforce: a number)."""
    return None if value in (None, "") else float(value)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


class HubSpotWatch:
    """A HubSpot sandbox portal, read and written over its public API."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _batch_read(self, object_type: str, ids: list[str], props: list[str]) -> list[Any]:
        results: list[Any] = []
        for start in range(0, len(ids), 100):
            answer = self._http.post(
                f"/crm/v3/objects/{object_type}/batch/read",
                json={"properties": props, "inputs": [{"id": i} for i in ids[start : start + 100]]},
            )
            answer.raise_for_status()
            results.extend(answer.json().get("results") or [])
        return results

    def customers(self) -> list[str]:
        """Every contact id."""
        ids: list[str] = []
        after: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 100}
            if after:
                params["after"] = after
            answer = self._http.get("/crm/v3/objects/contacts", params=params)
            answer.raise_for_status()
            body = answer.json()
            ids.extend(str(r["id"]) for r in body.get("results") or [])
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if after is None:
                return ids

    def speakers(self, language: str, limit: int = 100) -> list[tuple[str, str]]:
        """(contact id, name) of up to `limit` contacts whose language is `language`."""
        answer = self._http.post(
            "/crm/v3/objects/contacts/search",
            json={
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "hs_language", "operator": "EQ", "value": language}
                        ]
                    }
                ],
                "properties": ["firstname", "lastname"],
                "limit": limit,
            },
        )
        answer.raise_for_status()
        found = []
        for row in answer.json().get("results") or []:
            props = row.get("properties") or {}
            name = f"{props.get('firstname') or ''} {props.get('lastname') or ''}".strip()
            found.append((str(row["id"]), name))
        return found

    def look(self, customer_ids: Sequence[str]) -> dict[str, Seen]:
        ids = list(customer_ids)
        contacts = self._batch_read(
            "contacts", ids, ["cem_churn_flag", "cem_scored_at", "cem_churn_risk"]
        )
        tasks_of: dict[str, list[str]] = {}
        for start in range(0, len(ids), 1000):
            answer = self._http.post(
                "/crm/v4/associations/contacts/tasks/batch/read",
                json={"inputs": [{"id": i} for i in ids[start : start + 1000]]},
            )
            for row in answer.json().get("results") or []:
                tasks_of[str(row["from"]["id"])] = [str(t["toObjectId"]) for t in row["to"]]
        all_tasks = sorted({t for tasks in tasks_of.values() for t in tasks})
        keys = {
            str(r["id"]): (r.get("properties") or {}).get("cem_task_key")
            for r in self._batch_read("tasks", all_tasks, ["cem_task_key"])
        }
        seen: dict[str, Seen] = {}
        for row in contacts:
            props = row.get("properties") or {}
            cid = str(row["id"])
            task_keys = frozenset(k for t in tasks_of.get(cid, []) if (k := keys.get(t)))
            seen[cid] = Seen(
                _truthy(props.get("cem_churn_flag")),
                props.get("cem_scored_at") or None,
                task_keys,
                props.get("cem_churn_risk") not in (None, ""),
                _number(props.get("cem_churn_risk")),
            )
        return seen

    def task(self, key: str) -> str:
        """The subject of the task with our key `key`."""
        answer = self._http.get(
            f"/crm/v3/objects/tasks/{key}",
            params={"idProperty": "cem_task_key", "properties": "hs_task_subject"},
        )
        answer.raise_for_status()
        return str((answer.json().get("properties") or {}).get("hs_task_subject") or "")

    def complain(self, customer_id: str, text: str) -> str:
        """A note on the contact holding `text` (a chat transcript, a call note); its id."""
        answer = self._http.post(
            "/crm/v3/objects/notes",
            json={
                "properties": {
                    "hs_note_body": text,
                    "hs_timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
                },
                "associations": [
                    {
                        "to": {"id": customer_id},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}
                        ],
                    }
                ],
            },
        )
        answer.raise_for_status()
        return str(answer.json()["id"])


class SalesforceWatch:
    """A Salesforce sandbox org, read and written over its REST API."""

    def __init__(self, base_url: str, session_id: str, ca_cert: str | None, timeout: float = 10.0):
        self._http = httpx.Client(
            base_url=f"{base_url.rstrip('/')}/services/data/v{SF_VERSION}",
            headers={"Authorization": f"Bearer {session_id}"},
            verify=ssl.create_default_context(cafile=ca_cert) if ca_cert else True,
            trust_env=False,  # an environment CA bundle would override the sandbox's CA
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _query(self, soql: str) -> list[dict[str, Any]]:
        answer = self._http.get("/query", params={"q": soql})
        answer.raise_for_status()
        body = answer.json()
        rows: list[dict[str, Any]] = list(body.get("records") or [])
        while body.get("nextRecordsUrl"):
            path = str(body["nextRecordsUrl"]).split(f"/v{SF_VERSION}", 1)[1]
            body = self._http.get(path).json()
            rows.extend(body.get("records") or [])
        return rows

    def customers(self) -> list[str]:
        """Every contact id."""
        return [str(r["Id"]) for r in self._query("SELECT Id FROM Contact")]

    def look(self, customer_ids: Sequence[str]) -> dict[str, Seen]:
        seen: dict[str, Seen] = {}
        for start in range(0, len(customer_ids), 200):
            # Ids the CRM itself handed out, quoted into SOQL (never text from a person).
            chunk = ", ".join(f"'{i}'" for i in customer_ids[start : start + 200])
            contacts = self._query(
                "SELECT Id, CEM_Churn_Flag__c, CEM_Scored_At__c, CEM_Churn_Risk__c FROM Contact "  # noqa: S608
                f"WHERE Id IN ({chunk})"
            )
            tasks = self._query(
                "SELECT WhoId, CEM_Task_Key__c FROM Task "  # noqa: S608
                f"WHERE WhoId IN ({chunk}) AND CEM_Task_Key__c != null"
            )
            for row in contacts:
                cid = str(row["Id"])
                keys = frozenset(str(t["CEM_Task_Key__c"]) for t in tasks if t["WhoId"] == cid)
                seen[cid] = Seen(
                    _truthy(row.get("CEM_Churn_Flag__c")),
                    row.get("CEM_Scored_At__c"),
                    keys,
                    row.get("CEM_Churn_Risk__c") is not None,
                    _number(row.get("CEM_Churn_Risk__c")),
                )
        return seen

    def complain(self, customer_id: str, text: str) -> str:
        """A logged call on the contact whose description holds `text`; its id."""
        answer = self._http.post(
            "/sobjects/Task/",
            json={
                "WhoId": customer_id,
                "Subject": "Call",
                "TaskSubtype": "Call",
                "CallType": "Inbound",
                "Status": "Completed",
                "Description": text,
                "ActivityDate": datetime.now(UTC).date().isoformat(),
            },
        )
        answer.raise_for_status()
        return str(answer.json()["id"])
