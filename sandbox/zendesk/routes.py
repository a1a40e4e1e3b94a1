"""The Zendesk Support API v2 routes the emulator serves (docs/zendesk.md has the facts)."""

from __future__ import annotations

import copy
import json
import re
import secrets
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from sandbox.zendesk.emulator import ZendeskEmulator
from sandbox.zendesk.errors import ZendeskError, invalid, not_found
from sandbox.zendesk.exports import cursor_export, time_export
from sandbox.zendesk.paging import paginate
from sandbox.zendesk.store import Table, iso

API = "/api/v2"
FIELD_KEY = re.compile(r"^[a-z0-9_]{1,64}$")
FIELD_TYPES = {"text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "dropdown"}
RATING_SCORES = {"good", "bad", "offered", "unoffered"}
MANY = 100  # ids per show_many / update_many


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ZendeskError(400, "InvalidJSON", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ZendeskError(400, "InvalidJSON", "The request body must be a JSON object")
    return body


def _id(text: str) -> int:
    digits = text.removesuffix(".json")
    if not digits.isdigit():
        raise not_found()
    return int(digits)


def _ids(request: Request) -> list[int]:
    raw = request.query_params.get("ids", "")
    ids = [int(p) for p in raw.split(",") if p.strip().isdigit()]
    if len(ids) > MANY:
        raise ZendeskError(400, "TooManyValues", f"ids: at most {MANY} values")
    return ids


def build_router(emu: ZendeskEmulator) -> APIRouter:
    router = APIRouter(prefix=API)
    store = emu.store

    def record(table: Table, record_id: int) -> dict[str, Any]:
        found = table.get(record_id)
        if found is None:
            raise not_found()
        return found

    def by_id(table: Table) -> list[dict[str, Any]]:
        with store.lock:
            return [copy.deepcopy(table.rows[i]) for i in sorted(table.rows)]

    # --- users -------------------------------------------------------------------------

    @router.get("/users.json")
    async def list_users(request: Request) -> dict[str, Any]:
        roles = request.query_params.getlist("role[]") or request.query_params.getlist("role")
        rows = [u for u in by_id(store.users) if u["active"] and (not roles or u["role"] in roles)]
        return paginate(request, "users", rows)

    @router.get("/users/show_many.json")
    async def show_users(request: Request) -> dict[str, Any]:
        with store.lock:
            rows = [
                copy.deepcopy(store.users.rows[i]) for i in _ids(request) if i in store.users.rows
            ]
        return {"users": rows}

    @router.get("/users/{user_id}.json")
    async def show_user(user_id: str) -> dict[str, Any]:
        with store.lock:
            return {"user": copy.deepcopy(record(store.users, _id(user_id)))}

    @router.post("/users.json", status_code=201)
    async def create_user(request: Request) -> dict[str, Any]:
        user = (await _json(request)).get("user") or {}
        if not user.get("name"):
            raise invalid("name", "Name: cannot be blank")
        email = str(user.get("email") or "").lower() or None
        now = store.now()
        with store.lock:
            if email and any(u.get("email") == email for u in store.users.rows.values()):
                raise invalid("email", f"Email: {email} is already being used by another user")
            created = {
                "id": store.next_id(),
                "name": user["name"],
                "email": email,
                "role": user.get("role", "end-user"),
                "active": True,
                "locale": user.get("locale", "en-US"),
                "organization_id": user.get("organization_id"),
                "phone": user.get("phone"),
                "external_id": user.get("external_id"),
                "tags": list(user.get("tags") or []),
                "user_fields": {},
                "created_at": iso(now),
                "updated_at": iso(now),
            }
            store.users.put(created, store.stamp())
            return {"user": copy.deepcopy(created)}

    @router.put("/users/update_many.json")
    async def update_many_users(request: Request) -> dict[str, Any]:
        users = (await _json(request)).get("users")
        if not isinstance(users, list) or not users:
            raise ZendeskError(400, "InvalidValue", "users: an array of users is required")
        if len(users) > MANY:
            raise ZendeskError(400, "TooManyValues", f"users: at most {MANY} values")
        job_id = secrets.token_hex(16)
        job = {
            "id": job_id,
            "job_type": "bulk_update_users",
            "status": "queued",
            "total": len(users),
            "progress": 0,
            "message": None,
            "results": [],
            "_work": users,
            "_polls": 0,
        }
        with store.lock:
            store.jobs[job_id] = job
        return {"job_status": _job_view(request, job)}

    def apply_user_fields(user: dict[str, Any], values: dict[str, Any]) -> None:
        unknown = sorted(k for k in values if k not in store.user_fields)
        if unknown:
            raise invalid("user_fields", f"Unknown user fields: {', '.join(unknown)}")
        user.setdefault("user_fields", {}).update(values)

    @router.put("/users/{user_id}.json")
    async def update_user(user_id: str, request: Request) -> dict[str, Any]:
        change = (await _json(request)).get("user") or {}
        with store.lock:
            user = record(store.users, _id(user_id))
            if not user["active"]:
                raise not_found()
            if "user_fields" in change:
                apply_user_fields(user, dict(change["user_fields"] or {}))
            for name in ("name", "phone", "locale", "external_id"):
                if name in change:
                    user[name] = change[name]
            store.touch(store.users, user)
            return {"user": copy.deepcopy(user)}

    @router.delete("/users/{user_id}.json")
    async def delete_user(user_id: str) -> dict[str, Any]:
        # Zendesk soft-deletes: the user stays, inactive, and shows so in the export.
        with store.lock:
            user = record(store.users, _id(user_id))
            user["active"] = False
            store.touch(store.users, user)
            return {"user": copy.deepcopy(user)}

    def run_job(job: dict[str, Any]) -> None:
        """Jobs move queued -> working -> completed over successive polls (as Zendesk's
        background workers would), applying the updates when they complete."""
        job["_polls"] += 1
        if job["status"] == "queued":
            job["status"] = "working"
            return
        if job["status"] != "working":
            return
        results = []
        for item in job["_work"]:
            uid = item.get("id")
            user = store.users.get(int(uid)) if str(uid).isdigit() else None
            if user is None or not user["active"]:
                results.append(
                    {
                        "id": uid,
                        "status": "Failed",
                        "success": False,
                        "error": "RecordNotFound",
                        "details": "Not found",
                    }
                )
                continue
            try:
                apply_user_fields(user, dict(item.get("user_fields") or {}))
            except ZendeskError as error:
                results.append(
                    {
                        "id": uid,
                        "status": "Failed",
                        "success": False,
                        "error": "RecordInvalid",
                        "details": json.dumps(error.details),
                    }
                )
                continue
            store.touch(store.users, user)
            results.append({"id": uid, "status": "Updated", "success": True})
        job["results"] = results
        job["progress"] = job["total"]
        job["status"] = "completed"
        job["message"] = f"Completed at {iso(store.now())}"

    @router.get("/job_statuses/{job_id}.json")
    async def job_status(job_id: str, request: Request) -> dict[str, Any]:
        with store.lock:
            job = store.jobs.get(job_id.removesuffix(".json"))
            if job is None:
                raise not_found()
            run_job(job)
            return {"job_status": _job_view(request, job)}

    # --- tags: POST sets, PUT adds, DELETE removes ---------------------------------------

    async def tags(table: Table, object_id: str, request: Request) -> dict[str, Any]:
        with store.lock:
            found = record(table, _id(object_id))
            if request.method != "GET":
                wanted = (await _json(request)).get("tags")
                if not isinstance(wanted, list) or not all(isinstance(t, str) for t in wanted):
                    raise ZendeskError(400, "InvalidValue", "tags: an array of strings is required")
                wanted = [t.strip().lower().replace(" ", "_") for t in wanted if t.strip()]
                have = list(found.get("tags") or [])
                if request.method == "POST":
                    have = list(dict.fromkeys(wanted))
                elif request.method == "PUT":
                    have = list(dict.fromkeys([*have, *wanted]))
                else:
                    have = [t for t in have if t not in wanted]
                found["tags"] = have
                store.touch(table, found)
            return {"tags": list(found.get("tags") or [])}

    for kind, table in (
        ("users", store.users),
        ("tickets", store.tickets),
        ("organizations", store.organizations),
    ):

        def bind(t: Table = table) -> Any:
            async def handler(object_id: str, request: Request) -> dict[str, Any]:
                return await tags(t, object_id, request)

            return handler

        router.add_api_route(
            f"/{kind}/{{object_id}}/tags.json", bind(), methods=["GET", "POST", "PUT", "DELETE"]
        )

    # --- user fields (provisioning) -----------------------------------------------------

    @router.get("/user_fields.json")
    async def list_user_fields(request: Request) -> dict[str, Any]:
        with store.lock:
            rows = [copy.deepcopy(f) for f in store.user_fields.values()]
        return paginate(request, "user_fields", sorted(rows, key=lambda f: f["id"]))

    @router.post("/user_fields.json", status_code=201)
    async def create_user_field(request: Request) -> dict[str, Any]:
        field = (await _json(request)).get("user_field") or {}
        key = str(field.get("key") or "")
        if not FIELD_KEY.match(key):
            raise invalid("key", "Key: is invalid")
        if field.get("type") not in FIELD_TYPES:
            raise invalid("type", "Type: is not included in the list")
        with store.lock:
            if key in store.user_fields:
                raise invalid("key", "Key: has already been taken")
            created = {
                "id": store.next_id(),
                "key": key,
                "type": field["type"],
                "title": field.get("title") or key,
                "description": field.get("description") or "",
                "active": True,
                "created_at": iso(store.now()),
            }
            store.user_fields[key] = created
            return {"user_field": copy.deepcopy(created)}

    # --- organizations ------------------------------------------------------------------

    @router.get("/organizations.json")
    async def list_organizations(request: Request) -> dict[str, Any]:
        rows = [o for o in by_id(store.organizations) if o.get("deleted_at") is None]
        return paginate(request, "organizations", rows)

    @router.get("/organizations/show_many.json")
    async def show_organizations(request: Request) -> dict[str, Any]:
        with store.lock:
            rows = [
                copy.deepcopy(store.organizations.rows[i])
                for i in _ids(request)
                if i in store.organizations.rows
            ]
        return {"organizations": rows}

    @router.get("/organizations/{org_id}.json")
    async def show_organization(org_id: str) -> dict[str, Any]:
        with store.lock:
            return {"organization": copy.deepcopy(record(store.organizations, _id(org_id)))}

    # --- tickets, comments, metrics ------------------------------------------------------

    def live_tickets() -> list[dict[str, Any]]:
        return [t for t in by_id(store.tickets) if t["status"] != "deleted"]

    @router.get("/tickets.json")
    async def list_tickets(request: Request) -> dict[str, Any]:
        return paginate(request, "tickets", live_tickets())

    @router.get("/tickets/show_many.json")
    async def show_tickets(request: Request) -> dict[str, Any]:
        with store.lock:
            rows = [
                copy.deepcopy(store.tickets.rows[i])
                for i in _ids(request)
                if i in store.tickets.rows and store.tickets.rows[i]["status"] != "deleted"
            ]
        return {"tickets": rows}

    @router.get("/tickets/{ticket_id}.json")
    async def show_ticket(ticket_id: str) -> dict[str, Any]:
        with store.lock:
            ticket = record(store.tickets, _id(ticket_id))
            if ticket["status"] == "deleted":
                raise not_found()
            return {"ticket": copy.deepcopy(ticket)}

    @router.post("/tickets.json", status_code=201)
    async def create_ticket(request: Request) -> dict[str, Any]:
        given = (await _json(request)).get("ticket") or {}
        comment = given.get("comment") or {}
        if not comment.get("body"):
            raise invalid("description", "Description: cannot be blank")
        requester = given.get("requester_id")
        now = store.now()
        with store.lock:
            if requester is None or store.users.get(int(requester)) is None:
                raise invalid("requester", "Requester: is invalid")
            tid = store.next_id()
            ticket = {
                "id": tid,
                "external_id": given.get("external_id"),
                "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
                "created_at": iso(now),
                "updated_at": iso(now),
                "generated_timestamp": int(now.timestamp()),
                "type": given.get("type"),
                "subject": given.get("subject"),
                "raw_subject": given.get("subject"),
                "description": comment["body"],
                "priority": given.get("priority"),
                "status": given.get("status", "new"),
                "requester_id": int(requester),
                "submitter_id": int(requester),
                "assignee_id": given.get("assignee_id"),
                "organization_id": store.users.rows[int(requester)].get("organization_id"),
                "group_id": None,
                "tags": list(given.get("tags") or []),
                "custom_fields": [],
                "fields": [],
                "satisfaction_rating": {"score": "unoffered"},
            }
            store.tickets.put(ticket, int(now.timestamp()))
            store.comments[tid] = [new_comment(tid, int(requester), comment)]
            store.metrics.put(
                {
                    "id": tid + 5_000_000,
                    "ticket_id": tid,
                    "created_at": iso(now),
                    "updated_at": iso(now),
                    "reopens": 0,
                    "replies": 0,
                    "solved_at": None,
                    "reply_time_in_minutes": {"calendar": None, "business": None},
                    "first_resolution_time_in_minutes": {"calendar": None, "business": None},
                    "full_resolution_time_in_minutes": {"calendar": None, "business": None},
                    "agent_wait_time_in_minutes": {"calendar": None, "business": None},
                    "requester_wait_time_in_minutes": {"calendar": None, "business": None},
                    "on_hold_time_in_minutes": {"calendar": 0, "business": 0},
                },
                int(now.timestamp()),
            )
            created = copy.deepcopy(ticket)
        store.emit("created", created, {"comment": store.comments[tid][0]["id"]})
        return {"ticket": created}

    def new_comment(tid: int, author: int, given: dict[str, Any]) -> dict[str, Any]:
        body = str(given.get("body") or "")
        return {
            "id": store.next_id(),
            "type": "Comment",
            "author_id": int(given.get("author_id") or author),
            "body": body,
            "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
            "plain_body": body,
            "public": bool(given.get("public", True)),
            "attachments": [],
            "audit_id": store.next_id(),
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": iso(store.now()),
        }

    @router.put("/tickets/{ticket_id}.json")
    async def update_ticket(ticket_id: str, request: Request) -> dict[str, Any]:
        change = (await _json(request)).get("ticket") or {}
        event: dict[str, Any] | None = None
        with store.lock:
            ticket = record(store.tickets, _id(ticket_id))
            if ticket["status"] == "deleted":
                raise not_found()
            for name in ("status", "priority", "subject", "assignee_id"):
                if name in change:
                    ticket[name] = change[name]
            if isinstance(change.get("comment"), dict):
                # Without an author_id, Zendesk credits the comment to the API's user: staff.
                author = ticket.get("assignee_id") or ticket["requester_id"]
                comment = new_comment(ticket["id"], author, change["comment"])
                store.comments.setdefault(ticket["id"], []).append(comment)
                event = {
                    "comment": {
                        "id": str(comment["id"]),
                        "author": {"id": str(comment["author_id"])},
                        "is_public": comment["public"],
                    }
                }
            store.touch(store.tickets, ticket)
            updated = copy.deepcopy(ticket)
        if event is not None:
            store.emit("comment_added", updated, event)
        return {"ticket": updated}

    @router.delete("/tickets/{ticket_id}.json", status_code=204)
    async def delete_ticket(ticket_id: str) -> None:
        with store.lock:
            ticket = record(store.tickets, _id(ticket_id))
            ticket["status"] = "deleted"
            store.touch(store.tickets, ticket)

    @router.get("/tickets/{ticket_id}/comments.json")
    async def list_comments(ticket_id: str, request: Request) -> dict[str, Any]:
        with store.lock:
            ticket = record(store.tickets, _id(ticket_id))
            if ticket["status"] == "deleted":
                raise not_found()
            rows = sorted(
                (copy.deepcopy(c) for c in store.comments.get(ticket["id"], [])),
                key=lambda c: c["id"],
            )
        return paginate(request, "comments", rows)

    @router.get("/tickets/{ticket_id}/metrics.json")
    async def ticket_metrics(ticket_id: str) -> dict[str, Any]:
        with store.lock:
            tid = _id(ticket_id)
            record(store.tickets, tid)
            found = next((m for m in store.metrics.rows.values() if m["ticket_id"] == tid), None)
            if found is None:
                raise not_found()
            return {"ticket_metric": copy.deepcopy(found)}

    # --- satisfaction ratings ------------------------------------------------------------

    @router.get("/satisfaction_ratings.json")
    async def list_ratings(request: Request) -> dict[str, Any]:
        query = request.query_params
        score = query.get("score", "received")
        base, _, comment = score.partition("_with")
        start = query.get("start_time")
        end = query.get("end_time")
        rows = []
        for rating in by_id(store.ratings):
            if base == "received" and rating["score"] not in ("good", "bad"):
                continue
            if base in ("good", "bad", "offered", "unoffered") and rating["score"] != base:
                continue
            if comment == "_comment" and not rating.get("comment"):
                continue
            if comment == "out_comment" and rating.get("comment"):
                continue
            stamp = store.ratings.stamps[int(rating["id"])]
            if start is not None and start.isdigit() and stamp < int(start):
                continue
            if end is not None and end.isdigit() and stamp > int(end):
                continue
            rows.append(rating)
        return paginate(request, "satisfaction_ratings", rows)

    @router.get("/satisfaction_ratings/{rating_id}.json")
    async def show_rating(rating_id: str) -> dict[str, Any]:
        with store.lock:
            return {"satisfaction_rating": copy.deepcopy(record(store.ratings, _id(rating_id)))}

    @router.post("/tickets/{ticket_id}/satisfaction_rating.json")
    async def rate_ticket(ticket_id: str, request: Request) -> dict[str, Any]:
        given = (await _json(request)).get("satisfaction_rating") or {}
        if given.get("score") not in RATING_SCORES:
            raise invalid("score", "Score: is not included in the list")
        now = store.now()
        with store.lock:
            ticket = record(store.tickets, _id(ticket_id))
            current = ticket.get("satisfaction_rating") or {}
            rid = current.get("id") or store.next_id()
            rating = {
                "id": rid,
                "ticket_id": ticket["id"],
                "requester_id": ticket["requester_id"],
                "assignee_id": ticket["assignee_id"],
                "group_id": ticket.get("group_id"),
                "score": given["score"],
                "comment": given.get("comment"),
                "reason": given.get("reason"),
                "reason_id": None,
                "reason_code": None,
                "created_at": iso(now),
                "updated_at": iso(now),
            }
            store.ratings.put(rating, int(now.timestamp()))
            ticket["satisfaction_rating"] = {
                "id": rid,
                "score": rating["score"],
                "comment": rating["comment"],
            }
            store.touch(store.tickets, ticket)
            updated = copy.deepcopy(ticket)
        store.emit(
            "rating",
            updated,
            {"satisfaction_rating": {"id": str(rid), "score": rating["score"]}},
        )
        return {"satisfaction_rating": copy.deepcopy(rating)}

    # --- incremental exports -------------------------------------------------------------

    @router.get("/incremental/tickets/cursor.json")
    async def export_tickets(request: Request) -> dict[str, Any]:
        body = cursor_export(request, store, emu.exports, store.tickets, "tickets")
        includes = request.query_params.get("include", "").split(",")
        if "metric_sets" in includes:
            ids = {t["id"] for t in body["tickets"]}
            with store.lock:
                body["metric_sets"] = [
                    copy.deepcopy(m) for m in store.metrics.rows.values() if m["ticket_id"] in ids
                ]
        return body

    @router.get("/incremental/users/cursor.json")
    async def export_users(request: Request) -> dict[str, Any]:
        return cursor_export(request, store, emu.exports, store.users, "users")

    @router.get("/incremental/organizations.json")
    async def export_organizations(request: Request) -> dict[str, Any]:
        return time_export(request, store, emu.exports, store.organizations, "organizations")

    # --- webhooks --------------------------------------------------------------------

    @router.post("/webhooks", status_code=201)
    async def create_webhook(request: Request) -> dict[str, Any]:
        hook = (await _json(request)).get("webhook") or {}
        for name in ("name", "endpoint", "http_method", "request_format", "status"):
            if not hook.get(name):
                raise invalid(name, f"{name}: cannot be blank")
        subscriptions = list(hook.get("subscriptions") or [])
        events = [s for s in subscriptions if s.startswith("zen:event-type:")]
        if events and (hook["http_method"] != "POST" or hook["request_format"] != "json"):
            raise invalid("subscriptions", "Event subscriptions need POST and json")
        webhook_id = "01" + secrets.token_hex(12).upper()
        created = {
            "id": webhook_id,
            "name": hook["name"],
            "status": hook["status"],
            "endpoint": hook["endpoint"],
            "http_method": hook["http_method"],
            "request_format": hook["request_format"],
            "subscriptions": subscriptions,
            "created_at": iso(store.now()),
        }
        with store.lock:
            store.webhooks[webhook_id] = created
        emu.webhooks.configure(target_url=hook["endpoint"])
        return {"webhook": copy.deepcopy(created)}

    @router.get("/webhooks/{webhook_id}")
    async def show_webhook(webhook_id: str) -> dict[str, Any]:
        with store.lock:
            hook = store.webhooks.get(webhook_id)
            if hook is None:
                raise not_found()
            return {"webhook": copy.deepcopy(hook)}

    @router.get("/webhooks/{webhook_id}/signing_secret")
    async def signing_secret(webhook_id: str) -> dict[str, Any]:
        with store.lock:
            if webhook_id not in store.webhooks:
                raise not_found()
        secret = emu.webhooks.settings.signing_secret.get_secret_value()
        return {"signing_secret": {"algorithm": "SHA256", "secret": secret}}

    return router


def _job_view(request: Request, job: dict[str, Any]) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    view = {k: v for k, v in job.items() if not k.startswith("_")}
    view["url"] = f"{base}{API}/job_statuses/{job['id']}.json"
    if job["status"] != "completed":
        view["results"] = None
    return view
