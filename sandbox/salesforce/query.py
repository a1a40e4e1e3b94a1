"""Running SOQL: the first page, then `nextRecordsUrl` pages through stored cursors.

A query is evaluated once; its matching rows are kept under a locator and later pages slice
them (docs/crm-api-facts.md §2.3: `totalSize` is the whole result, `nextRecordsUrl` is a *path*
ending in `-<offset>`, which simple-salesforce requests on the instance host as is).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.salesforce.errors import SalesforceApiError
from sandbox.salesforce.responses import format_datetime
from sandbox.salesforce.soql.aggregate import aggregate_rows
from sandbox.salesforce.soql.compile import CompiledQuery, OutputNode, compile_query
from sandbox.salesforce.soql.parser import parse
from sandbox.salesforce.store import VISIBLE_AT, Record, SalesforceStore

MIN_BATCH, MAX_BATCH = 200, 2000
# Locators live two days since API v56 (docs/crm-api-facts.md §2.3); keep at most this many in
# memory.
LOCATOR_TTL_SECONDS = 2 * 24 * 3600
MAX_OPEN_CURSORS = 500


@dataclass(slots=True)
class _Cursor:
    compiled: CompiledQuery
    rows: list[Record]
    page_size: int
    created: datetime


def _invalid_locator() -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")


class QueryEngine:
    """Executes SOQL against a store and serves result pages."""

    def __init__(self, store: SalesforceStore, page_size: int = MAX_BATCH) -> None:
        self.store = store
        self.page_size = page_size
        self._lock = threading.Lock()
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()

    def run(
        self, soql: str, *, include_deleted: bool, version: str, batch_size: int | None = None
    ) -> dict[str, Any]:
        """Execute `soql` and return the first page (the REST response body)."""
        now = self.store.clock.now()
        compiled = compile_query(parse(soql), soql, self.store, now)
        if compiled.aggregation is not None:
            return self._aggregate(compiled, include_deleted)
        rows = self.select(compiled, include_deleted=include_deleted)
        if compiled.count_only:
            return {"totalSize": len(rows), "done": True, "records": []}
        page_size = self.page_size
        if batch_size is not None:
            page_size = min(page_size, max(MIN_BATCH, min(MAX_BATCH, batch_size)))
        cursor = _Cursor(compiled, rows, page_size, now)
        if len(rows) <= page_size:
            return self._page(cursor, "", 0, version)
        locator = self.store.ids.new("0r8")
        with self._lock:
            self._cursors[locator] = cursor
            while len(self._cursors) > MAX_OPEN_CURSORS:
                self._cursors.popitem(last=False)
        return self._page(cursor, locator, 0, version)

    def _aggregate(self, compiled: CompiledQuery, include_deleted: bool) -> dict[str, Any]:
        assert compiled.aggregation is not None
        rows = self.store.rows(compiled.obj, include_deleted=include_deleted)
        predicate = compiled.predicate
        matching = (r for r in rows if predicate(r)) if predicate else rows
        results = aggregate_rows(compiled.aggregation, matching)
        start = compiled.offset or 0
        end = start + compiled.limit if compiled.limit is not None else None
        results = results[start:end]
        if len(results) > MAX_BATCH:
            # Aggregate results are never paged (queryMore does not apply to them).
            raise SalesforceApiError(
                400, "MALFORMED_QUERY", "Aggregate query has too many rows for direct assignment"
            )
        return {"totalSize": len(results), "done": True, "records": results}

    def more(self, locator_and_offset: str, version: str) -> dict[str, Any]:
        """A later page; `locator_and_offset` is the last segment of nextRecordsUrl."""
        locator, _, offset_text = locator_and_offset.rpartition("-")
        if not locator or not offset_text.isdigit():
            raise _invalid_locator()
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None:
            raise _invalid_locator()
        age = (self.store.clock.now() - cursor.created).total_seconds()
        offset = int(offset_text)
        if age > LOCATOR_TTL_SECONDS or offset > len(cursor.rows):
            raise _invalid_locator()
        return self._page(cursor, locator, offset, version)

    def clear(self) -> None:
        """Forget all open cursors."""
        with self._lock:
            self._cursors.clear()

    def select(self, compiled: CompiledQuery, *, include_deleted: bool) -> list[Record]:
        """The matching rows of the top-level object, sorted, offset and limited."""
        rows = self.store.rows(compiled.obj, include_deleted=include_deleted)
        now = format_datetime(self.store.clock.now())
        if self.store.commit_delay.horizon > now:
            rows = (r for r in rows if r.get(VISIBLE_AT, "") <= now)
        return self._shape(compiled, rows)

    def _shape(self, compiled: CompiledQuery, rows: Any) -> list[Record]:
        predicate = compiled.predicate
        selected: list[Record] = [r for r in rows if predicate(r)] if predicate else list(rows)
        for getter, descending, nulls_last in reversed(compiled.sort_keys):
            # (null rank, value): the rank puts nulls first or last whatever the direction.
            nulls_high = nulls_last != descending

            def key(record: Record, get: Any = getter, high: bool = nulls_high) -> tuple[int, Any]:
                value = get(record)
                if value is None:
                    return (1 if high else 0, 0)
                return (0 if high else 1, value)

            selected.sort(key=key, reverse=descending)
        start = compiled.offset or 0
        end = start + compiled.limit if compiled.limit is not None else None
        return selected[start:end]

    def _page(self, cursor: _Cursor, locator: str, offset: int, version: str) -> dict[str, Any]:
        end = offset + cursor.page_size
        chunk = cursor.rows[offset:end]
        done = end >= len(cursor.rows)
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": done}
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        compiled = cursor.compiled
        body["records"] = [self.render(compiled, compiled.output, r, version) for r in chunk]
        if done and locator:
            with self._lock:
                self._cursors.pop(locator, None)
        return body

    def render(
        self,
        compiled: CompiledQuery,
        node: OutputNode,
        record: Record,
        version: str,
        type_name: str | None = None,
    ) -> dict[str, Any]:
        """One record as the API returns it: attributes, then the selected fields in order."""
        name = type_name or compiled.obj.name
        out: dict[str, Any] = {
            "attributes": {
                "type": name,
                "url": f"/services/data/v{version}/sobjects/{name}/{record['Id']}",
            }
        }
        for field_name in node.fields:
            out[field_name] = record.get(field_name)
        for rel_name, ref_field, sub in node.parents.values():
            target = record.get(ref_field)
            found = self.store.get_any(target) if target else None
            out[rel_name] = (
                self.render(compiled, sub, found[1], version, found[0].name) if found else None
            )
        for rel_name, child in node.children:
            assert child.link_field is not None
            kids = self._shape(
                child, self.store.children(child.obj, child.link_field, record["Id"])
            )
            out[rel_name] = (
                {
                    "totalSize": len(kids),
                    "done": True,
                    "records": [self.render(child, child.output, k, version) for k in kids],
                }
                if kids
                else None
            )
        return out
