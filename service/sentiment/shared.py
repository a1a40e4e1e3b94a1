"""One sentiment analyzer per process, built on first use and shared by the API and the jobs
(the model is ~100 MB and loads in ~0.2 s), with its lexicon-only twin for `?sentiment=fast`."""

from __future__ import annotations

import threading

from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings


class SharedAnalyzer:
    """Calling it returns the process's analyzer, building it the first time."""

    def __init__(
        self, settings: SentimentSettings, analyzer: SentimentAnalyzer | None = None
    ) -> None:
        self._settings = settings
        self._analyzer = analyzer
        self._fast: SentimentAnalyzer | None = None
        self._lock = threading.Lock()

    def __call__(self) -> SentimentAnalyzer:
        analyzer = self._analyzer
        if analyzer is not None:  # the hot path: no lock
            return analyzer
        with self._lock:
            if self._analyzer is None:
                self._analyzer = SentimentAnalyzer(self._settings)
            return self._analyzer

    def loaded(self) -> SentimentAnalyzer | None:
        """The analyzer when it is built already (a caller on the event loop builds it in a
        thread otherwise)."""
        return self._analyzer

    def provide(self, analyzer: SentimentAnalyzer) -> None:
        """Use `analyzer` (already loaded elsewhere, e.g. a test session's) from now on."""
        with self._lock:
            self._analyzer = analyzer
            self._fast = None

    def fast(self) -> SentimentAnalyzer:
        """A lexicon-only analyzer sharing the loaded fast backend (built once)."""
        fast = self._fast
        if fast is not None:
            return fast
        analyzer = self()
        with self._lock:
            if self._fast is None:
                name = analyzer.settings.fast_backend
                settings = analyzer.settings.model_copy(
                    update={"backends": {"*": (name,)}, "fast_path": False}
                )
                shared = {k: v for k, v in analyzer.backends.items() if k == name}
                self._fast = SentimentAnalyzer(settings, backends=shared)
            return self._fast

    def __repr__(self) -> str:
        return f"SharedAnalyzer(loaded={self._analyzer is not None})"
