"""Every setting is in the README's table, so a new one cannot ship undocumented."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from adapters.registry import CONNECTORS
from service.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _variables(model: type[BaseModel], prefix: str) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _variables(annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def _documented() -> set[str]:
    """Variables named in the table's first column, with `/ __X` shorthands expanded."""
    found: set[str] = set()
    for line in README.read_text().splitlines():
        if not line.startswith("| `CEM_"):
            continue
        cell = line.split("|")[1]
        names = re.findall(r"`([A-Z_<>a-z]+)`", cell)
        first = names[0]
        found.add(first)
        stem = first.rsplit("__", 1)[0] if "__" in first else "CEM"
        for other in names[1:]:
            found.add(f"{stem}{other}" if other.startswith("__") else other)
    return found


def test_every_setting_is_in_the_readme() -> None:
    expected = [n for n in _variables(Settings, "CEM_") if n != "CEM_CONNECTIONS"]
    for connector in CONNECTORS:  # every connector's settings, shared ones once
        expected += _variables(connector.settings, "CEM_CONNECTIONS__<name>__")
    missing = sorted(set(expected) - _documented())
    assert missing == [], f"add these settings to the README's table: {missing}"
