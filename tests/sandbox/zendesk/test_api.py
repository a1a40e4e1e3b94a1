"""The rest of the API as Zendesk behaves: cursor and offset paging, error bodies, tag
semantics (POST sets, PUT adds, DELETE removes), update_many jobs, user fields, the generated
data linking to the CRM emulators' persons, and the ground truth."""

from __future__ import annotations

from urllib.parse import urlsplit

from sandbox.data.generate import generate
from sandbox.data.model import Person
from sandbox.zendesk.loader import user_id
from tests.sandbox.zendesk.conftest import SEED, Account, basic


def test_cursor_paging_links_are_absolute_and_page_size_is_capped(account: Account) -> None:
    first = account.http.get("/api/v2/users.json", params={"page[size]": 7}).json()
    assert len(first["users"]) == 7
    assert first["meta"]["has_more"] is True
    assert urlsplit(first["links"]["next"]).netloc == urlsplit(account.url).netloc
    second = account.http.get(first["links"]["next"]).json()
    assert second["users"][0]["id"] > first["users"][-1]["id"]
    too_big = account.http.get("/api/v2/users.json", params={"page[size]": 101})
    assert too_big.status_code == 400


def test_offset_paging_stops_at_ten_thousand_records(account: Account) -> None:
    fine = account.http.get("/api/v2/users.json", params={"page": 100, "per_page": 100})
    assert fine.status_code == 200
    assert fine.json()["count"] == len(
        [u for u in account.emu.store.users.rows.values() if u["active"]]
    )
    past = account.http.get("/api/v2/users.json", params={"page": 101, "per_page": 100})
    assert past.status_code == 400
    assert past.json()["error"] == "InvalidPaginationParameter"


def test_error_bodies_are_zendesks(account: Account) -> None:
    missing = account.http.get("/api/v2/tickets/1.json")
    assert missing.status_code == 404
    assert missing.json() == {"error": "RecordNotFound", "description": "Not found"}
    bad = account.http.post("/api/v2/user_fields.json", json={"user_field": {"key": "Bad Key"}})
    assert bad.status_code == 422
    assert bad.json()["error"] == "RecordInvalid"
    assert "key" in bad.json()["details"]
    wrong = account.http.get(
        "/api/v2/users.json", headers={"Authorization": basic("admin@cem-sandbox.example", "x")}
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "Couldn't authenticate you"}


def test_tags_post_sets_put_adds_delete_removes(account: Account) -> None:
    user = next(iter(account.emu.store.users.rows))
    path = f"/api/v2/users/{user}/tags.json"
    assert account.http.post(path, json={"tags": ["vip", "staff_note"]}).json()["tags"] == [
        "vip",
        "staff_note",
    ]
    added = account.http.put(path, json={"tags": ["cem_churn_flag"]}).json()["tags"]
    assert added == ["vip", "staff_note", "cem_churn_flag"]
    removed = account.http.request("DELETE", path, json={"tags": ["cem_churn_flag"]}).json()
    assert removed["tags"] == ["vip", "staff_note"]
    # POST replaces: every tag staff set is gone (why our writer never uses it).
    assert account.http.post(path, json={"tags": ["cem_x"]}).json()["tags"] == ["cem_x"]


def test_update_many_is_a_job_that_queues_works_and_completes(account: Account) -> None:
    field = {"user_field": {"key": "cem_score", "type": "decimal", "title": "Score"}}
    assert account.http.post("/api/v2/user_fields.json", json=field).status_code == 201
    assert account.http.post("/api/v2/user_fields.json", json=field).status_code == 422
    users = sorted(u for u, r in account.emu.store.users.rows.items() if r["role"] == "end-user")
    account.http.delete(f"/api/v2/users/{users[1]}.json")
    body = {
        "users": [
            {"id": users[0], "user_fields": {"cem_score": 7.5}},
            {"id": users[1], "user_fields": {"cem_score": 1.0}},
            {"id": users[2], "user_fields": {"not_a_field": 1}},
        ]
    }
    job = account.http.put("/api/v2/users/update_many.json", json=body).json()["job_status"]
    assert job["status"] == "queued"
    assert job["results"] is None
    seen = [job["status"]]
    while job["status"] != "completed":
        job = account.http.get(urlsplit(job["url"]).path).json()["job_status"]
        seen.append(job["status"])
    assert seen == ["queued", "working", "completed"]
    results = {r["id"]: r for r in job["results"]}
    assert results[users[0]]["success"] is True
    assert results[users[1]]["error"] == "RecordNotFound"
    assert results[users[2]]["error"] == "RecordInvalid"
    fields = account.http.get(f"/api/v2/users/{users[0]}.json").json()["user"]["user_fields"]
    assert fields["cem_score"] == 7.5


def test_users_carry_the_persons_emails_so_they_link_to_the_crm_records(account: Account) -> None:
    persons = [r for r in generate(seed=SEED, customers=40) if isinstance(r, Person)]
    for person in persons[:10]:
        user = account.http.get(f"/api/v2/users/{user_id(person.id)}.json").json()["user"]
        assert user["email"] == person.email.lower()
        assert user["role"] == "end-user"
    truth = account.admin("GET", "zendesk/truth").json()["persons"]
    assert {t["user_id"] for t in truth} == {user_id(p.id) for p in persons}


def test_tickets_hold_the_multilingual_conversation_with_internal_notes(account: Account) -> None:
    store = account.emu.store
    languages = {u["locale"] for u in store.users.rows.values() if u["role"] == "end-user"}
    assert {"vi", "zh-cn"} <= languages
    held = [t for t in store.tickets.rows.values() if t["status"] == "hold"]
    comments = account.http.get(f"/api/v2/tickets/{held[0]['id']}/comments.json").json()
    assert any(c["public"] is False for c in comments["comments"])
    assert comments["comments"][0]["author_id"] == held[0]["requester_id"]
    ratings = account.http.get("/api/v2/satisfaction_ratings.json", params={"score": "bad"})
    assert ratings.json()["satisfaction_ratings"]
    assert {r["score"] for r in ratings.json()["satisfaction_ratings"]} == {"bad"}


def test_the_read_only_view_shows_tickets_with_their_internal_notes(account: Account) -> None:
    store = account.emu.store
    held = next(t for t in store.tickets.rows.values() if t["status"] == "hold")
    listing = account.http.get("/__sandbox/view/tickets", params={"q": held["subject"]})
    assert listing.status_code == 200
    assert str(held["id"]) in listing.text
    page = account.http.get(f"/__sandbox/view/tickets/{held['id']}")
    assert page.status_code == 200
    assert "internal note" in page.text
    assert account.http.get("/__sandbox/view/tickets/424242").status_code == 404
