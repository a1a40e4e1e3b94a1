"""The accurate backend's heads over e5 embeddings: their stored form and their maths (numpy only).

Two linear heads read the same multilingual-e5-small embedding x:
* polarity: a = w . x + b, the log-odds of positive against negative;
* opinion: P(no opinion) = sigmoid(u . [x, |tanh(a / 2)|] + c), a text with neither praise nor
  complaint ("Bài tập trên lớp.", a request for an invoice), learned from real three-class text.
Per language, the polarity log-odds are combined with the n-gram model's (g) and the lexicon's
rule sum (r) where that language has real labelled text to learn the blend from (`combine`):
z = alpha * a + beta * g + gamma + delta * r, P(positive) = sigmoid(z); delta is 0 where the
rule sum did not help. Estonian, with no real labelled text, takes e5 and the rule sum at the
mean of the learned deltas, and only when the rule sum helped in every measured language.
The opinion head reads the strength of the e5 log-odds a, as it was trained.
A text is neutral when P(no opinion) reaches `neutral_threshold`, else its sign decides; both
thresholds are chosen on real held-out text by `bench/sentiment/train_fast.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

HEAD_FILE = "e5_head.json"
# Format 2: polarity and opinion heads, a per-language blend with the n-gram model.
HEAD_FORMAT = 2


class HeadFileError(ValueError):
    """The head weights file is missing, malformed or for another embedding size."""


@dataclass(frozen=True)
class Blend:
    """z = alpha * e5 log-odds + beta * n-gram log-odds + gamma + delta * lexicon rule sum."""

    alpha: float
    beta: float
    gamma: float
    delta: float = 0.0


@dataclass(frozen=True)
class LogisticHead:
    """The stored heads (see the module docstring)."""

    weights: NDArray[np.float32]
    bias: float
    opinion_weights: NDArray[np.float32]
    opinion_bias: float
    neutral_threshold: float
    embedding: str
    prefix: str
    combine: dict[str, Blend] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def log_odds(self, embeddings: NDArray[np.float32]) -> NDArray[np.float64]:
        """The polarity head's log-odds of positive, per row."""
        return np.asarray(
            embeddings.astype(np.float64) @ self.weights.astype(np.float64) + self.bias,
            dtype=np.float64,
        )

    def no_opinion(
        self, embeddings: NDArray[np.float32], log_odds: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """P(no opinion) per row."""
        strength = np.abs(np.tanh(log_odds / 2.0))
        z = embeddings.astype(np.float64) @ self.opinion_weights[:-1].astype(np.float64)
        z += float(self.opinion_weights[-1]) * strength + self.opinion_bias
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def blended(
        self,
        log_odds: NDArray[np.float64],
        language: str,
        ngram_log_odds: NDArray[np.float64] | None = None,
        rule_sums: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """z, the blended log-odds of positive (the e5 log-odds where no blend was learned)."""
        blend = self.combine.get(language)
        if blend is None:
            return log_odds
        z = blend.alpha * log_odds + blend.gamma
        if blend.beta and ngram_log_odds is not None:
            z = z + blend.beta * ngram_log_odds
        if blend.delta and rule_sums is not None:
            z = z + blend.delta * rule_sums
        return np.asarray(z, dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        """The stored form (written by the training scripts)."""
        return {
            "format": HEAD_FORMAT,
            "embedding": self.embedding,
            "prefix": self.prefix,
            "bias": float(self.bias),
            "weights": [round(float(w), 7) for w in self.weights],
            "opinion_bias": float(self.opinion_bias),
            "opinion_weights": [round(float(w), 7) for w in self.opinion_weights],
            "neutral_threshold": round(self.neutral_threshold, 4),
            "combine": {
                lang: [round(b.alpha, 6), round(b.beta, 6), round(b.gamma, 6), round(b.delta, 6)]
                for lang, b in self.combine.items()
            },
            "meta": self.meta,
        }


def parse_head(data: dict[str, Any]) -> LogisticHead:
    """Build a head from its stored form; raise `HeadFileError` naming what is wrong."""
    try:
        if data["format"] != HEAD_FORMAT:
            raise HeadFileError(f"head format {data['format']!r} is not {HEAD_FORMAT}")
        weights = np.asarray(data["weights"], dtype=np.float32)
        opinion = np.asarray(data["opinion_weights"], dtype=np.float32)
        threshold = float(data["neutral_threshold"])
        head = LogisticHead(
            weights=weights,
            bias=float(data["bias"]),
            opinion_weights=opinion,
            opinion_bias=float(data["opinion_bias"]),
            neutral_threshold=threshold,
            embedding=str(data["embedding"]),
            prefix=str(data["prefix"]),
            combine={
                str(lang): Blend(*(float(v) for v in values))
                for lang, values in dict(data.get("combine", {})).items()
            },
            meta=dict(data.get("meta", {})),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, HeadFileError):
            raise
        raise HeadFileError(f"malformed head file: {error!r}") from None
    if weights.ndim != 1 or weights.size == 0 or opinion.shape != (weights.size + 1,):
        raise HeadFileError("head weights must be a vector and opinion weights one longer")
    if not 0.0 < threshold <= 1.0:
        raise HeadFileError("neutral_threshold must be in (0, 1]")
    return head


def load_head(path: Path | None = None) -> LogisticHead:
    """Load the head shipped in `service/sentiment/data/` (or one at `path`)."""
    try:
        if path is None:
            text = resources.files("service.sentiment").joinpath("data", HEAD_FILE).read_text()
        else:
            text = path.read_text(encoding="utf-8")
        return parse_head(json.loads(text))
    except (OSError, json.JSONDecodeError) as error:
        raise HeadFileError(f"cannot read head file: {error}") from None
