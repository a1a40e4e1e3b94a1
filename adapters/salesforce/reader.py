"""Incremental pull from Salesforce into canonical records.

Per object: `SELECT <mapped fields> FROM <Obj> WHERE SystemModstamp >= <cursor - look-back>
ORDER BY SystemModstamp, Id`, one batch per REST page (2,000 rows), each batch carrying the cursor
of its last row. SystemModstamp is the watermark because it also moves on system-driven changes
(docs/crm-api-facts.md §2.10); the look-back re-reads rows committed late with an earlier stamp, and
rows that share a stamp across a page boundary. Re-read rows are harmless: the store upserts them.

Deletes: `queryAll` with `IsDeleted = true` since the cursor (the recycle bin keeps ~15 days).

Large first loads page through REST rather than Bulk API 2.0 query jobs: a REST page costs one
call per 2,000 rows (100,000 contacts = 50 calls, well inside any org's daily quota), keeps the
cursor checkpoint per page so a crash loses at most one page, and needs no CSV handling. Bulk
query jobs pay off for tens of millions of rows, which is beyond this milestone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from adapters.mapping import Mapping, MappingSet, coerce
from adapters.records import RecordRefusedError, build_record
from adapters.salesforce import soql
from adapters.salesforce.client import SalesforceClient, next_page, run_query
from service.domain import Batch, Cursor, DomainModel
from service.ports import PULL_ORDER, Canonical, CrmConfigError, Stream

log = logging.getLogger(__name__)

MODSTAMP = "SystemModstamp"
# A Salesforce record id: 15 case-sensitive or 18 case-insensitive alphanumeric characters.
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def _later(old: Cursor, new: Cursor) -> Cursor:
    """The later of two cursors: re-reading the look-back window never moves a cursor back."""
    if old.modified_at is None or new.modified_at is None:
        return new if new.modified_at is not None else old
    return (
        new if (new.modified_at, new.last_id or "") > (old.modified_at, old.last_id or "") else old
    )


class SalesforceReader:
    """`CrmReader` for one Salesforce org."""

    def __init__(self, client: SalesforceClient, mappings: MappingSet, lookback: timedelta) -> None:
        self.connection = client.name
        self.client = client
        self.lookback = lookback
        self._mappings = {m.object: m for m in mappings.for_crm("salesforce", "pull")}
        for mapping in self._mappings.values():
            try:
                soql.condition(mapping.where or "")
            except ValueError as error:
                raise CrmConfigError(
                    f"mapping {mapping.object}: `where` is not a self-contained condition "
                    f"({error})",
                    connection=self.connection,
                ) from None

    def streams(self) -> Sequence[Stream]:
        ordered = sorted(
            self._mappings.values(), key=lambda m: PULL_ORDER.index(Canonical(m.canonical))
        )
        return [Stream(m.object, Canonical(m.canonical)) for m in ordered]

    def _since(self, cursor: Cursor | None) -> datetime | None:
        if cursor is None or cursor.modified_at is None:
            return None
        return cursor.modified_at - self.lookback

    def _query(self, mapping: Mapping, since: datetime | None) -> str:
        fields = ["Id", *mapping.crm_fields()]
        conditions = [f"{MODSTAMP} >= {soql.literal(since)}"] if since else []
        if mapping.where:
            conditions.append(f"({mapping.where})")  # checked by soql.condition() above
        where = " AND ".join(conditions) or None
        return soql.select(
            list(dict.fromkeys(fields)), mapping.object, where, ["SystemModstamp", "Id"]
        )

    def pull(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch[DomainModel]]:
        mapping = self._mappings[stream.name]
        since = self._since(cursor)
        deleted = self._deleted_ids(mapping, since) if since else ()
        last = cursor or Cursor(stream=stream.name)
        for page in self._pages(self._query(mapping, since)):
            rows: list[dict[str, Any]] = page.get("records", [])
            records, rejected = self._build(mapping, rows)
            if rows:
                last = _later(
                    last,
                    Cursor(
                        stream=stream.name,
                        modified_at=coerce(rows[-1].get(MODSTAMP), "datetime"),
                        last_id=str(rows[-1]["Id"]),
                    ),
                )
            yield Batch(
                records=tuple(records),
                cursor=last,
                has_more=not page.get("done", True),
                deleted_ids=deleted,
                rejected=tuple(rejected),
            )
            deleted = ()  # reported once, with the first batch

    def _pages(self, query: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """The result pages of one query, each fetched through the client (retries, quota)."""
        page: dict[str, Any] = self.client.call(
            partial(run_query, query=query, include_deleted=include_deleted)
        )
        yield page
        while not page.get("done", True):
            page = self.client.call(
                partial(next_page, url=str(page["nextRecordsUrl"]), include_deleted=include_deleted)
            )
            yield page

    def _build(
        self, mapping: Mapping, rows: list[dict[str, Any]]
    ) -> tuple[list[DomainModel], list[str]]:
        records: list[DomainModel] = []
        rejected: list[str] = []
        for row in rows:
            crm_id = str(row.get("Id", ""))
            try:
                records.append(
                    build_record(mapping, row, connection=self.connection, crm_id=crm_id)
                )
            except RecordRefusedError as error:
                log.warning("skipped %s %s", mapping.object, error)
                rejected.append(f"{crm_id}: {error.reason}")
        return records, rejected

    def _deleted_ids(self, mapping: Mapping, since: datetime) -> tuple[str, ...]:
        query = soql.select(
            ["Id"],
            mapping.object,
            f"IsDeleted = true AND {MODSTAMP} >= {soql.literal(since)}",
            ["SystemModstamp", "Id"],
        )
        pages = self._pages(query, include_deleted=True)
        return tuple(str(r["Id"]) for page in pages for r in page.get("records", []))

    def get(self, stream: Stream, crm_ids: Sequence[str]) -> list[DomainModel]:
        mapping = self._mappings[stream.name]
        fields = list(dict.fromkeys(["Id", *mapping.crm_fields()]))
        # Ids come from callers (the API, webhooks): one that is not shaped like a record id
        # names no record, and Salesforce would refuse the whole query for it
        # (INVALID_QUERY_FILTER_OPERATOR), turning a caller's typo into a CRM failure.
        wellformed = [i for i in crm_ids if _RECORD_ID.match(i)]
        found: list[DomainModel] = []
        for start in range(0, len(wellformed), 200):
            chunk = wellformed[start : start + 200]
            query = soql.select(fields, mapping.object, f"Id IN {soql.in_list(chunk)}")
            for page in self._pages(query):
                found.extend(self._build(mapping, page.get("records", []))[0])
        return found
