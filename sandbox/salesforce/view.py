"""The Salesforce sandbox as browsable pages (see `sandbox.core.view`): contacts, leads and
accounts with every field, their open tasks and their timeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sandbox.core.view import RecordDetail, RecordSummary, RelatedLink, TimelineItem, ViewKind
from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.schema import ObjectDef
from sandbox.salesforce.store import Record

_KINDS = {"contacts": "Contact", "leads": "Lead", "accounts": "Account"}
_LABELS = {"contacts": "Contacts", "leads": "Leads", "accounts": "Accounts"}
# (object, reference field pointing at the person/account, date field, title field)
_PERSON_TIMELINE = (
    ("Task", "WhoId", "ActivityDate", "Subject"),
    ("Event", "WhoId", "StartDateTime", "Subject"),
    ("Case", "ContactId", "CreatedDate", "Subject"),
    ("Survey_Response__c", "Contact__c", "Responded_At__c", "Name"),
    ("Opportunity", "ContactId", "CloseDate", "Name"),
    ("Order", "BillToContactId", "EffectiveDate", "OrderNumber"),
)
_ACCOUNT_TIMELINE = (
    ("Task", "WhatId", "ActivityDate", "Subject"),
    ("Event", "WhatId", "StartDateTime", "Subject"),
    ("Case", "AccountId", "CreatedDate", "Subject"),
    ("Opportunity", "AccountId", "CloseDate", "Name"),
    ("Order", "AccountId", "EffectiveDate", "OrderNumber"),
)
_TEXT_FIELDS = ("Description", "Comment__c", "TextBody")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class SalesforceView:
    """`ViewSource` over one emulator's store."""

    def __init__(self, emu: SalesforceEmulator) -> None:
        self.emu = emu
        self.store = emu.store

    @property
    def crm_name(self) -> str:
        """Page title prefix."""
        return "Salesforce sandbox"

    def kinds(self) -> Sequence[ViewKind]:
        """Contacts, leads, accounts."""
        return [ViewKind(key, _LABELS[key]) for key in _KINDS]

    def _obj(self, kind: str) -> ObjectDef:
        return self.store.schema.object(_KINDS[kind])

    def search(
        self, kind: str, query: str, offset: int, limit: int
    ) -> tuple[int, Sequence[RecordSummary]]:
        """Substring match (any case) on name, email, phone and id."""
        needle = query.lower()
        hits = []
        for record in self.store.rows(self._obj(kind)):
            haystack = " ".join(
                _text(record.get(f)) for f in ("Name", "Email", "Phone", "Website", "Id")
            ).lower()
            if needle in haystack:
                hits.append(record)
        page = hits[offset : offset + limit]
        return len(hits), [self._summary(kind, r) for r in page]

    def _summary(self, kind: str, record: Record) -> RecordSummary:
        details = [record.get("Email"), record.get("Company"), record.get("Website")]
        return RecordSummary(
            id=record["Id"],
            title=_text(record.get("Name")),
            subtitle=" · ".join(_text(d) for d in details if d),
            updated=_text(record.get("SystemModstamp")),
        )

    def detail(self, kind: str, record_id: str) -> RecordDetail | None:
        """Every field, open tasks, and the timeline newest first."""
        obj = self._obj(kind)
        record = self.store.get(obj, record_id)
        if record is None:
            return None
        fields = [(f.name, _text(record.get(f.name))) for f in obj.fields.values()]
        plan = _ACCOUNT_TIMELINE if kind == "accounts" else _PERSON_TIMELINE
        tasks: list[TimelineItem] = []
        timeline: list[TimelineItem] = []
        for object_name, link, date_field, title_field in plan:
            child = self.store.schema.object(object_name)
            for row in self.store.children(child, link, record["Id"]):
                item = self._item(object_name, row, date_field, title_field)
                if object_name == "Task" and not row.get("IsClosed"):
                    tasks.append(item)
                else:
                    timeline.append(item)
        timeline.sort(key=lambda i: i.at, reverse=True)
        return RecordDetail(
            id=record["Id"],
            title=_text(record.get("Name")),
            fields=fields,
            tasks=tasks,
            timeline=timeline,
            related=self._related(kind, record),
        )

    def _item(
        self, object_name: str, row: Record, date_field: str, title_field: str
    ) -> TimelineItem:
        label = row.get("Type") or row.get("TaskSubtype") or object_name
        status = row.get("Status") or row.get("StageName") or ""
        text = next((row[f] for f in _TEXT_FIELDS if row.get(f)), "")
        if object_name == "Survey_Response__c":
            text = f"{row.get('Survey_Type__c')} score {row.get('Score__c')}: {_text(text)}"
        elif object_name == "Case":
            text = "\n\n".join([_text(text), *self._case_comments(row["Id"])]).strip()
        return TimelineItem(
            at=_text(row.get(date_field) or row.get("CreatedDate")),
            kind=f"{object_name} · {label}" + (f" · {status}" if status else ""),
            title=_text(row.get(title_field)) or object_name,
            text=_text(text),
        )

    def _case_comments(self, case_id: str) -> list[str]:
        comments = self.store.children(self.store.schema.object("CaseComment"), "ParentId", case_id)
        users = self.store.schema.object("User")
        lines = []
        for comment in sorted(comments, key=lambda c: c.get("CreatedDate", "")):
            author = self.store.get(users, comment.get("CreatedById", ""))
            who = _text(author.get("Name")) if author else "?"
            lines.append(
                f"[{_text(comment.get('CreatedDate'))} {who}] {_text(comment.get('CommentBody'))}"
            )
        return lines

    def _related(self, kind: str, record: Record) -> list[RelatedLink]:
        if kind == "contacts" and record.get("AccountId"):
            account = self.store.get(self._obj("accounts"), record["AccountId"])
            if account is not None:
                return [RelatedLink("accounts", account["Id"], f"Account: {account['Name']}")]
        if kind == "accounts":
            contacts = self.store.children(self._obj("contacts"), "AccountId", record["Id"])
            return [
                RelatedLink("contacts", c["Id"], f"Contact: {_text(c.get('Name'))}")
                for c in contacts[:50]
            ]
        return []
