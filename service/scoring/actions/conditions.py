"""Conditions of playbooks: {signal, op, value} leaves combined with all / any / not."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Signal = float | int | str | bool | None
Signals = Mapping[str, Signal]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class Leaf(BaseModel):
    """One test of a signal. A missing signal fails every test except `absent`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signal: str = Field(min_length=1)
    op: Literal["<", "<=", ">", ">=", "==", "!=", "in", "present", "absent"]
    value: Signal | list[Signal] = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Leaf:
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError(f"'in' on {self.signal} needs a list value")
        if self.op in _COMPARE and (self.value is None or isinstance(self.value, list)):
            raise ValueError(f"'{self.op}' on {self.signal} needs a single value")
        return self

    def holds(self, signals: Signals) -> bool:
        """Whether the test passes for these signals."""
        present = signals.get(self.signal) is not None
        if self.op == "present":
            return present
        if self.op == "absent":
            return not present
        if not present:
            return False
        actual = signals[self.signal]
        if self.op == "in":
            return isinstance(self.value, list) and actual in self.value
        try:
            return _COMPARE[self.op](actual, self.value)
        except TypeError:
            # Comparing a number with a string is a playbook mistake, not a match.
            return False

    def signals_used(self) -> set[str]:
        """Signal names this leaf reads."""
        return {self.signal}


class Group(BaseModel):
    """all / any / not over leaves and groups (exactly one key)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    all_: list[Leaf | Group] | None = Field(default=None, alias="all")
    any_: list[Leaf | Group] | None = Field(default=None, alias="any")
    not_: Leaf | Group | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _exactly_one(self) -> Group:
        if sum(x is not None for x in (self.all_, self.any_, self.not_)) != 1:
            raise ValueError("a condition group needs exactly one of all / any / not")
        return self

    def holds(self, signals: Signals) -> bool:
        """Whether the group passes for these signals."""
        if self.all_ is not None:
            return all(c.holds(signals) for c in self.all_)
        if self.any_ is not None:
            return any(c.holds(signals) for c in self.any_)
        assert self.not_ is not None
        return not self.not_.holds(signals)

    def signals_used(self) -> set[str]:
        """Signal names this group reads."""
        parts = (self.all_ or []) + (self.any_ or []) + ([self.not_] if self.not_ else [])
        return set().union(*(p.signals_used() for p in parts)) if parts else set()
