"""Fault injection: which request fails, how, decided deterministically from a seed.

A `FaultProfile` is a list of `FaultRule`s; the first rule whose route pattern matches
`"METHOD /path"` (fnmatch, e.g. `"POST /services/data/*/composite/*"`) decides. One uniform draw
from a seeded generator is walked through the rule's rates in a fixed order, so the same seed
and the same request sequence fail the same requests. Each emulator renders the chosen `Fault`
in its own CRM's error format (docs/crm-api-facts.md §6 "Limits and failures").
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class FaultKind(StrEnum):
    """Every fault the sandbox can inject."""

    ERROR_5XX = "error_5xx"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    SLOW = "slow"
    RESET = "reset"
    UNABLE_TO_LOCK_ROW = "unable_to_lock_row"
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 - a fault name, not a secret
    QUOTA_EXHAUSTED = "quota_exhausted"


# The draw is walked through the kinds in this order; fixed so a seed replays exactly.
_DRAW_ORDER: tuple[FaultKind, ...] = tuple(FaultKind)


class FaultRule(BaseModel):
    """Rates (0..1) of each fault for the requests whose `"METHOD /path"` matches `route`."""

    model_config = ConfigDict(extra="forbid")

    route: str = Field(default="*", description='fnmatch pattern on "METHOD /path"')
    error_5xx: float = Field(default=0.0, ge=0.0, le=1.0)
    rate_limited: float = Field(default=0.0, ge=0.0, le=1.0)
    timeout: float = Field(default=0.0, ge=0.0, le=1.0)
    slow: float = Field(default=0.0, ge=0.0, le=1.0)
    reset: float = Field(default=0.0, ge=0.0, le=1.0)
    unable_to_lock_row: float = Field(default=0.0, ge=0.0, le=1.0)
    expired_token: float = Field(default=0.0, ge=0.0, le=1.0)
    quota_exhausted: float = Field(default=0.0, ge=0.0, le=1.0)
    status_5xx: int = Field(default=503, ge=500, le=599, description="status of error_5xx")
    slow_seconds: float = Field(default=0.5, ge=0.0, le=600.0, description="latency added")
    timeout_seconds: float = Field(
        default=30.0, ge=0.0, le=600.0, description="held this long, then the connection drops"
    )
    retry_after_seconds: int | None = Field(default=1, ge=0, description="Retry-After on 429")
    times: int | None = Field(
        default=None, ge=1, description="stop applying this rule after it injected this many faults"
    )

    @model_validator(mode="after")
    def _rates_fit(self) -> FaultRule:
        total = sum(self.rate(kind) for kind in _DRAW_ORDER)
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates of route {self.route!r} add up to {total:.3f} > 1")
        return self

    def rate(self, kind: FaultKind) -> float:
        """The configured rate of `kind`."""
        value: float = getattr(self, kind.value)
        return value


class FaultProfile(BaseModel):
    """A named, seeded set of fault rules; the first matching rule decides."""

    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    seed: int = 0
    rules: list[FaultRule] = Field(default_factory=list)


NAMED_PROFILES: dict[str, FaultProfile] = {
    "none": FaultProfile(name="none"),
    # A bad day: occasional 5xx, throttling, slowness and lock contention on writes.
    "flaky": FaultProfile(
        name="flaky",
        rules=[
            FaultRule(
                route="*",
                error_5xx=0.02,
                rate_limited=0.02,
                slow=0.05,
                slow_seconds=0.3,
                unable_to_lock_row=0.01,
                reset=0.005,
            ),
        ],
    ),
    # Everything that can go wrong does, often: for resilience tests, not for throughput.
    "hostile": FaultProfile(
        name="hostile",
        rules=[
            FaultRule(
                route="*",
                error_5xx=0.08,
                rate_limited=0.08,
                timeout=0.02,
                timeout_seconds=10.0,
                slow=0.1,
                slow_seconds=1.0,
                reset=0.03,
                unable_to_lock_row=0.04,
                expired_token=0.03,
                quota_exhausted=0.01,
            )
        ],
    ),
}


def named_profile(name: str, seed: int = 0) -> FaultProfile:
    """A copy of the named profile with `seed`; raises `KeyError` naming the known profiles."""
    try:
        base = NAMED_PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(NAMED_PROFILES))
        raise KeyError(f"unknown fault profile {name!r}; known profiles: {known}") from None
    return base.model_copy(update={"seed": seed}, deep=True)


def resolve_profile(spec: str, seed: int = 0) -> FaultProfile:
    """A named profile (with `seed`), or a FaultProfile read from the JSON file `spec`.

    Raises `ValueError` with a message fit for a command line.
    """
    if spec in NAMED_PROFILES:
        return named_profile(spec, seed)
    path = Path(spec)
    if not path.is_file():
        known = ", ".join(sorted(NAMED_PROFILES))
        raise ValueError(f"unknown fault profile {spec!r}: use {known} or a JSON profile file")
    try:
        return FaultProfile.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise ValueError(f"invalid fault profile {spec}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault, with the parameters its renderer needs."""

    kind: FaultKind
    status_5xx: int = 503
    delay_seconds: float = 0.0
    retry_after_seconds: int | None = None


class FaultInjector:
    """Decides, per request, whether and how it fails; thread-safe and seed-deterministic."""

    def __init__(self, profile: FaultProfile | None = None) -> None:
        self._lock = threading.Lock()
        self._profile = profile or FaultProfile(name="none")
        self._rng = random.Random(self._profile.seed)  # noqa: S311 - reproducible, not secret
        self._used: list[int] = [0] * len(self._profile.rules)
        self._injected: Counter[str] = Counter()

    @property
    def profile(self) -> FaultProfile:
        """The active profile."""
        with self._lock:
            return self._profile

    def set_profile(self, profile: FaultProfile) -> None:
        """Replace the active profile and restart its random sequence from the seed."""
        with self._lock:
            self._profile = profile
            self._rng = random.Random(profile.seed)  # noqa: S311 - reproducible, not secret
            self._used = [0] * len(profile.rules)
            self._injected.clear()

    def injected(self) -> dict[str, int]:
        """How many faults of each kind were injected since the profile was set."""
        with self._lock:
            return dict(self._injected)

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for this request, or None when it should be served normally."""
        key = f"{method.upper()} {path}"
        with self._lock:
            for index, rule in enumerate(self._profile.rules):
                if not fnmatchcase(key, rule.route):
                    continue
                if rule.times is not None and self._used[index] >= rule.times:
                    continue
                fault = self._draw(rule)
                if fault is not None:
                    self._used[index] += 1
                    self._injected[fault.kind.value] += 1
                return fault
        return None

    def _draw(self, rule: FaultRule) -> Fault | None:
        if not any(rule.rate(kind) for kind in _DRAW_ORDER):
            return None
        draw = self._rng.random()
        cumulative = 0.0
        for kind in _DRAW_ORDER:
            cumulative += rule.rate(kind)
            if draw < cumulative:
                delay = 0.0
                if kind is FaultKind.SLOW:
                    delay = rule.slow_seconds
                elif kind is FaultKind.TIMEOUT:
                    delay = rule.timeout_seconds
                return Fault(
                    kind=kind,
                    status_5xx=rule.status_5xx,
                    delay_seconds=delay,
                    retry_after_seconds=rule.retry_after_seconds,
                )
        return None
