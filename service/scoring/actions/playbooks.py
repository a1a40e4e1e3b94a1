"""Playbook definitions: the YAML schema, validation with clear errors, and the shipped set."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.domain import TaskPriority
from service.scoring.actions.conditions import Group
from service.scoring.actions.templates import placeholders

SHIPPED_LANGUAGES = ("en", "vi", "zh", "et")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskText(_Strict):
    """Subject, body and the one-sentence why, in one language."""

    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)
    why: str = Field(min_length=1)


class TaskSpec(_Strict):
    """What task a playbook creates."""

    owner: list[str] = Field(min_length=1)
    due_in_hours: float = Field(gt=0)
    priority: TaskPriority = TaskPriority.NORMAL
    templates: dict[str, TaskText]

    @model_validator(mode="after")
    def _english_and_owner_rules(self) -> TaskSpec:
        if "en" not in self.templates:
            raise ValueError("templates need at least 'en' (the fallback language)")
        for rule in self.owner:
            if rule not in ("customer_owner", "account_owner") and not rule.startswith(
                ("queue:", "user:")
            ):
                raise ValueError(
                    f"owner rule {rule!r}: use customer_owner, account_owner, queue:<name> "
                    "or user:<id>"
                )
        return self


class ValueSpec(_Strict):
    """Expected value of acting = uplift x value (x risk) - cost."""

    uplift: float = Field(ge=0, le=1)
    value_signal: str = "customer_value"
    risk_signal: str | None = None
    cost: float = Field(default=0.0, ge=0)


class Playbook(_Strict):
    """When a situation arises, which task to create, and what it is worth."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: Group
    reason: str = Field(min_length=1)
    cooldown_days: float = Field(default=30, ge=0)
    value: ValueSpec
    then: TaskSpec


class ContactPolicy(_Strict):
    """How often one customer may be asked: at most `max_tasks_per_customer` per period."""

    max_tasks_per_customer: int = Field(default=2, ge=1)
    period_days: float = Field(default=30, gt=0)


class PlaybookSet(_Strict):
    """A whole playbooks file."""

    version: int = 1
    contact_policy: ContactPolicy = ContactPolicy()
    playbooks: list[Playbook]

    @model_validator(mode="after")
    def _unique_ids(self) -> PlaybookSet:
        ids = [p.id for p in self.playbooks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate playbook ids: {', '.join(dupes)}")
        return self

    def by_id(self, playbook_id: str) -> Playbook:
        """The playbook with this id."""
        for p in self.playbooks:
            if p.id == playbook_id:
                return p
        raise KeyError(playbook_id)


def check_placeholders(playbooks: PlaybookSet, known_signals: frozenset[str]) -> list[str]:
    """Placeholders that name no known signal, as "playbook/lang/field: name" problems.

    Aspect signals (`negative_aspect_30d.<aspect>`) are open-ended, so any aspect name passes.
    """
    problems = []
    for p in playbooks.playbooks:
        texts = {"reason": p.reason}
        for lang, t in p.then.templates.items():
            texts.update(
                {f"{lang}/subject": t.subject, f"{lang}/body": t.body, f"{lang}/why": t.why}
            )
        for where, text in texts.items():
            for name in sorted(placeholders(text)):
                if name not in known_signals and not name.startswith("negative_aspect_30d."):
                    problems.append(f"{p.id}/{where}: unknown placeholder {{{name}}}")
    return problems


def parse_playbooks(text: str, *, source: str = "playbooks") -> PlaybookSet:
    """Parse and validate a playbooks YAML document; errors name the file and the field."""
    from service.scoring.actions.signals import KNOWN_SIGNALS

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    try:
        parsed = PlaybookSet.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"{source}: {problems}") from None
    unknown = check_placeholders(parsed, KNOWN_SIGNALS)
    if unknown:
        raise ValueError(f"{source}: " + "; ".join(unknown))
    return parsed


@cache
def default_playbooks() -> PlaybookSet:
    """The playbooks shipped in service/scoring/data/playbooks.yaml."""
    text = resources.files("service.scoring").joinpath("data/playbooks.yaml").read_text("utf-8")
    return parse_playbooks(text, source="playbooks.yaml")
