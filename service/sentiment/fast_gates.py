"""Where the fast path may answer: a certainty gate per fast stage and language.

A fast stage (the lexicon, the n-gram model) answers a text alone only in a language it was
calibrated for on real labelled text of that language, and only at or above that language's gate.
The gates are chosen by `bench/sentiment/train_fast.py` (at least `MIN_CALIBRATION_TEXTS` texts
that neither model learned from, a loss budget against the accurate backend's macro-F1) and
shipped in `data/fast_path.json`. A language without a gate goes straight to the accurate
backend: a gate guessed from a couple of dozen project-written messages is what made the old
Vietnamese and Estonian fast path answer at chance.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

FAST_PATH_FILE = "fast_path.json"
FAST_PATH_FORMAT = 1
# The floor for calling a gate calibrated.
MIN_CALIBRATION_TEXTS = 500


class FastPathFileError(ValueError):
    """The gates file is missing or malformed."""


@dataclass(frozen=True)
class FastGates:
    """`gates[stage][language]`: the least certainty at which `stage` answers alone."""

    gates: Mapping[str, Mapping[str, float]]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def gate(self, stage: str, language: str) -> float | None:
        """The stage's gate in this language, or None when it may not answer there."""
        return self.gates.get(stage, {}).get(language)

    def to_json(self) -> dict[str, Any]:
        """The stored form (written by the training script)."""
        return {
            "format": FAST_PATH_FORMAT,
            "gates": {
                s: {lang: round(g, 4) for lang, g in v.items()} for s, v in self.gates.items()
            },
            "meta": dict(self.meta),
        }


def parse_gates(data: Mapping[str, Any]) -> FastGates:
    """Gates from their stored form; `FastPathFileError` naming what is wrong."""
    try:
        if data["format"] != FAST_PATH_FORMAT:
            raise FastPathFileError(f"fast-path format {data['format']!r} is not 1")
        gates = {
            str(stage): {str(lang): float(g) for lang, g in per.items()}
            for stage, per in dict(data["gates"]).items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, FastPathFileError):
            raise
        raise FastPathFileError(f"malformed fast-path file: {error!r}") from None
    for per in gates.values():
        if any(not 0.0 <= g <= 1.0 for g in per.values()):
            raise FastPathFileError("fast-path gates must lie in [0, 1]")
    return FastGates(gates, dict(data.get("meta", {})))


def load_gates(path: Path | None = None) -> FastGates:
    """The shipped gates (or those at `path`)."""
    try:
        source = path or resources.files("service.sentiment").joinpath("data", FAST_PATH_FILE)
        return parse_gates(json.loads(source.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as error:
        raise FastPathFileError(f"cannot read fast-path file: {error}") from None
