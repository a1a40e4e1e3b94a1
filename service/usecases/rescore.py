"""Rescoring one customer on demand: score and push on every connection they are linked on.

The same `act_on` as sync, ingestion and CRM events. A rescore is idempotent: the push ledger
leaves out fields whose value did not change, tasks are keyed, and a moved `scored_at` alone is
not a change (see `StampTolerantLedger`), so a second call with nothing new writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine

from service.ports import CrmWriter, FieldUpdate
from service.scoring.churn.thresholds import FlagPolicy
from service.store.ledger import PushLedgerRepository
from service.usecases.models import scoring_models
from service.usecases.sync import Progress, SyncReport, SyncStores, act_on

# Fields that say when, not what: they move on every scoring and carry no news on their own.
STAMP_FIELDS = frozenset({"scored_at"})


def _ignore(_name: str, _count: int) -> None:
    return None


class StampTolerantLedger(PushLedgerRepository):
    """The push ledger, but a record whose only changed field is a stamp is left out whole."""

    def changed(self, connection: str, updates: Sequence[FieldUpdate]) -> list[FieldUpdate]:
        return [u for u in super().changed(connection, updates) if set(u.fields) - STAMP_FIELDS]


def rescore_stores(stores: SyncStores, engine: Engine) -> SyncStores:
    """The sync stores with the stamp-tolerant ledger a rescore uses."""
    return replace(stores, ledger=StampTolerantLedger(engine))


def rescore_customer(
    customer_id: str,
    connections: Sequence[str],
    writers: Callable[[str], CrmWriter],
    stores: SyncStores,
    as_of: datetime,
    *,
    flag_policy: FlagPolicy | None = None,
    progress: Progress = _ignore,
) -> SyncReport:
    """Score `customer_id` and push the result on each of `connections` (where it is linked)."""
    return rescore_people(
        {connection: [customer_id] for connection in connections},
        writers,
        stores,
        as_of,
        flag_policy=flag_policy,
        progress=progress,
    )


def rescore_people(
    people: Mapping[str, Collection[str]],
    writers: Callable[[str], CrmWriter],
    stores: SyncStores,
    as_of: datetime,
    *,
    flag_policy: FlagPolicy | None = None,
    progress: Progress = _ignore,
) -> SyncReport:
    """Score the persons `people[connection]` and push the results on each connection: the
    models are fitted once per connection, whatever the number of persons (a survey import
    rescoring everyone who answered)."""
    report = SyncReport()
    for connection, customer_ids in people.items():
        if not customer_ids:
            continue
        models = scoring_models(stores.records, connection, as_of, flag_policy, stores.churn_models)
        act_on(
            connection, customer_ids, writers(connection), stores, as_of, models, report, progress
        )
    return report
