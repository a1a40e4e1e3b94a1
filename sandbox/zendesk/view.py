"""The read-only HTML view of the emulated account (`/__sandbox/view`): users,
organizations and tickets; a ticket shows its comments (internal notes marked) and rating."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sandbox.core.view import RecordDetail, RecordSummary, RelatedLink, TimelineItem, ViewKind
from sandbox.zendesk.emulator import ZendeskEmulator
from sandbox.zendesk.store import Table

_KINDS = (
    ViewKind("users", "Users"),
    ViewKind("organizations", "Organizations"),
    ViewKind("tickets", "Tickets"),
)


def _title(kind: str, row: dict[str, Any]) -> str:
    return str(row.get("subject") if kind == "tickets" else row.get("name") or row["id"])


class ZendeskView:
    def __init__(self, emu: ZendeskEmulator) -> None:
        self.emu = emu

    @property
    def crm_name(self) -> str:
        return "Zendesk sandbox"

    def kinds(self) -> Sequence[ViewKind]:
        return _KINDS

    def _table(self, kind: str) -> Table | None:
        store = self.emu.store
        return {
            "users": store.users,
            "organizations": store.organizations,
            "tickets": store.tickets,
        }.get(kind)

    def search(
        self, kind: str, query: str, offset: int, limit: int
    ) -> tuple[int, Sequence[RecordSummary]]:
        table = self._table(kind)
        if table is None:
            return 0, []
        needle = query.lower()
        with self.emu.store.lock:
            rows = [table.rows[i] for i in sorted(table.rows)]
            found = [
                r
                for r in rows
                if not needle or needle in " ".join(str(v) for v in r.values()).lower()
            ]
            page = found[offset : offset + limit]
            return len(found), [
                RecordSummary(
                    str(r["id"]),
                    _title(kind, r),
                    str(r.get("email") or r.get("status") or ""),
                    str(r.get("updated_at") or ""),
                )
                for r in page
            ]

    def detail(self, kind: str, record_id: str) -> RecordDetail | None:
        table = self._table(kind)
        if table is None or not record_id.isdigit():
            return None
        store = self.emu.store
        with store.lock:
            row = table.get(int(record_id))
            if row is None:
                return None
            fields = [(k, str(v)) for k, v in sorted(row.items())]
            timeline: list[TimelineItem] = []
            related: list[RelatedLink] = []
            if kind == "tickets":
                for c in reversed(store.comments.get(int(record_id), [])):
                    label = "comment" if c["public"] else "internal note"
                    timeline.append(
                        TimelineItem(c["created_at"], label, f"by {c['author_id']}", c["body"])
                    )
                related.append(RelatedLink("users", str(row["requester_id"]), "requester"))
            if kind == "users":
                for t in store.tickets.rows.values():
                    if t["requester_id"] == int(record_id):
                        related.append(RelatedLink("tickets", str(t["id"]), str(t.get("subject"))))
            return RecordDetail(
                str(row["id"]), _title(kind, row), fields, timeline=timeline, related=related
            )
