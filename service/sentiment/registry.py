"""Building the configured backends; a backend that cannot load is skipped with a logged reason."""

from __future__ import annotations

import logging
from collections.abc import Callable

from service.sentiment.head import HeadFileError
from service.sentiment.protocol import BackendUnavailableError, SentimentModel
from service.sentiment.settings import SentimentSettings

logger = logging.getLogger(__name__)


def _e5(settings: SentimentSettings) -> SentimentModel:
    from service.sentiment.embedding_backend import EmbeddingHeadModel

    return EmbeddingHeadModel(frozenset(settings.languages), threads=settings.threads)


def _vader(settings: SentimentSettings) -> SentimentModel:
    from service.sentiment.vader_backend import VaderModel

    return VaderModel()


def _lexicon(settings: SentimentSettings) -> SentimentModel:
    from service.sentiment.lexicon_backend import LEXICON_LANGUAGES, LexiconModel

    return LexiconModel([lang for lang in settings.languages if lang in LEXICON_LANGUAGES])


def _ngram(settings: SentimentSettings) -> SentimentModel:
    from service.sentiment.ngram_backend import NgramModel

    return NgramModel(settings.languages)


FACTORIES: dict[str, Callable[[SentimentSettings], SentimentModel]] = {
    "e5-head": _e5,
    "vader": _vader,
    "lexicon": _lexicon,
    "ngram": _ngram,
}


def build_backends(settings: SentimentSettings) -> tuple[dict[str, SentimentModel], dict[str, str]]:
    """Every backend named in the configuration that loads, and why the others did not."""
    wanted = {name for chain in settings.backends.values() for name in chain}
    if settings.fast_path:
        wanted.add(settings.fast_backend)
        if settings.fast_second:
            wanted.add(settings.fast_second)
    loaded: dict[str, SentimentModel] = {}
    skipped: dict[str, str] = {}
    for name in sorted(wanted):
        try:
            loaded[name] = FACTORIES[name](settings)
        except (BackendUnavailableError, HeadFileError) as error:
            skipped[name] = str(error)
            logger.warning("sentiment backend %s skipped: %s", name, error)
    return loaded, skipped
