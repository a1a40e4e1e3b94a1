"""Incremental pull from HubSpot into canonical records.

Per object type: CRM search filtered on the modification stamp (`lastmodifieddate` for contacts,
`hs_lastmodifieddate` elsewhere) GTE `cursor - look-back`, sorted ascending, 200 a page. Search
stops at 10,000 results per query (paging past it is a 400), so the adapter restarts the query
from the last stamp it saw instead of paging on (docs/crm-api-facts.md §3.5), skipping ids already
delivered in this run. The search index lags writes; a record not yet indexed has a stamp later
than everything indexed, so the cursor (the last stamp *seen*) never passes it, and the look-back
covers out-of-order indexing. Reads after our own writes go by id (`batch/read`), never search.

Associations give interactions, deals, tickets and survey answers their customer (v4 batch
read, one call per page); contacts carry their company in `associatedcompanyid`. Deletes:
archived records since the cursor. Pages are read as HubSpot's JSON (the client's `call_json`), not
through the SDK's models, so their keys are HubSpot's camelCase ones (`toObjectId`,
`archivedAt`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.hubspot.client import HubSpotClient
from adapters.mapping import Mapping, MappingSet, coerce
from adapters.records import RecordRefusedError, build_record
from service.domain import Batch, Cursor, DomainModel
from service.ports import PULL_ORDER, Canonical, Stream

log = logging.getLogger(__name__)

PAGE = 200  # search page limit
SEARCH_CAP = 10_000  # results per search query
# Which association fills which canonical field: (target object type, canonical field).
# (Contacts carry their primary company in `associatedcompanyid`, so they need no lookup.)
_LINKS: dict[str, tuple[str, str]] = {
    "transaction": ("contacts", "customer_id"),
    "interaction": ("contacts", "customer_id"),
    "case": ("contacts", "customer_id"),
    "survey": ("contacts", "customer_id"),
}


def _epoch_ms(moment: datetime) -> str:
    return str(int(moment.astimezone(UTC).timestamp() * 1000))


class HubSpotReader:
    """`CrmReader` for one HubSpot portal."""

    def __init__(self, client: HubSpotClient, mappings: MappingSet, lookback: timedelta) -> None:
        self.connection = client.name
        self.client = client
        self.lookback = lookback
        self._mappings = {m.object: m for m in mappings.for_crm("hubspot", "pull")}

    def streams(self) -> Sequence[Stream]:
        ordered = sorted(
            self._mappings.values(), key=lambda m: PULL_ORDER.index(Canonical(m.canonical))
        )
        return [Stream(m.object, Canonical(m.canonical)) for m in ordered]

    def _search(self, mapping: Mapping, since: datetime | None, after: int) -> dict[str, Any]:
        stamp = mapping.modified_field or "hs_lastmodifieddate"
        filters = (
            [{"filters": [{"propertyName": stamp, "operator": "GTE", "value": _epoch_ms(since)}]}]
            if since
            else []
        )
        request = {
            "filterGroups": filters,
            "sorts": [{"propertyName": stamp, "direction": "ASCENDING"}],
            "properties": mapping.crm_fields(),
            "limit": PAGE,
            "after": str(after),
        }
        return self.client.search(mapping.object, request)

    def pull(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch[DomainModel]]:
        mapping = self._mappings[stream.name]
        if stream.name == "owners":
            yield from self._owners(mapping, stream)
            return
        stamp = mapping.modified_field or "hs_lastmodifieddate"
        since = cursor.modified_at - self.lookback if cursor and cursor.modified_at else None
        deleted = self._archived_since(mapping, since) if since else ()
        last = cursor or Cursor(stream=stream.name)
        delivered: set[str] = set()
        after = 0
        while True:
            page = self._search(mapping, since, after)
            rows = [r for r in page.get("results") or [] if str(r["id"]) not in delivered]
            delivered.update(str(r["id"]) for r in rows)
            records, rejected = self._build(mapping, rows)
            for row in rows:
                moment = coerce((row.get("properties") or {}).get(stamp), "datetime")
                if moment is not None and (last.modified_at is None or moment >= last.modified_at):
                    last = Cursor(stream=stream.name, modified_at=moment, last_id=str(row["id"]))
            next_after = ((page.get("paging") or {}).get("next") or {}).get("after")
            more = next_after is not None
            yield Batch(
                records=tuple(records),
                cursor=last,
                has_more=more,
                deleted_ids=deleted,
                rejected=tuple(rejected),
            )
            deleted = ()
            if not more:
                return
            after = int(str(next_after))
            if after + PAGE > SEARCH_CAP:
                # Move the window instead of paging past the cap (which HubSpot answers with 400).
                if last.modified_at is None or (since is not None and last.modified_at <= since):
                    raise RecordRefusedError(
                        stream.name, "more than 10,000 records share one modification stamp"
                    )
                since, after = last.modified_at, 0

    def _owners(self, mapping: Mapping, stream: Stream) -> Iterator[Batch[DomainModel]]:
        """Owners come from the owners API, which has no search: read them all (a few hundred).

        Through the SDK's models (`to_dict()`): the owners mapping names their snake_case
        attributes (`first_name`), and a few hundred rows cost nothing worth a second spelling."""
        after: str | None = None
        while True:
            page = self.client.owners_page(after)
            rows = list(page.get("results") or [])
            records, rejected = [], []
            for row in rows:
                crm_id = str(row["id"])
                try:
                    records.append(
                        build_record(mapping, row, connection=self.connection, crm_id=crm_id)
                    )
                except RecordRefusedError as error:
                    rejected.append(f"{crm_id}: {error.reason}")
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            yield Batch(
                records=tuple(records),
                cursor=Cursor(stream=stream.name),
                has_more=after is not None,
                rejected=tuple(rejected),
            )
            if after is None:
                return

    def _line_item_totals(self, deal_ids: list[str]) -> dict[str, str]:
        """deal id -> the sum of its line items' amounts (for deals without their own amount)."""
        if not deal_ids:
            return {}
        items_of = self._associated("deals", "line_items", deal_ids)
        wanted = sorted({i for items in items_of.values() for i in items})
        amounts: dict[str, float] = {}
        for start in range(0, len(wanted), 100):
            read = {
                "properties": ["amount", "price", "quantity"],
                "inputs": [{"id": i} for i in wanted[start : start + 100]],
            }
            for row in self.client.batch_read("line_items", read).get("results") or []:
                props = row.get("properties") or {}
                amount = coerce(props.get("amount"), "number")
                if amount is None:
                    price = coerce(props.get("price"), "number") or 0.0
                    amount = price * (coerce(props.get("quantity"), "number") or 1.0)
                amounts[str(row["id"])] = float(amount)
        return {
            deal: str(sum(amounts.get(i, 0.0) for i in items))
            for deal, items in items_of.items()
            if items
        }

    def _build(
        self, mapping: Mapping, rows: list[dict[str, Any]]
    ) -> tuple[list[DomainModel], list[str]]:
        if mapping.object == "deals":
            # A deal's amount may be left empty when it is made of line items (HubSpot computes
            # nothing for us here); their sum stands in for it.
            bare = [str(r["id"]) for r in rows if not (r.get("properties") or {}).get("amount")]
            totals = self._line_item_totals(bare)
            for row in rows:
                if str(row["id"]) in totals:
                    row.setdefault("properties", {})["amount"] = totals[str(row["id"])]
        links = self._links(mapping, [str(r["id"]) for r in rows])
        records: list[DomainModel] = []
        rejected: list[str] = []
        link = _LINKS.get(mapping.canonical)
        for row in rows:
            crm_id = str(row["id"])
            flat: dict[str, Any] = dict(row.get("properties") or {})
            flat.setdefault("hs_object_id", crm_id)
            linked = {link[1]: links[crm_id]} if link and crm_id in links else {}
            try:
                if link and link[1] == "customer_id" and not linked:
                    raise RecordRefusedError(crm_id, "not associated with a contact")
                records.append(
                    build_record(
                        mapping, flat, connection=self.connection, crm_id=crm_id, linked=linked
                    )
                )
            except RecordRefusedError as error:
                log.warning("skipped %s %s", mapping.object, error)
                rejected.append(f"{crm_id}: {error.reason}")
        return records, rejected

    def _associated(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, list[str]]:
        """id -> the ids of its associated `to_type` records (v4 batch read, 1,000 ids a call)."""
        found: dict[str, list[str]] = {}
        for start in range(0, len(ids), 1000):
            page = self.client.associations(from_type, to_type, ids[start : start + 1000])
            for result in page.get("results") or []:
                origin = result.get("from") or {}
                targets = [str(t["toObjectId"]) for t in result.get("to") or []]
                if targets and origin.get("id") is not None:
                    found[str(origin["id"])] = targets
        return found

    def _links(self, mapping: Mapping, ids: list[str]) -> dict[str, str]:
        """id -> the first associated record of the linked type (the customer's contact)."""
        link = _LINKS.get(mapping.canonical)
        if link is None or not ids:
            return {}
        return {k: v[0] for k, v in self._associated(mapping.object, link[0], ids).items()}

    def _archived_since(self, mapping: Mapping, since: datetime) -> tuple[str, ...]:
        """Ids archived (deleted) at or after `since`; HubSpot lists them with archived=true."""
        gone: list[str] = []
        after: str | None = None
        while True:
            page = self.client.archived_page(mapping.object, after)
            for row in page.get("results") or []:
                when = row.get("archivedAt")
                if when is not None and coerce(when, "datetime") >= since:
                    gone.append(str(row["id"]))
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if after is None:
                return tuple(gone)

    def get(self, stream: Stream, crm_ids: Sequence[str]) -> list[DomainModel]:
        mapping = self._mappings[stream.name]
        found: list[DomainModel] = []
        for start in range(0, len(crm_ids), 100):
            request = {
                "properties": mapping.crm_fields(),
                "inputs": [{"id": i} for i in crm_ids[start : start + 100]],
            }
            page = self.client.batch_read(mapping.object, request)
            found.extend(self._build(mapping, list(page.get("results") or []))[0])
        return found
