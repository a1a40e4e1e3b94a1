"""Pushing to Zendesk: our user fields through update_many jobs, optional flag tags, setup.

- Fields: `PUT /users/update_many.json` with up to 100 `{id, user_fields}` a call (a background
  job), polled at `GET /job_statuses/{id}.json` until it completes; a job's `results` name the
  users it could not update, which are reported (RecordNotFound: gone). Our external id is a
  user field of its own (`cem_external_id`), never Zendesk's `external_id`, which other
  integrations may own. Writing the same values again changes nothing: idempotent.
- Flag tags (setting `flag_tags`): a boolean push field that is true adds the tag
  `cem_<field>` with PUT (which adds), false or erased removes it with DELETE (which removes);
  never POST, which would replace every tag staff set.
- Tasks: Zendesk has none (docs/zendesk.md says where a follow-up goes instead).
- `provision`: the user fields the push mapping names, created with `POST /user_fields.json`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.mapping import FieldMap, MappingSet
from adapters.pushing import PushMappings
from adapters.zendesk.client import ZendeskClient
from adapters.zendesk.errors import GONE_CODES
from service.domain import ActionTask
from service.ports import (
    CrmNotFoundError,
    CrmRejectedError,
    CrmUnavailableError,
    FieldUpdate,
    FieldValue,
    ProvisionReport,
    WriteReport,
)

BATCH = 100  # users per update_many job
TAG_PREFIX = "cem_"
# user field type per mapping type; Zendesk's date fields hold no time, so instants are text.
_FIELD_TYPES = {
    "number": "decimal",
    "integer": "integer",
    "boolean": "checkbox",
    "date": "date",
    "text": "textarea",
}


def _wire(value: FieldValue) -> Any:
    """A user field value as Zendesk takes it (None clears the field)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _field(field: FieldMap) -> dict[str, Any]:
    return {
        "key": field.crm,
        "type": _FIELD_TYPES.get(field.type, "text"),
        "title": field.label or field.crm.replace("_", " "),
        "description": "Written by cem-bridge; do not edit.",
    }


class ZendeskWriter:
    """`CrmWriter` for one Zendesk account."""

    def __init__(
        self,
        client: ZendeskClient,
        mappings: MappingSet,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = client.name
        self.client = client
        self._push = PushMappings("zendesk", "Zendesk", client.name, mappings)
        self.pushable = self._push.objects
        self._sleep = sleep

    # --- fields -------------------------------------------------------------------------

    def _job(
        self, users: list[dict[str, Any]], keys: dict[str, str]
    ) -> tuple[list[str], list[CrmRejectedError]]:
        """One update_many job (≤ 100 users), waited for: our keys written, and refusals."""
        started = self.client.send("PUT", "/users/update_many.json", {"users": users})
        job = started.get("job_status") or {}
        waited, pause = 0.0, 0.1
        deadline = self.client.settings.job_timeout_seconds
        while job.get("status") in ("queued", "working"):
            if waited >= deadline:
                raise CrmUnavailableError(
                    f"a Zendesk update job did not complete in {deadline:.0f} s; retried later",
                    connection=self.connection,
                )
            self._sleep(pause)
            waited += pause
            pause = min(pause * 2, 2.0)
            job = self.client.get(f"/job_statuses/{job['id']}.json").get("job_status") or {}
        if job.get("status") != "completed":
            message = str(job.get("message") or "the job failed")
            return [], [
                CrmRejectedError(
                    f"Zendesk refused {crm_id}: {message}",
                    record_id=key,
                    code="JobFailed",
                    connection=self.connection,
                )
                for crm_id, key in keys.items()
            ]
        refused: list[CrmRejectedError] = []
        for result in job.get("results") or []:
            if result.get("success", True) and not result.get("error"):
                continue
            crm_id = str(result.get("id"))
            code = str(result.get("error") or "Failed")
            refused.append(
                CrmRejectedError(
                    f"Zendesk refused {crm_id}: {code}",
                    record_id=keys.get(crm_id, crm_id),
                    code=code,
                    connection=self.connection,
                    gone=code in GONE_CODES,
                )
            )
        bad = {r.record_id for r in refused}
        return [k for k in keys.values() if k not in bad], refused

    def _one(
        self, user: dict[str, Any], keys: dict[str, str]
    ) -> tuple[list[str], list[CrmRejectedError]]:
        """One user by `PUT /users/{id}.json` (synchronous): our key written, or refused as gone
        (a 422 here is the call's, as the error table says: a field the account refuses)."""
        crm_id = str(user["id"])
        try:
            self.client.send(
                "PUT", f"/users/{crm_id}.json", {"user": {"user_fields": user["user_fields"]}}
            )
        except CrmNotFoundError:
            gone = CrmRejectedError(
                f"Zendesk refused {crm_id}: RecordNotFound",
                record_id=keys[crm_id],
                code="RecordNotFound",
                connection=self.connection,
                gone=True,
            )
            return [], [gone]
        return [keys[crm_id]], []

    def _tags(self, crm_id: str, add: list[str], remove: list[str]) -> int:
        """Our flag tags on one user: PUT adds, DELETE removes (never POST). Calls made."""
        calls = 0
        if add:
            self.client.send("PUT", f"/users/{crm_id}/tags.json", {"tags": add})
            calls += 1
        if remove:
            self.client.send("DELETE", f"/users/{crm_id}/tags.json", {"tags": remove})
            calls += 1
        return calls

    def upsert_fields(self, updates: Sequence[FieldUpdate]) -> WriteReport:
        written: list[str] = []
        rejected: list[CrmRejectedError] = []
        calls = 0
        by_object, refused = self._push.group(updates)
        rejected.extend(refused)
        for crm_object, items in by_object.items():
            mapping = self._push.get(crm_object)
            names = {f.canonical: f.crm for f in mapping.fields}
            flags = {f.canonical for f in mapping.fields if f.type == "boolean"}
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                users = [
                    {
                        "id": int(str(u.crm_id)),
                        "user_fields": {
                            mapping.external_id_field or "": u.external_id,
                            **{names[k]: _wire(v) for k, v in u.fields.items() if k in names},
                        },
                    }
                    for u in chunk
                ]
                keys = {str(u.crm_id): u.external_id for u in chunk}
                # One user (a webhook's real-time push): the plain update answers at once,
                # where a job adds its polls before the person's other systems hear of it.
                done, bad = self._one(users[0], keys) if len(users) == 1 else self._job(users, keys)
                calls += 1
                written.extend(done)
                rejected.extend(bad)
                if self.client.settings.flag_tags:
                    for u in chunk:
                        if u.external_id not in done:
                            continue
                        set_flags = [k for k in flags if k in u.fields]
                        add = [
                            TAG_PREFIX + names[k].removeprefix(TAG_PREFIX)
                            for k in set_flags
                            if u.fields[k]
                        ]
                        remove = [
                            TAG_PREFIX + names[k].removeprefix(TAG_PREFIX)
                            for k in set_flags
                            if not u.fields[k]
                        ]
                        calls += self._tags(str(u.crm_id), add, remove)
        return WriteReport(written=tuple(written), rejected=tuple(rejected), calls=calls)

    def clear_fields(self, crm_object: str, crm_ids: Sequence[str]) -> WriteReport:
        mapping = self._push.get(crm_object)
        empty: dict[str, Any] = {f.crm: None for f in mapping.fields}
        if mapping.external_id_field:
            empty[mapping.external_id_field] = None
        tags = [
            TAG_PREFIX + f.crm.removeprefix(TAG_PREFIX)
            for f in mapping.fields
            if f.type == "boolean"
        ]
        written: list[str] = []
        rejected: list[CrmRejectedError] = []
        calls = 0
        for start in range(0, len(crm_ids), BATCH):
            chunk = [str(i) for i in crm_ids[start : start + BATCH]]
            users = [{"id": int(i), "user_fields": dict(empty)} for i in chunk if i.isdigit()]
            done, bad = self._job(users, {i: i for i in chunk})
            calls += 1
            written.extend(done)
            rejected.extend(bad)
            if self.client.settings.flag_tags and tags:
                for crm_id in done:
                    calls += self._tags(crm_id, [], tags)
        return WriteReport(written=tuple(written), rejected=tuple(rejected), calls=calls)

    def create_tasks(self, tasks: Sequence[ActionTask]) -> WriteReport:
        return WriteReport()  # Zendesk has no tasks (Capabilities.tasks is False)

    def close_tasks(self, idempotency_keys: Sequence[str]) -> WriteReport:
        return WriteReport()

    # --- provisioning ------------------------------------------------------------------

    def _existing_fields(self) -> set[str]:
        keys: set[str] = set()
        page = self.client.get("/user_fields.json", {"page[size]": 100})
        while True:
            keys.update(str(f.get("key")) for f in page.get("user_fields") or [])
            link = (page.get("links") or {}).get("next")
            if not (page.get("meta") or {}).get("has_more") or not link:
                return keys
            page = self.client.follow(str(link))

    def _wanted(self) -> list[dict[str, Any]]:
        wanted: list[dict[str, Any]] = []
        for mapping in self._push:
            wanted.extend(_field(f) for f in mapping.fields)
            if mapping.external_id_field:
                wanted.append(
                    {
                        "key": mapping.external_id_field,
                        "type": "text",
                        "title": "CEM external id",
                        "description": "Written by cem-bridge; do not edit.",
                    }
                )
        return list({f["key"]: f for f in wanted}.values())

    def provision(self, *, dry_run: bool) -> ProvisionReport:
        have = self._existing_fields()
        existing: list[str] = []
        created: list[str] = []
        for field in self._wanted():
            name = f"users.{field['key']}"
            if field["key"] in have:
                existing.append(name)
                continue
            created.append(name)
            if not dry_run:
                self.client.send("POST", "/user_fields.json", {"user_field": field})
        return ProvisionReport(existing=tuple(existing), created=tuple(created), dry_run=dry_run)
