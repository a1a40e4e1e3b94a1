"""Sentiment for pulled messages, computed once while the text is at hand.

Message text is not stored unless configured, so sentiment and aspects are attached to the
interaction when it is pulled and kept with it; rescoring later never needs the text again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from service.domain import Customer, DomainModel, Interaction
from service.sentiment.language import Hint, Prior
from service.sentiment.signal import TextSignal

# CRM contact/lead ids -> the language their customer record gives (e.g. the record store's
# `customer_languages` for one connection); asked only for customers not in the batch.
LanguageLookup = Callable[[Iterable[str]], Mapping[str, str]]


class SignalSource(Protocol):
    """What gives texts their signals: the `SentimentAnalyzer`, or a sync job's fan-out of its
    texts over the task queue's workers (service/jobs/sync_tasks.py)."""

    def signals_batch(self, items: Sequence[tuple[str, Hint]]) -> list[TextSignal]: ...


def _crm_id(customer: Customer) -> str:
    return customer.source.crm_id if customer.source is not None else customer.id


def customer_priors(
    records: Sequence[DomainModel], messages: Sequence[Interaction], lookup: LanguageLookup | None
) -> dict[str, str]:
    """The language of each message's customer, by CRM contact id: from a customer record in
    the same batch, else from `lookup`; customers whose language nobody knows are left out."""
    known = {_crm_id(r): r.language for r in records if isinstance(r, Customer) and r.language}
    wanted = {m.customer_id for m in messages if not m.language} - set(known)
    if wanted and lookup is not None:
        known.update(lookup(sorted(wanted)))
    return known


def with_sentiment(
    records: Sequence[DomainModel],
    analyzer: SignalSource | None,
    languages: LanguageLookup | None = None,
) -> list[DomainModel]:
    """The records, interactions with text given their sentiment (others unchanged).

    A CRM's language fields say what a customer usually writes, not what this message is in,
    so they are a `Prior` for detection (it decides only a text too short or unclear to tell),
    never a hint that wins: the message's own language field if set, else its customer's."""
    if analyzer is None:
        return list(records)
    todo = [
        (i, r)
        for i, r in enumerate(records)
        if isinstance(r, Interaction) and r.text and r.sentiment is None
    ]
    if not todo:
        return list(records)
    priors = customer_priors(records, [r for _, r in todo], languages)
    items = []
    for _, record in todo:
        language = record.language or priors.get(record.customer_id)
        items.append((record.text or "", Prior(language) if language else None))
    found = analyzer.signals_batch(items)
    out = list(records)
    for (index, record), signal in zip(todo, (f.signal for f in found), strict=True):
        if signal is not None:
            out[index] = record.model_copy(update={"sentiment": signal})
    return out
