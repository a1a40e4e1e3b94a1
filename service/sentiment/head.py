"""The logistic-regression head over e5 embeddings: its stored form and its maths (numpy only)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

HEAD_FILE = "e5_head.json"
HEAD_FORMAT = 1


class HeadFileError(ValueError):
    """The head weights file is missing, malformed or for another embedding size."""


@dataclass(frozen=True)
class LogisticHead:
    """P(positive | embedding) = sigmoid(w * x + b), plus the calibrated neutral band.

    `neutral_band` is half-width on the score scale (score = 2p - 1): |score| below it is
    neutral. It is chosen by `bench/sentiment/train_head.py` to maximise macro-F1 on held-out
    (cross-validated) project-written messages that include neutral requests.
    """

    weights: NDArray[np.float32]
    bias: float
    lexicon_weight: float
    neutral_band: float
    embedding: str
    prefix: str
    meta: dict[str, Any]

    def probability(
        self, embeddings: NDArray[np.float32], lexicon_sums: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """P(positive) for each row of `embeddings` (n x dim) with its lexicon sum."""
        logits = embeddings.astype(np.float64) @ self.weights.astype(np.float64) + self.bias
        logits += self.lexicon_weight * lexicon_sums
        return 1.0 / (1.0 + np.exp(-logits))

    def to_json(self) -> dict[str, Any]:
        """The stored form (written by the training script)."""
        return {
            "format": HEAD_FORMAT,
            "embedding": self.embedding,
            "prefix": self.prefix,
            "neutral_band": round(self.neutral_band, 4),
            "bias": float(self.bias),
            "lexicon_weight": round(float(self.lexicon_weight), 6),
            "weights": [round(float(w), 7) for w in self.weights],
            "meta": self.meta,
        }


def parse_head(data: dict[str, Any]) -> LogisticHead:
    """Build a head from its stored form; raise `HeadFileError` naming what is wrong."""
    try:
        if data["format"] != HEAD_FORMAT:
            raise HeadFileError(f"head format {data['format']!r} is not {HEAD_FORMAT}")
        weights = np.asarray(data["weights"], dtype=np.float32)
        band = float(data["neutral_band"])
        head = LogisticHead(
            weights=weights,
            bias=float(data["bias"]),
            lexicon_weight=float(data.get("lexicon_weight", 0.0)),
            neutral_band=band,
            embedding=str(data["embedding"]),
            prefix=str(data["prefix"]),
            meta=dict(data.get("meta", {})),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, HeadFileError):
            raise
        raise HeadFileError(f"malformed head file: {error!r}") from None
    if weights.ndim != 1 or weights.size == 0 or not 0.0 <= band < 1.0:
        raise HeadFileError("head weights must be a non-empty vector and band in [0, 1)")
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
