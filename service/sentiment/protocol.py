"""The one interface every sentiment backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class BackendUnavailableError(RuntimeError):
    """A backend cannot run here (its package is missing or its data failed to load)."""


@dataclass(frozen=True, slots=True)
class Polarity:
    """A backend's raw verdict on one text, before labelling.

    `score` is in [-1, 1]. `certainty` in [0, 1] says how sure the backend is of the *sign and
    size* of `score`; the pipeline uses it to decide whether a fast backend may answer alone.
    `neutral` is set by a backend that judges opinion apart from polarity (the accurate backend's
    opinion head): the text is neutral whatever its score.
    """

    score: float
    certainty: float
    evidence: tuple[str, ...] = field(default=())
    neutral: bool = False


@runtime_checkable
class SentimentModel(Protocol):
    """A sentiment backend: scores texts of one language, offline, in batches."""

    @property
    def name(self) -> str:
        """Short stable name reported in results (e.g. `e5-head`)."""
        ...

    @property
    def neutral_band(self) -> float:
        """|score| below this is `neutral` (calibrated per backend)."""
        ...

    def supports(self, language: str) -> bool:
        """Whether this backend can score texts in `language` (ISO 639-1)."""
        ...

    def score_batch(self, texts: Sequence[str], language: str) -> list[Polarity]:
        """Score `texts`, all in `language`; one `Polarity` per text, same order."""
        ...
