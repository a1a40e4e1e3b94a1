"""Next-best-action: shipped playbooks, conditions, ranking, cooldown, contact limits, languages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.domain import (
    Account,
    ChurnFlag,
    ChurnModelKind,
    ChurnSegment,
    Customer,
    Owner,
    TaskPriority,
    task_key,
)
from service.scoring.actions.conditions import Group, Leaf
from service.scoring.actions.engine import PastTask, expected_value, plan_actions
from service.scoring.actions.playbooks import SHIPPED_LANGUAGES, default_playbooks, parse_playbooks
from service.scoring.actions.signals import customer_signals
from service.scoring.actions.templates import placeholders, render
from tests.unit.scoring.builders import AS_OF, message, open_case, purchase, survey

ANNA = Owner(id="u1", name="Anna", language="et")
LINH = Owner(id="u2", name="Linh", language="vi")


def _flag(
    p: float,
    *,
    flagged: bool,
    segment: ChurnSegment = ChurnSegment.REPEAT,
    p_alive: float | None = 0.4,
) -> ChurnFlag:
    return ChurnFlag(
        customer_id="c1",
        as_of=AS_OF,
        horizon_days=90,
        probability=p,
        model=ChurnModelKind.BG_NBD,
        segment=segment,
        flagged=flagged,
        threshold=0.5,
        p_alive=p_alive,
        scoring_version="t",
    )


def test_shipped_playbooks_cover_the_required_situations_in_four_languages() -> None:
    book = default_playbooks()
    assert {p.id for p in book.playbooks} == {
        "detractor_call",
        "delivery_apology",
        "quality_fix",
        "service_recovery",
        "wait_time_callback",
        "billing_check",
        "refund_followup",
        "app_issue_followup",
        "price_concern",
        "complaint_callback",
        "promoter_review",
        "high_value_retention",
        "case_escalation",
        "going_quiet_checkin",
    }
    for p in book.playbooks:
        assert set(p.then.templates) == set(SHIPPED_LANGUAGES), p.id
        # Every language uses the same placeholders as English: no value lost in translation.
        en = p.then.templates["en"]
        for lang, t in p.then.templates.items():
            for field in ("subject", "body", "why"):
                assert placeholders(getattr(t, field)) <= placeholders(getattr(en, field)) | {
                    "customer_name"
                }, (p.id, lang, field)
                assert placeholders(getattr(en, field)) <= placeholders(getattr(t, field)), (
                    p.id,
                    lang,
                    field,
                )


def test_detractor_gets_a_call_within_48_hours_in_the_owners_language() -> None:
    customer = Customer(id="c1", display_name="Mai", owner_id="u2")
    signals = customer_signals(customer, AS_OF, surveys=[survey(3, days=2)], customer_value=400)
    plan = plan_actions(customer, signals, AS_OF, owners={"u2": LINH})
    assert [t.playbook for t in plan.tasks] == ["detractor_call"]
    task = plan.tasks[0]
    assert task.due_at == AS_OF + timedelta(hours=48)
    assert task.priority is TaskPriority.HIGH
    assert task.owner_id == "u2"
    assert task.language == "vi"
    assert task.subject == "Gọi cho Mai về điểm NPS 3"
    assert "cách đây 2 ngày" in task.body
    assert task.why.startswith("Khách hàng không hài lòng (NPS 3)")
    assert task.idempotency_key == task_key("c1", "detractor_call", task.reason)
    assert task.expected_value == pytest.approx(0.15 * 400 - 15)


def test_delivery_complaints_get_an_apology_and_free_shipping() -> None:
    customer = Customer(id="c1", display_name="Kai", owner_id="u1")
    msgs = [
        message(-0.7, days=3, aspects=("delivery",)),
        message(-0.5, days=10, aspects=("delivery", "price")),
    ]
    signals = customer_signals(customer, AS_OF, interactions=msgs, customer_value=200)
    assert signals["negative_aspect_30d.delivery"] == 2
    plan = plan_actions(customer, signals, AS_OF, owners={"u1": ANNA})
    task = next(t for t in plan.tasks if t.playbook == "delivery_apology")
    assert task.language == "et"
    assert "tasuta saatmist" in task.subject
    assert "2 korda" in task.body


def test_overdue_case_is_escalated_to_the_account_owner_or_a_queue() -> None:
    customer = Customer(id="c1", display_name="Bo", account_id="a1", owner_id="u2")
    case = open_case(6).model_copy(update={"subject": "Refund missing"})
    signals = customer_signals(customer, AS_OF, cases=[case], customer_value=100)
    assert signals["case_overdue_hours"] == 6 * 24 - 72
    with_account = plan_actions(
        customer, signals, AS_OF, account=Account(id="a1", owner_id="u1"), owners={"u1": ANNA}
    )
    task = next(t for t in with_account.tasks if t.playbook == "case_escalation")
    assert (task.owner_id, task.language, task.priority) == ("u1", "et", TaskPriority.URGENT)
    assert task.reason == f"case:{case.id}"
    no_account = plan_actions(customer, signals, AS_OF)
    task = next(t for t in no_account.tasks if t.playbook == "case_escalation")
    assert (task.owner_id, task.language) == ("queue:support-leads", "en")
    assert task.subject == "Escalate overdue case for Bo: Refund missing"


def test_promoter_review_and_retention_and_going_quiet() -> None:
    customer = Customer(id="c1", display_name="Zoe")
    promoter = customer_signals(customer, AS_OF, surveys=[survey(10, days=5)], customer_value=50)
    assert [t.playbook for t in plan_actions(customer, promoter, AS_OF).tasks] == [
        "promoter_review"
    ]
    buys = [purchase(300), purchase(280), purchase(260), purchase(240)]
    risky = customer_signals(
        customer, AS_OF, flag=_flag(0.8, flagged=True), transactions=buys, customer_value=5000
    )
    plan = plan_actions(customer, risky, AS_OF)
    # Retention (0.25 x 5000 x 0.8 - 50 = 950) outranks the check-in (0.06 x 5000 x 0.8 - 4).
    assert [t.playbook for t in plan.tasks] == ["high_value_retention", "going_quiet_checkin"]
    assert plan.tasks[0].expected_value == pytest.approx(950.0)
    assert "80% chance" in plan.tasks[0].body
    # Repeats every 20 days (~3 weeks); the last purchase was 240 days (34 weeks) ago.
    assert plan.tasks[1].body.startswith("Zoe usually buys every 3 weeks")
    assert "34 weeks ago" in plan.tasks[1].body


def test_cooldown_duplicates_and_contact_limit() -> None:
    customer = Customer(id="c1", display_name="Zoe")
    buys = [purchase(300), purchase(280), purchase(260), purchase(240)]
    signals = customer_signals(
        customer,
        AS_OF,
        flag=_flag(0.8, flagged=True),
        transactions=buys,
        surveys=[survey(2, days=1)],
        customer_value=5000,
    )
    first = plan_actions(customer, signals, AS_OF)
    assert len(first.tasks) == 2  # three matched; the contact policy allows 2 per 30 days
    assert any("contact limit" in s.why for s in first.skipped)
    history = [
        PastTask(
            customer_id="c1",
            playbook=t.playbook,
            reason=t.reason,
            created_at=AS_OF - timedelta(days=1),
        )
        for t in first.tasks
    ]
    again = plan_actions(customer, signals, AS_OF, history=history)
    assert again.tasks == ()
    reasons = {s.playbook: s.why for s in again.skipped}
    assert all(reasons[t.playbook].startswith("already created") for t in first.tasks)


def test_measured_uplift_replaces_the_prior_in_ranking() -> None:
    book = default_playbooks()
    signals = {"customer_value": 1000.0, "churn_probability": 0.5}
    p = book.by_id("going_quiet_checkin")
    assert expected_value(p, signals) == pytest.approx(0.06 * 1000 * 0.5 - 4)
    assert expected_value(p, signals, uplift=0.5) == pytest.approx(246.0)


def test_conditions_and_templates() -> None:
    g = Group.model_validate(
        {
            "any": [
                {"signal": "a", "op": "in", "value": ["x", "y"]},
                {"not": {"signal": "b", "op": "present"}},
            ]
        }
    )
    assert g.holds({"a": "x", "b": 1})
    assert g.holds({"a": "z"})
    assert not g.holds({"a": "z", "b": 1})
    assert not Leaf(signal="n", op=">", value=3).holds({"n": "text"})
    with pytest.raises(ValueError, match="needs a list"):
        Leaf(signal="a", op="in", value=3)
    assert render("{a} {b.c} {missing} {x.__class__}", {"a": 1.0, "b.c": "ok"}) == "1 ok ? ?"


def test_playbook_errors_are_clear() -> None:
    bad_owner = """
playbooks:
  - id: x
    when: {all: [{signal: last_nps, op: "<=", value: 6}]}
    reason: r
    value: {uplift: 0.1}
    then: {owner: [boss], due_in_hours: 1, templates: {en: {subject: s, body: b, why: w}}}
"""
    with pytest.raises(ValueError, match="owner rule 'boss'"):
        parse_playbooks(bad_owner, source="p.yaml")
    unknown = bad_owner.replace("[boss]", "[customer_owner]").replace(
        "subject: s", "subject: '{nope}'"
    )
    with pytest.raises(ValueError, match=r"x/en/subject: unknown placeholder \{nope\}"):
        parse_playbooks(unknown, source="p.yaml")
    no_english = bad_owner.replace("[boss]", "[customer_owner]").replace("{en:", "{vi:")
    with pytest.raises(ValueError, match="at least 'en'"):
        parse_playbooks(no_english, source="p.yaml")
