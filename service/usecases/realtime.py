"""Applying CRM change events: re-read the records by id, store, rescore and push at once."""

from __future__ import annotations

from datetime import datetime

from service.ports import CrmReader, CrmWriter
from service.realtime.hubspot import Changes
from service.scoring.customer import ScoringModels
from service.sentiment.pipeline import SentimentAnalyzer
from service.usecases.annotate import with_sentiment
from service.usecases.sync import SyncReport, SyncStores, act_on


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
) -> SyncReport:
    """Re-read changed records (gone ones count as deleted), then act on the customers touched."""
    report = SyncReport()
    streams = {s.name: s for s in reader.streams()}
    for object_type, ids in changes.reread.items():
        stream = streams.get(object_type)
        if stream is None:
            continue  # an object we do not map (e.g. deals without a mapping)
        found = with_sentiment(reader.get(stream, ids), analyzer)
        stored = stores.records.upsert(connection, found)
        report.pulled += len(found)
        report.changed_customers |= stored.changed_customers
        present = {r.source.crm_id for r in found if getattr(r, "source", None)}  # type: ignore[attr-defined]
        gone = [i for i in ids if i not in present]
        report.changed_customers |= stores.records.mark_deleted(connection, object_type, gone)
    for object_type, ids in changes.deleted.items():
        report.changed_customers |= stores.records.mark_deleted(connection, object_type, ids)
    if report.changed_customers:
        act_on(connection, report.changed_customers, writer, stores, as_of, models, report)
    return report
