"""Applying CRM change events: re-read the records by id, store, rescore and push at once."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from functools import partial
from typing import Any

from service.ports import CrmReader, CrmWriter
from service.realtime.changes import Changes
from service.scoring.customer import ScoringModels
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


def apply_changes(
    connection: str,
    reader: CrmReader,
    writer: CrmWriter,
    stores: SyncStores,
    changes: Changes,
    as_of: datetime,
    *,
    analyzer: SentimentAnalyzer | None,
    models: ScoringModels,
    serial: AbstractContextManager[Any] | None = None,
    elsewhere: Elsewhere | None = None,
) -> SyncReport:
    """Re-read changed records (gone ones count as deleted), then act on the customers touched.

    `serial` is held while reading and storing, so of two deliveries about one record the later
    read is also the later write (a re-read is the CRM's state at that moment, never older).
    With `elsewhere`, the persons' other connections are acted on at once too (`act_elsewhere`);
    without, they are marked for their next sync.
    """
    report = SyncReport()
    streams = {s.name: s for s in reader.streams()}
    languages = partial(stores.records.customer_languages, connection)
    with serial or nullcontext():
        for object_type, ids in changes.reread.items():
            stream = streams.get(object_type)
            if stream is None:
                continue  # an object we do not map (e.g. deals without a mapping)
            found = with_sentiment(reader.get(stream, ids), analyzer, languages)
            stored = stores.records.upsert(connection, found)
            report.pulled += len(found)
            report.changed_customers |= stored.changed_customers
            present = {r.source.crm_id for r in found if getattr(r, "source", None)}  # type: ignore[attr-defined]
            gone = [i for i in ids if i not in present]
            report.changed_customers |= stores.records.mark_deleted(connection, object_type, gone)
        for object_type, ids in changes.deleted.items():
            if object_type in streams:
                report.changed_customers |= stores.records.mark_deleted(
                    connection, object_type, ids
                )
    if report.changed_customers:
        act_on(connection, report.changed_customers, writer, stores, as_of, models, report)
        if elsewhere is not None:
            act_elsewhere(stores, connection, report.changed_customers, as_of, elsewhere, report)
        else:
            mark_elsewhere(stores, connection, report.changed_customers)
    return report
