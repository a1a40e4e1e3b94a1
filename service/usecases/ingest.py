"""Real-time ingestion: one message from any channel, scored and acted on at once.

A chat, e-mail, call note, review or social message (Zalo, ...) for a customer known in a CRM
connection is given its sentiment, stored like a pulled interaction, and the customer is
rescored and pushed right away: a negative message raises the churn flag and creates the task
without waiting for the next batch sync. The caller's message id is the idempotency key: the
same message sent twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from service.domain import Interaction, SourceRef
from service.ports import Canonical, CrmNotFoundError, CrmReader, CrmWriter
from service.scoring.customer import CustomerScore, ScoringModels
from service.sentiment.pipeline import SentimentAnalyzer
from service.usecases.annotate import with_sentiment
from service.usecases.sync import (
    Elsewhere,
    SyncReport,
    SyncStores,
    act_elsewhere,
    act_on,
    mark_elsewhere,
)

INGESTED_OBJECT = "cem_message"  # the source object of messages that came in through our API


class CustomerErasedError(Exception):
    """The message is for a customer erased on request: nothing about them may be stored."""


class UnknownCustomerError(Exception):
    """Neither our records nor the CRM know the customer: storing the message would make up a
    blank customer (a "phantom") that every later report and score would count."""


@dataclass(frozen=True)
class IngestResult:
    customer_id: str
    new: bool
    score: CustomerScore | None
    report: SyncReport


def _ensure_customer(connection: str, reader: CrmReader, stores: SyncStores, crm_id: str) -> None:
    """Read the customer from the CRM by id when we have not pulled them yet (never via search);
    `UnknownCustomerError` when the CRM has no such contact or lead either."""
    if stores.records.known_customer(connection, crm_id) is not None:
        return
    for stream in reader.streams():
        if stream.canonical is not Canonical.CUSTOMER:
            continue
        try:
            found = reader.get(stream, [crm_id])
        except CrmNotFoundError:
            continue
        if found:
            stores.records.upsert(connection, found)
            if stores.records.known_customer(connection, crm_id) is not None:
                return
    raise UnknownCustomerError(crm_id)


def ingest_interaction(
    connection: str,
    reader: CrmReader,
    writer: CrmWriter,
    stores: SyncStores,
    interaction: Interaction,
    as_of: datetime,
    *,
    analyzer: SentimentAnalyzer | None,
    models: ScoringModels,
    elsewhere: Elsewhere | None = None,
) -> IngestResult:
    """Store one message for the CRM customer `interaction.customer_id`, rescore, push (with
    `elsewhere`: to the person's other connections too, at once).

    `CustomerErasedError` when that customer was erased: storing the message would start a new
    profile of a person who asked to be forgotten.
    """
    if stores.records.is_erased(connection, interaction.customer_id):
        raise CustomerErasedError(interaction.customer_id)
    if stores.records.exists(connection, INGESTED_OBJECT, interaction.id):
        # The caller's id is the idempotency key: a retried POST changes nothing.
        known = stores.records.known_customer(connection, interaction.customer_id)
        if known is not None:
            return IngestResult(known, False, None, SyncReport())
    sourced = interaction.model_copy(
        update={
            "source": SourceRef(
                connection=connection, crm_object=INGESTED_OBJECT, crm_id=interaction.id
            )
        }
    )
    _ensure_customer(connection, reader, stores, interaction.customer_id)
    records = with_sentiment(
        [sourced], analyzer, partial(stores.records.customer_languages, connection)
    )
    stored = stores.records.upsert(connection, records)
    report = SyncReport(pulled=1, changed_customers=set(stored.changed_customers))
    customer_id = next(iter(stored.changed_customers), None) or stores.records.customer_for(
        connection, interaction.customer_id
    )
    if not stored.changed_customers:
        return IngestResult(customer_id, False, None, report)
    scores = act_on(connection, stored.changed_customers, writer, stores, as_of, models, report)
    if elsewhere is not None:
        act_elsewhere(stores, connection, report.changed_customers, as_of, elsewhere, report)
    else:
        mark_elsewhere(stores, connection, report.changed_customers)
    return IngestResult(customer_id, True, scores.get(customer_id), report)
