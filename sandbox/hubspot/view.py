"""The read-only HTML view of the emulated portal (``/__sandbox/view``), via the shared core view.

Contacts, companies, deals and tickets are browsable and searchable; a record page shows every
property, its open tasks and its timeline (notes, emails, calls, meetings), newest first.
"""

from __future__ import annotations

from collections.abc import Sequence

from sandbox.core.view import RecordDetail, RecordSummary, RelatedLink, TimelineItem, ViewKind
from sandbox.hubspot.emulator import HubSpotEmulator
from sandbox.hubspot.objecttypes import OBJECT_TYPES
from sandbox.hubspot.store import StoredObject

_KINDS = (
    ViewKind("contacts", "Contacts"),
    ViewKind("companies", "Companies"),
    ViewKind("deals", "Deals"),
    ViewKind("tickets", "Tickets"),
)
_TITLE = {
    "contacts": ("firstname", "lastname"),
    "companies": ("name",),
    "deals": ("dealname",),
    "tickets": ("subject",),
}
_SUBTITLE = {
    "contacts": "email",
    "companies": "domain",
    "deals": "amount",
    "tickets": "hs_pipeline_stage",
}
# (type, title property, body property) of timeline engagements.
_TIMELINE = (
    ("notes", "hs_note_body", "hs_note_body"),
    ("emails", "hs_email_subject", "hs_email_text"),
    ("calls", "hs_call_title", "hs_call_body"),
    ("meetings", "hs_meeting_title", "hs_meeting_body"),
)


class HubSpotView:
    """:class:`sandbox.core.view.ViewSource` over a :class:`HubSpotEmulator`."""

    crm_name = "HubSpot sandbox"

    def __init__(self, emu: HubSpotEmulator) -> None:
        self._emu = emu

    def kinds(self) -> Sequence[ViewKind]:
        """Browsable kinds."""
        return _KINDS

    def search(
        self, kind: str, query: str, offset: int, limit: int
    ) -> tuple[int, Sequence[RecordSummary]]:
        """Live records whose title or subtitle contains the query (case-insensitive)."""
        needle = query.lower()
        with self._emu.store.lock:
            live = [o for o in self._emu.store.table(kind).objects.values() if not o.archived]
        hits = [o for o in live if not needle or needle in self._haystack(kind, o)]
        rows = [
            RecordSummary(
                str(o.id), self._title(kind, o), o.properties.get(_SUBTITLE[kind], ""), o.updated_at
            )
            for o in hits[offset : offset + limit]
        ]
        return len(hits), rows

    def detail(self, kind: str, record_id: str) -> RecordDetail | None:
        """One record's properties, tasks, timeline and related records."""
        obj = (
            self._emu.store.table(kind).objects.get(int(record_id)) if record_id.isdigit() else None
        )
        if obj is None:
            return None
        fields = sorted(obj.properties.items())
        tasks = [
            TimelineItem(
                t.properties.get("hs_timestamp", ""),
                f"task · {t.properties.get('hs_task_status', '')}",
                t.properties.get("hs_task_subject", ""),
                t.properties.get("hs_task_body", ""),
            )
            for t in self._associated(kind, obj.id, "tasks")
        ]
        timeline = [
            TimelineItem(
                e.properties.get("hs_timestamp", ""),
                name[:-1],
                e.properties.get(title, "")[:120],
                e.properties.get(body, ""),
            )
            for name, title, body in _TIMELINE
            for e in self._associated(kind, obj.id, name)
        ]
        timeline.sort(key=lambda item: item.at, reverse=True)
        tasks.sort(key=lambda item: item.at, reverse=True)
        related = [
            RelatedLink(other, str(o.id), f"{other[:-1]}: {self._title(other, o)}")
            for other in ("contacts", "companies", "deals", "tickets")
            if other != kind
            for o in self._associated(kind, obj.id, other)
        ]
        return RecordDetail(str(obj.id), self._title(kind, obj), fields, tasks, timeline, related)

    def _associated(self, kind: str, object_id: int, other: str) -> list[StoredObject]:
        targets = self._emu.associations.targets(OBJECT_TYPES[kind], object_id, OBJECT_TYPES[other])
        table = self._emu.store.table(other).objects
        return [o for i in targets if (o := table.get(i)) is not None and not o.archived]

    def _title(self, kind: str, obj: StoredObject) -> str:
        parts = [obj.properties.get(p, "") for p in _TITLE.get(kind, ())]
        return " ".join(p for p in parts if p) or f"#{obj.id}"

    def _haystack(self, kind: str, obj: StoredObject) -> str:
        return f"{self._title(kind, obj)} {obj.properties.get(_SUBTITLE[kind], '')}".lower()
