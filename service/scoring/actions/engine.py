"""Choose, rank and write next-best-action tasks for one customer.

1. every playbook whose `when` holds is a candidate;
2. candidates in cooldown (same playbook for this customer within `cooldown_days`) or
   already created for the same reason are skipped, and the skip is reported;
3. the rest are ranked by expected value = uplift x value (x risk) - cost, with a measured
   uplift replacing the playbook's prior when one is given;
4. the contact policy keeps only as many as the customer may still be asked this period;
5. each kept task is rendered in the owner's language (fallback English) with its why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from pydantic import Field

from service.domain import Account, ActionTask, Customer, DomainModel, Owner
from service.domain.base import AwareDatetime
from service.domain.locales import language_of_locale
from service.scoring.actions.conditions import Signal
from service.scoring.actions.playbooks import Playbook, PlaybookSet, default_playbooks
from service.scoring.actions.templates import render
from service.scoring.caching import per_object
from service.scoring.version import SCORING_VERSION


class PastTask(DomainModel):
    """A task created earlier for a customer (from the task ledger)."""

    customer_id: str
    playbook: str
    reason: str
    created_at: AwareDatetime


class Skipped(DomainModel):
    """A playbook that matched but produced no task, and why not."""

    playbook: str
    why: str


class ActionPlan(DomainModel):
    """The tasks to create for one customer, best first, and the candidates left out."""

    customer_id: str
    tasks: tuple[ActionTask, ...]
    skipped: tuple[Skipped, ...] = ()
    signals_used: dict[str, Signal] = Field(default_factory=dict)


def expected_value(
    playbook: Playbook, signals: Mapping[str, Signal], uplift: float | None = None
) -> float:
    """uplift x value (x risk) - cost; a missing value or risk counts as 0 / 1."""
    v = playbook.value
    value = signals.get(v.value_signal)
    risk = signals.get(v.risk_signal) if v.risk_signal else 1.0
    value_f = (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    )
    risk_f = float(risk) if isinstance(risk, int | float) and not isinstance(risk, bool) else 1.0
    return (v.uplift if uplift is None else uplift) * value_f * risk_f - v.cost


def _owner(
    playbook: Playbook,
    customer: Customer,
    account: Account | None,
    owners: Mapping[str, Owner],
) -> tuple[str | None, str]:
    """(owner id or queue, staff language) from the first owner rule that resolves."""
    for rule in playbook.then.owner:
        candidate: str | None = None
        if rule == "customer_owner":
            candidate = customer.owner_id
        elif rule == "account_owner":
            candidate = account.owner_id if account else None
        elif rule.startswith("user:"):
            candidate = rule.removeprefix("user:")
        else:
            return rule, "en"
        if candidate:
            owner = owners.get(candidate)
            if owner is None or owner.active:
                # Owners are normalised on the way in; an Owner built by hand may still carry a
                # CRM locale ("zh_CN"), which must not fall back to English.
                return candidate, language_of_locale(owner.language if owner else None) or "en"
    return None, "en"


def plan_actions(
    customer: Customer,
    signals: Mapping[str, Signal],
    as_of: datetime,
    *,
    account: Account | None = None,
    owners: Mapping[str, Owner] | None = None,
    history: Sequence[PastTask] = (),
    playbooks: PlaybookSet | None = None,
    measured_uplift: Mapping[str, float] | None = None,
) -> ActionPlan:
    """The next best actions for one customer at `as_of`, ranked and explained."""
    book = playbooks or default_playbooks()
    owners = owners or {}
    measured_uplift = measured_uplift or {}
    mine = [h for h in history if h.customer_id == customer.id and h.created_at <= as_of]
    skipped: list[Skipped] = []
    ranked: list[tuple[float, Playbook, str]] = []
    for p in book.playbooks:
        if not p.when.holds(signals):
            continue
        reason = render(p.reason, signals)
        if any(h.playbook == p.id and h.reason == reason for h in mine):
            skipped.append(Skipped(playbook=p.id, why=f"already created for {reason}"))
            continue
        recent = [
            h
            for h in mine
            if h.playbook == p.id and h.created_at > as_of - timedelta(days=p.cooldown_days)
        ]
        if recent:
            skipped.append(Skipped(playbook=p.id, why=f"cooldown of {p.cooldown_days:g} days"))
            continue
        ranked.append((expected_value(p, signals, measured_uplift.get(p.id)), p, reason))
    ranked.sort(key=lambda r: (-r[0], r[1].id))
    policy = book.contact_policy
    asked = sum(1 for h in mine if h.created_at > as_of - timedelta(days=policy.period_days))
    room = max(0, policy.max_tasks_per_customer - asked)
    for _, p, _ in ranked[room:]:
        skipped.append(
            Skipped(
                playbook=p.id,
                why=(
                    f"contact limit: {policy.max_tasks_per_customer} tasks per "
                    f"{policy.period_days:g} days"
                ),
            )
        )
    tasks = []
    for ev, p, reason in ranked[:room]:
        owner_id, language = _owner(p, customer, account, owners)
        text = p.then.templates.get(language) or p.then.templates["en"]
        if language not in p.then.templates:
            language = "en"
        tasks.append(
            ActionTask(
                customer_id=customer.id,
                playbook=p.id,
                reason=reason,
                subject=render(text.subject, signals),
                body=render(text.body, signals),
                why=render(text.why, signals),
                due_at=as_of + timedelta(hours=p.then.due_in_hours),
                priority=p.then.priority,
                owner_id=owner_id,
                language=language,
                expected_value=ev,
                as_of=as_of,
                scoring_version=SCORING_VERSION,
            )
        )
    return ActionPlan(
        customer_id=customer.id,
        tasks=tuple(tasks),
        skipped=tuple(skipped),
        signals_used={k: signals.get(k) for k in _signals_used(book)},
    )


@per_object
def _signals_used(book: PlaybookSet) -> tuple[str, ...]:
    """Every signal the playbooks' conditions read, sorted (once per playbook set)."""
    return tuple(sorted(set().union(*(p.when.signals_used() for p in book.playbooks))))
