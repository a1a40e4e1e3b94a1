"""Incremental exports as Zendesk answers them: cursor then end_of_stream, absolute after_url,
the last minute left out, a too-recent start_time refused, deleted tickets, side-loaded metric
sets, and the time-based organization export's duplicates at page edges."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.sandbox.zendesk.conftest import Account

USERS = "/api/v2/incremental/users/cursor.json"
TICKETS = "/api/v2/incremental/tickets/cursor.json"


def _drain(account: Account, first: dict[str, object]) -> tuple[list[dict[str, object]], str]:
    answer = account.http.get(USERS, params=first).json()
    rows = list(answer["users"])
    while not answer["end_of_stream"]:
        after = answer["after_url"]
        assert urlsplit(after).netloc == urlsplit(account.url).netloc  # the emulator's origin
        answer = account.http.get(after).json()
        rows.extend(answer["users"])
    return rows, answer["after_cursor"]


def test_cursor_export_pages_to_end_of_stream_then_resumes_from_its_cursor(
    account: Account,
) -> None:
    rows, cursor = _drain(account, {"start_time": 0, "per_page": 15})
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == len(account.emu.store.users.rows)
    # A change made now is left out for a minute, then comes after the saved cursor alone.
    user = rows[3]["id"]
    changed = account.http.put(f"/api/v2/users/{user}.json", json={"user": {"phone": "+1"}})
    assert changed.status_code == 200
    later = account.http.get(USERS, params={"cursor": cursor}).json()
    assert later["users"] == []
    assert later["end_of_stream"] is True
    account.admin("POST", "clock", json={"advance": 61})
    later = account.http.get(USERS, params={"cursor": cursor}).json()
    assert [u["id"] for u in later["users"]] == [user]


def test_a_too_recent_start_time_is_a_422_and_the_floor_is_configurable(account: Account) -> None:
    now = int(account.emu.store.now().timestamp())
    answer = account.http.get(USERS, params={"start_time": now - 30})
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "InvalidValue",
        "description": "Too recent start_time. Use a start_time older than 1 minute",
    }
    assert account.http.get(USERS, params={"start_time": now - 90}).status_code == 200
    settings = {"exports": {"exclude_last_seconds": 60, "too_recent_seconds": 300}}
    assert account.admin("PUT", "zendesk/settings", json=settings).status_code == 200
    answer = account.http.get(USERS, params={"start_time": now - 90})
    assert answer.status_code == 422
    assert "older than 5 minutes" in answer.json()["description"]


def test_ticket_export_carries_deleted_tickets_and_metric_sets(account: Account) -> None:
    first = account.http.get(TICKETS, params={"start_time": 0, "include": "metric_sets"}).json()
    tickets = first["tickets"]
    assert {m["ticket_id"] for m in first["metric_sets"]} == {t["id"] for t in tickets}
    gone = tickets[0]["id"]
    assert account.http.delete(f"/api/v2/tickets/{gone}.json").status_code == 204
    assert account.http.get(f"/api/v2/tickets/{gone}.json").status_code == 404
    account.admin("POST", "clock", json={"advance": 61})
    later = account.http.get(TICKETS, params={"cursor": first["after_cursor"]}).json()
    assert [(t["id"], t["status"]) for t in later["tickets"]] == [(gone, "deleted")]


def test_organization_export_repeats_the_edge_stamp_on_the_next_page(account: Account) -> None:
    store = account.emu.store
    ordered = store.organizations.ordered()
    # Two organizations sharing one stamp across a page boundary of one.
    stamp, _first_id = ordered[0]
    store.organizations.stamps[ordered[1][1]] = stamp
    path = "/api/v2/incremental/organizations.json"
    page = account.http.get(path, params={"start_time": stamp, "per_page": 1}).json()
    assert page["count"] == 1
    assert page["end_time"] == stamp
    assert page["end_of_stream"] is False
    following = account.http.get(page["next_page"]).json()
    # start_time = end_time: the edge's records come again (Zendesk's documented duplicates).
    assert following["organizations"][0]["id"] == page["organizations"][0]["id"]


def test_the_incremental_limit_is_ten_a_minute_with_retry_after(account: Account) -> None:
    answers = [account.http.get(USERS, params={"start_time": 0}) for _ in range(11)]
    assert [a.status_code for a in answers[:10]] == [200] * 10
    refused = answers[10]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"].isdigit()
    assert int(refused.headers["Retry-After"]) <= 60
    # Other endpoints still answer: the account's own limit is not spent.
    other = account.http.get("/api/v2/users.json", params={"page[size]": 1})
    assert other.status_code == 200
    assert int(other.headers["X-Rate-Limit"]) == 700
    assert int(other.headers["X-Rate-Limit-Remaining"]) < 700
    account.admin("POST", "clock", json={"advance": 61})
    assert account.http.get(USERS, params={"start_time": 0}).status_code == 200


def test_the_account_limit_states_its_window_and_refuses_past_it(account: Account) -> None:
    limits = {"rate_limits": {"enabled": True, "per_minute": 3, "incremental_per_minute": 10}}
    account.admin("PUT", "zendesk/settings", json=limits)
    answers = [account.http.get("/api/v2/users.json") for _ in range(4)]
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert answers[3].status_code == 429
    assert answers[3].headers["content-type"].startswith("text/plain")
