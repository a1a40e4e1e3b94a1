"""Messages pulled from a CRM carry a language *prior*: their own language field, else their
customer's, found in the same batch or asked of the store; never a hint that wins."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import cast

from service.domain import Channel, Customer, DomainModel, Interaction, SourceRef
from service.sentiment.language import Hint, Prior
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.signal import TextSignal
from service.usecases.annotate import LanguageLookup, with_sentiment

T0 = datetime(2026, 10, 1, tzinfo=UTC)
# Django 5.2.20's Estonian catalogue: "Change password".
TEXT = "Muuda parooli"


class Recorder:
    """Stands in for the analyzer: keeps what it was asked, answers `unknown` (no signal)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Hint]] = []

    def signals_batch(self, items: Sequence[tuple[str, Hint]]) -> list[TextSignal]:
        self.items += items
        return [TextSignal(None, "und", "test") for _ in items]


def _contact(crm_id: str, language: str | None) -> Customer:
    source = SourceRef(connection="sf", crm_object="Contact", crm_id=crm_id)
    return Customer(id=crm_id, language=language, source=source)


def _message(crm_id: str, customer: str, language: str | None = None) -> Interaction:
    return Interaction(
        id=crm_id,
        customer_id=customer,
        channel=Channel.EMAIL,
        occurred_at=T0,
        text=TEXT,
        language=language,
        source=SourceRef(connection="sf", crm_object="Task", crm_id=crm_id),
    )


def _hints(records: Sequence[DomainModel], lookup: LanguageLookup | None = None) -> list[Hint]:
    recorder = Recorder()
    with_sentiment(records, cast(SentimentAnalyzer, recorder), lookup)
    return [hint for _, hint in recorder.items]


def test_the_message_language_is_a_prior_not_a_hint() -> None:
    assert _hints([_message("t1", "c1", language="et")]) == [Prior("et")]


def test_a_customer_in_the_same_batch_gives_its_language() -> None:
    records = [_contact("c1", "vi"), _message("t1", "c1"), _message("t2", "c2")]
    assert _hints(records) == [Prior("vi"), None]


def test_customers_not_in_the_batch_are_asked_of_the_store_once() -> None:
    asked: list[list[str]] = []

    def lookup(crm_ids: Iterable[str]) -> Mapping[str, str]:
        asked.append(list(crm_ids))
        return {"c2": "et"}

    records = [
        _contact("c1", "vi"),
        _message("t1", "c1"),
        _message("t2", "c2"),
        _message("t3", "c3"),
        _message("t4", "c4", language="zh"),
    ]
    assert _hints(records, lookup) == [Prior("vi"), Prior("et"), None, Prior("zh")]
    # Only customers whose messages lack a language and who are not in the batch.
    assert asked == [["c2", "c3"]]
