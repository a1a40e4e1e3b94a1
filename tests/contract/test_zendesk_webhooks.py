"""Zendesk events into notices (adapters/zendesk/webhooks.py): what each event asks us to
re-read, our own writes coming back ignored, bad shapes refused."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.zendesk.webhooks import decode, notices

OWN = frozenset({"cem_experience_score", "cem_churn_flag"})
TIME = "2026-12-07T10:00:00Z"


def _event(kind: str, detail: dict[str, Any], change: dict[str, Any] | None = None) -> Any:
    return {
        "id": f"evt-{kind}",
        "type": f"zen:event-type:{kind}",
        "time": TIME,
        "subject": f"zen:ticket:{detail.get('id')}",
        "detail": detail,
        "event": change or {},
    }


def _reads(payload: list[Any]) -> list[tuple[str, tuple[str, ...], bool]]:
    found, _ = notices(payload, OWN)
    return [(n.object_type, n.object_ids, n.deleted) for n in found]


def test_a_comment_rereads_the_ticket_and_its_comments() -> None:
    event = _event("ticket.comment_added", {"id": "35436", "requester_id": "20978392"})
    assert _reads([event]) == [
        ("tickets", ("35436",), False),
        ("ticket_comments", ("35436",), False),
    ]


def test_a_new_ticket_also_rereads_its_requester() -> None:
    event = _event("ticket.created", {"id": "7", "requester_id": "99"})
    assert ("users", ("99",), False) in _reads([event])


def test_a_rating_rereads_the_rating_by_id() -> None:
    change = {"satisfaction_rating": {"id": "40000123", "score": "bad"}}
    event = _event("ticket.satisfaction_rating_changed", {"id": "7"}, change)
    assert ("satisfaction_ratings", ("40000123",), False) in _reads([event])


def test_a_deleted_ticket_is_a_deletion() -> None:
    assert _reads([_event("ticket.soft_deleted", {"id": "7"})]) == [("tickets", ("7",), True)]


def test_our_own_field_and_tag_writes_are_ignored() -> None:
    ours = _event("user.custom_field_changed", {"id": "5"}, {"field": {"key": "cem_churn_flag"}})
    tags = _event("user.tags_changed", {"id": "5"}, {"tags_added": ["cem_churn_flag"]})
    theirs = _event("user.tags_changed", {"id": "5"}, {"tags_added": ["vip"]})
    found, ignored = notices([ours, tags, theirs], OWN)
    assert ignored == 2
    assert [(n.object_type, n.object_ids) for n in found] == [("users", ("5",))]


def test_ill_typed_events_are_ignored_and_bad_shapes_refused() -> None:
    found, ignored = notices([_event("ticket.created", {"id": "not-a-number"})], OWN)
    assert (found, ignored) == ([], 1)
    with pytest.raises(ValueError, match="array"):
        notices({"not": "a list"}, OWN)
    with pytest.raises(ValueError, match="one JSON event"):
        decode(b"[1, 2]")
    assert decode(b'{"id": "x"}') == [{"id": "x"}]
