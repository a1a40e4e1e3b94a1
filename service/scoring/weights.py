"""Experience-score configuration: a validated model and the YAML file that fills it."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.scoring.caching import per_object

FACTORS: tuple[str, ...] = (
    "surveys",
    "sentiment",
    "negative_aspects",
    "open_cases",
    "service_times",
    "contact_frequency",
    "purchase_recency",
)
"""The experience factors, in the column order of every factor matrix."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DecayFactor(_Strict):
    """A factor whose evidence fades with a half-life."""

    weight: float = Field(ge=0)
    half_life_days: float = Field(gt=0)


class AspectFactor(DecayFactor):
    """Negative aspect mentions, decayed, turned into a subscore by exp(-load / scale)."""

    scale: float = Field(gt=0)


class OpenCasesFactor(_Strict):
    """Open cases: each adds `per_case`, plus more for every `overdue_scale_days` past target."""

    weight: float = Field(ge=0)
    per_case: float = Field(gt=0)
    overdue_scale_days: float = Field(gt=0)


class ServiceTimesFactor(_Strict):
    """Response and resolution times against their targets."""

    weight: float = Field(ge=0)
    response_target_hours: float = Field(gt=0)


class ContactFactor(_Strict):
    """Contact frequency in a recent window against a healthy number of contacts."""

    weight: float = Field(ge=0)
    window_days: float = Field(gt=0)
    target_contacts: float = Field(gt=0)


class FactorWeights(_Strict):
    """One section per factor."""

    surveys: DecayFactor
    sentiment: DecayFactor
    negative_aspects: AspectFactor
    open_cases: OpenCasesFactor
    service_times: ServiceTimesFactor
    contact_frequency: ContactFactor
    purchase_recency: DecayFactor


class ExperienceWeights(_Strict):
    """The whole experience-score configuration."""

    version: int = 1
    lookback_days: float = Field(default=365.0, gt=0)
    default_case_target_hours: float = Field(default=72.0, gt=0)
    factors: FactorWeights

    def weight_vector(self) -> tuple[float, ...]:
        """The factor weights in FACTORS order."""
        return _weight_vector(self)


@per_object
def _weight_vector(weights: ExperienceWeights) -> tuple[float, ...]:
    # Once per weights object: scoring one customer asks for it twice.
    return tuple(getattr(weights.factors, name).weight for name in FACTORS)


def parse_weights(text: str, *, source: str = "weights") -> ExperienceWeights:
    """Parse and validate a weights YAML document; errors name the file and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    try:
        weights = ExperienceWeights.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"{source}: {problems}") from None
    if sum(weights.weight_vector()) <= 0:
        raise ValueError(f"{source}: at least one factor needs a positive weight")
    return weights


@cache
def default_weights() -> ExperienceWeights:
    """The weights shipped in service/scoring/data/experience_weights.yaml (package data)."""
    text = resources.files("service.scoring").joinpath("data/experience_weights.yaml").read_text()
    return parse_weights(text, source="experience_weights.yaml")
