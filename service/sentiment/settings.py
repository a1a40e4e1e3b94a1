"""Sentiment configuration: which languages, which backend chain per language, fast path, cache.

Meant to be nested in the service settings (e.g. `CEM_SENTIMENT__LANGUAGES='["en","vi"]'`); it
reads nothing from the environment itself.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.sentiment.language import normalize_code

DEFAULT_CHAIN: tuple[str, ...] = ("e5-head", "vader", "lexicon")
KNOWN_BACKENDS = frozenset((*DEFAULT_CHAIN, "ngram"))


class SentimentSettings(BaseModel):
    """How texts are scored. The defaults are the measured configuration (docs/sentiment.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: tuple[str, ...] = Field(
        default=("en", "vi", "zh", "et"),
        description="Languages to score; anything else gets `unknown`.",
    )
    backends: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {"*": DEFAULT_CHAIN},
        description="Backend chain per language (`*` = default); the first that loads is used.",
    )
    fast_path: bool = True
    fast_backend: str = "lexicon"
    # The second fast stage sees only what the first left.
    fast_second: str | None = "ngram"
    # Each stage answers alone in a language only at or above its gate there. The gates are
    # calibrated on real labelled text and shipped (data/fast_path.json, see fast_gates.py); a
    # language with no gate goes straight to the accurate backend. This replaces them, e.g.
    # CEM_SENTIMENT__FAST_GATES='{"lexicon": {"en": 0.9}}' (every stage or language left out
    # then has no gate).
    fast_gates: dict[str, dict[str, Annotated[float, Field(ge=0.0, le=1.0)]]] | None = None
    # Aspect clauses of multi-clause messages decide only that aspect's polarity; with the fast
    # path on, its stages answer them alone (the message's own label still passes the gates).
    fast_clauses: bool = True
    cache_size: Annotated[int, Field(ge=0)] = 50_000
    long_text_chars: Annotated[int, Field(gt=0)] = 400
    long_text_sentences: Annotated[int, Field(gt=0)] = 3
    max_sentences: Annotated[int, Field(gt=0)] = 200
    # e5 reads 512 tokens; ~500 characters stays inside that window even for Chinese.
    whole_text_chars: Annotated[int, Field(ge=0)] = 500
    threads: Annotated[int, Field(ge=1, le=64)] = 1

    @field_validator("languages")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(normalize_code(v) for v in value if v.strip()))

    @field_validator("fast_second", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        # Environment variables cannot carry None: CEM_SENTIMENT__FAST_SECOND=none turns it off.
        if isinstance(value, str) and value.strip().lower() in {"", "none", "null", "off"}:
            return None
        return value

    @field_validator("fast_backend", "fast_second")
    @classmethod
    def _known_fast(cls, value: str | None) -> str | None:
        if value is not None and value not in KNOWN_BACKENDS:
            raise ValueError(f"unknown backend {value!r}; known: {sorted(KNOWN_BACKENDS)}")
        return value

    @field_validator("backends")
    @classmethod
    def _known(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for chain in value.values():
            unknown = set(chain) - KNOWN_BACKENDS
            if unknown:
                raise ValueError(
                    f"unknown backend(s) {sorted(unknown)}; known: {sorted(KNOWN_BACKENDS)}"
                )
        return {normalize_code(k) if k != "*" else k: v for k, v in value.items()}

    def chain(self, language: str) -> tuple[str, ...]:
        """The backend names to try for `language`, in order."""
        return self.backends.get(language, self.backends.get("*", DEFAULT_CHAIN))
