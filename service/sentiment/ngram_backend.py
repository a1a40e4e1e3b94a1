"""`ngram`: a character n-gram logistic model, the fast path's second stage.

The lexicon settles the texts its rules are sure about; what it leaves (unknown vocabulary,
weak or conflicting terms) would otherwise all go to `e5-head`, which is ~30x slower. This model
reads hashed character 1-3-grams (word-bounded, so it needs no segmenter for Chinese or
Vietnamese), the lexicon's rule sum and the language, and is trained on the labelled package
data and project messages by `bench/sentiment/train_fast.py`. Its weights live in
`data/ngram_head.npz`.

`certainty` is |score|; where the model may answer alone is the pipeline's business (per-language
gates calibrated on real labelled text, `fast_gates.py`).
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.sentiment.lexicon_backend import LEXICON_LANGUAGES, LexiconModel
from service.sentiment.protocol import BackendUnavailableError, Polarity

NGRAM_FILE = "ngram_head.npz"
N_FEATURES = 2**18
NGRAM_RANGE = (1, 3)


def vectorizer() -> Any:
    """The feature hasher shared by training and scoring (stateless, so nothing is stored)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAM_RANGE,
        n_features=N_FEATURES,
        alternate_sign=False,
        norm="l2",
        lowercase=True,
        preprocessor=lambda t: unicodedata.normalize("NFC", t).lower(),
    )


@dataclass(frozen=True)
class NgramHead:
    """P(positive) = sigmoid(w . ngrams + lexicon_weights[lang] * rule_sum + language_bias[lang]
    + bias)."""

    weights: NDArray[np.float32]
    bias: float
    lexicon_weights: dict[str, float]
    language_bias: dict[str, float]
    neutral_band: float
    meta: dict[str, Any]

    def save(self, path: Path) -> None:
        """Write the stored form (the training script's output)."""
        header = {
            "bias": self.bias,
            "lexicon_weights": self.lexicon_weights,
            "language_bias": self.language_bias,
            "neutral_band": self.neutral_band,
            "n_features": N_FEATURES,
            "ngram_range": list(NGRAM_RANGE),
            "meta": self.meta,
        }
        with path.open("wb") as out:
            np.savez_compressed(
                out, weights=self.weights.astype(np.float32), header=np.array(json.dumps(header))
            )


def load_ngram_head(path: Path | None = None) -> NgramHead:
    """The shipped weights (or those at `path`); `BackendUnavailableError` if unreadable."""
    try:
        source = path or resources.files("service.sentiment").joinpath("data", NGRAM_FILE)
        with source.open("rb") as handle, np.load(handle) as data:
            weights = np.asarray(data["weights"], dtype=np.float32)
            header = json.loads(str(data["header"]))
        if header["n_features"] != N_FEATURES or weights.shape != (N_FEATURES,):
            raise ValueError("n-gram weights were built for another feature size")
        return NgramHead(
            weights=weights,
            bias=float(header["bias"]),
            lexicon_weights={k: float(v) for k, v in header["lexicon_weights"].items()},
            language_bias={k: float(v) for k, v in header["language_bias"].items()},
            neutral_band=float(header["neutral_band"]),
            meta=dict(header.get("meta", {})),
        )
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise BackendUnavailableError(f"n-gram weights cannot be loaded: {error}") from None


class NgramModel:
    """Hashed character n-grams + the lexicon rule sum → logistic probability."""

    name = "ngram"

    def __init__(
        self, languages: Sequence[str] = LEXICON_LANGUAGES, path: Path | None = None
    ) -> None:
        try:
            from sklearn import config_context

            self._vectorizer = vectorizer()
        except ImportError as error:
            raise BackendUnavailableError(f"scikit-learn is not installed: {error}") from error
        # The hasher's own argument checks cost more than hashing one short message; the
        # vectorizer is built here with fixed, valid arguments, so they are skipped.
        self._unchecked = functools.partial(
            config_context, skip_parameter_validation=True, assume_finite=True
        )
        self.head = load_ngram_head(path)
        # Converted once: a float32 → float64 copy of 262,144 weights per call cost 0.1 ms.
        self._weights = self.head.weights.astype(np.float64)
        self.lexicon = LexiconModel([lang for lang in languages if lang in LEXICON_LANGUAGES])
        # Only the languages it learned from real labelled text of.
        self.languages = frozenset(lang for lang in languages if lang in self.head.language_bias)

    @property
    def neutral_band(self) -> float:
        """Calibrated with the gates (stored with the weights)."""
        return self.head.neutral_band

    def supports(self, language: str) -> bool:
        """Languages it was trained and gated for."""
        return language in self.languages

    def scores(self, texts: Sequence[str], language: str) -> NDArray[np.float64]:
        """2 * P(positive) - 1 per text."""
        logits = self.log_odds(texts, language)
        return np.asarray(2.0 / (1.0 + np.exp(-logits)) - 1.0, dtype=np.float64)

    def log_odds(self, texts: Sequence[str], language: str) -> NDArray[np.float64]:
        """The log-odds of positive per text (the accurate backend blends them in)."""
        with self._unchecked():
            features = self._vectorizer.transform(list(texts))
        logits = features @ self._weights
        weight = self.head.lexicon_weights.get(language, 0.0)
        if weight and self.lexicon.supports(language):
            logits += weight * np.asarray(self.lexicon.totals(texts, language), dtype=np.float64)
        logits += self.head.bias
        logits += self.head.language_bias.get(language, 0.0)
        return np.asarray(logits, dtype=np.float64)

    def score_batch(self, texts: Sequence[str], language: str) -> list[Polarity]:
        """Score, and |score| as certainty."""
        return [Polarity(float(s), abs(float(s)), ()) for s in self.scores(texts, language)]
