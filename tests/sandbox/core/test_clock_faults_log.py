"""Unit tests of the sandbox clock, fault injector and request log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from sandbox.core.clock import SandboxClock
from sandbox.core.faults import (
    FaultInjector,
    FaultKind,
    FaultProfile,
    FaultRule,
    named_profile,
    resolve_profile,
)
from sandbox.core.requestlog import RequestEntry, RequestLog


def test_clock_freezes_advances_and_resumes() -> None:
    clock = SandboxClock()
    start = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    clock.set(start)
    assert clock.now() == start
    assert clock.advance(90) == start + timedelta(seconds=90)
    assert clock.now() == start + timedelta(seconds=90)
    clock.resume()
    assert not clock.frozen
    assert abs((clock.now() - (start + timedelta(seconds=90))).total_seconds()) < 1.0
    clock.reset()
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 1.0


def test_clock_offset_keeps_time_flowing() -> None:
    clock = SandboxClock()
    clock.advance(3600)
    assert 3599 < (clock.now() - datetime.now(UTC)).total_seconds() < 3601


def _sequence(profile: FaultProfile, n: int) -> list[str | None]:
    injector = FaultInjector(profile)
    out: list[str | None] = []
    for _ in range(n):
        fault = injector.pick("GET", "/services/data/v59.0/query/")
        out.append(fault.kind.value if fault else None)
    return out


def test_same_seed_same_faults_and_rates_are_respected() -> None:
    profile = FaultProfile(seed=7, rules=[FaultRule(error_5xx=0.2, rate_limited=0.1)])
    first = _sequence(profile, 2000)
    assert first == _sequence(profile, 2000)
    assert first != _sequence(profile.model_copy(update={"seed": 8}), 2000)
    share_5xx = first.count("error_5xx") / len(first)
    share_429 = first.count("rate_limited") / len(first)
    assert 0.16 < share_5xx < 0.24
    assert 0.07 < share_429 < 0.13


def test_first_matching_rule_decides_and_times_caps_a_rule() -> None:
    profile = FaultProfile(
        rules=[
            FaultRule(route="PATCH /services/*", unable_to_lock_row=1.0, times=2),
            FaultRule(route="GET *", error_5xx=1.0, status_5xx=502),
        ]
    )
    injector = FaultInjector(profile)
    patch = [injector.pick("PATCH", "/services/data/v59.0/sobjects/Contact/1") for _ in range(3)]
    assert [f.kind if f else None for f in patch] == [
        FaultKind.UNABLE_TO_LOCK_ROW,
        FaultKind.UNABLE_TO_LOCK_ROW,
        None,
    ]
    fault = injector.pick("GET", "/x")
    assert fault is not None
    assert fault.status_5xx == 502
    assert injector.pick("POST", "/x") is None
    assert injector.injected() == {"unable_to_lock_row": 2, "error_5xx": 1}


def test_rates_above_one_are_rejected_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match=r"add up to 1\.500"):
        FaultRule(error_5xx=0.9, slow=0.6)


def test_unknown_named_profile_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="flaky, hostile, none"):
        named_profile("nasty")
    assert named_profile("flaky", seed=3).seed == 3


def _entry(method: str, path: str, at: datetime) -> RequestEntry:
    return RequestEntry(at, method, path, "", 0, 200, 1.0)


def test_request_log_filters_and_stays_bounded() -> None:
    log = RequestLog(capacity=3)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    for i, (method, path) in enumerate(
        [("GET", "/a/1"), ("POST", "/a/2"), ("GET", "/b/1"), ("GET", "/a/3")]
    ):
        log.append(_entry(method, path, t0 + timedelta(seconds=i)))
    assert log.dropped == 1
    assert [e.path for e in log.entries()] == ["/a/2", "/b/1", "/a/3"]
    assert log.count(method="get", path_glob="/a/*") == 1
    assert [e.path for e in log.entries(since=t0 + timedelta(seconds=2))] == ["/b/1", "/a/3"]
    log.clear()
    assert log.count() == 0


def test_profiles_resolve_by_name_or_from_a_file(tmp_path: Path) -> None:
    folder = tmp_path
    assert resolve_profile("hostile", seed=9).seed == 9
    custom = folder / "p.json"
    custom.write_text('{"name": "mine", "seed": 4, "rules": [{"route": "GET *", "slow": 1}]}')
    loaded = resolve_profile(str(custom))
    assert (loaded.name, loaded.seed, loaded.rules[0].slow) == ("mine", 4, 1.0)
    with pytest.raises(ValueError, match="JSON profile file"):
        resolve_profile(str(folder / "missing.json"))


def test_reset_runs_data_hooks_unless_keep_data() -> None:
    from sandbox.core.state import SandboxState

    state = SandboxState(crm="test")
    calls: list[str] = []
    state.on_reset(lambda: calls.append("reset"))
    state.on_clear_data(lambda: calls.append("data"))
    state.faults.set_profile(FaultProfile(rules=[FaultRule(error_5xx=1.0)]))
    state.reset(keep_data=True)
    assert calls == ["reset"]
    assert state.faults.pick("GET", "/x") is None
    state.reset()
    assert calls == ["reset", "reset", "data"]
