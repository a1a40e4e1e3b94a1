"""Load a generated dataset (:mod:`sandbox.data.model`) into the HubSpot emulator.

Streams: each record is mapped and stored as it arrives, so memory grows with the store, not
with a buffered copy of the input. The mapping is how the same data would live in a real portal:

* Owner -> owner; Company -> company; Person -> contact (+ primary company association);
* Transaction -> deal in the default pipeline (+ one line item per line, associated to it);
* Interaction: email -> email, call -> call, meeting -> meeting; note, chat and review -> note
  (HubSpot has no chat-transcript or review object in this API subset; the body says which);
* Case -> ticket in the support pipeline, each comment a note on the ticket;
* SurveyAnswer -> feedback submission (NPS/CSAT/CES, value, comment).

Generator ids of referenced records are kept in a map to the HubSpot ids assigned here
(``LoadReport.ids``; every record with ``all_ids=True``).
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sandbox.data.churnstatus import ChurnStatus
from sandbox.data.model import (
    Case,
    Company,
    Interaction,
    Owner,
    Person,
    Record,
    SurveyAnswer,
    Transaction,
)
from sandbox.hubspot.associations import AssociationStore, default_type
from sandbox.hubspot.objects import ObjectService
from sandbox.hubspot.objecttypes import OBJECT_TYPES
from sandbox.hubspot.owners import OwnerDirectory
from sandbox.hubspot.properties import format_number
from sandbox.hubspot.timefmt import iso

_STAGES = {"won": "closedwon", "lost": "closedlost", "open": "qualifiedtobuy"}
_TICKET_STAGES = {"new": "1", "working": "2", "escalated": "3", "closed": "4"}
_T = OBJECT_TYPES


@dataclass
class LoadReport:
    """What a load stored: counts per object type, the id map and the time it took.

    ``ids`` maps generator ids to HubSpot ids for the records later records refer to (owners,
    companies, persons) and, with ``all_ids``, for every record: a million-customer stream
    holds tens of millions of records, too many to map by default.
    """

    counts: Counter[str] = field(default_factory=Counter)
    ids: dict[str, str] = field(default_factory=dict)
    skipped: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary (without the id map)."""
        return {
            "counts": dict(self.counts),
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }


def hubspot_timezone(iana: str) -> str:
    """HubSpot's ``hs_timezone`` option value for an IANA zone (``america_slash_new_york``)."""
    return iana.lower().replace("/", "_slash_")


class Loader:
    """Maps generator records onto HubSpot objects; one instance per load."""

    def __init__(
        self,
        objects: ObjectService,
        associations: AssociationStore,
        owners: OwnerDirectory,
        *,
        all_ids: bool = False,
        churn: Mapping[str, ChurnStatus] | None = None,
    ) -> None:
        self.objects = objects
        self.associations = associations
        self.owners = owners
        self.all_ids = all_ids
        # The optional churn status per generated person id (`sandbox.data.churnstatus`); the
        # emulator defines the two contact properties first.
        self.churn: Mapping[str, ChurnStatus] = churn or {}
        self.report = LoadReport()

    def load(self, records: Iterable[Record]) -> LoadReport:
        """Store every record; unknown record kinds are counted as skipped."""
        started = time.perf_counter()
        handlers = {
            Owner: self._owner,
            Company: self._company,
            Person: self._person,
            Transaction: self._transaction,
            Interaction: self._interaction,
            Case: self._case,
            SurveyAnswer: self._survey,
        }
        for record in records:
            handler = handlers.get(type(record))
            if handler is None:
                self.report.skipped += 1
                continue
            handler(record)  # type: ignore[operator]
        # Loaded records live as long as the portal: move them out of the cyclic collector's
        # way, or every full collection walks them all (the Salesforce emulator measured
        # 200-300 ms stalls on a 100,000-contact org).
        gc.freeze()
        self.report.seconds = time.perf_counter() - started
        return self.report

    # ---- helpers -----------------------------------------------------------------------

    def _hs(self, generator_id: str) -> int | None:
        found = self.report.ids.get(generator_id)
        return None if found is None else int(found)

    def _owner_id(self, generator_id: str) -> dict[str, str]:
        found = self.report.ids.get(generator_id)
        return {} if found is None else {"hubspot_owner_id": found}

    def _store(
        self,
        kind: str,
        generator_id: str | None,
        values: dict[str, str],
        at_iso: str,
        *,
        referenced: bool = False,
    ) -> int:
        otype = _T[kind]
        obj = self.objects.load(otype, values, created_at_iso=at_iso)
        self.report.counts[kind] += 1
        if generator_id is not None and (referenced or self.all_ids):
            self.report.ids[generator_id] = str(obj.id)
        return obj.id

    def _link(self, kind: str, object_id: int, to: str, to_id: int | None, type_id: int) -> None:
        if to_id is not None:
            self.associations.add(_T[kind], object_id, _T[to], to_id, type_id, notify=False)

    # ---- record kinds ------------------------------------------------------------------

    def _owner(self, owner: Owner) -> None:
        entry = self.owners.add(
            owner.email, owner.first_name, owner.last_name, iso(self.objects.clock.now())
        )
        self.report.ids[owner.id] = str(entry.id)
        self.report.counts["owners"] += 1

    def _company(self, company: Company) -> None:
        values = {
            "name": company.name,
            "domain": company.domain,
            "country": company.country,
            "industry": company.industry,
            **self._owner_id(company.owner_id),
        }
        if company.annual_revenue is not None:
            values["annualrevenue"] = format_number(company.annual_revenue)
        self._store("companies", company.id, values, iso(company.created_at), referenced=True)

    def _person(self, person: Person) -> None:
        company_id = self._hs(person.company_id)
        values = {
            "email": person.email.lower(),
            "firstname": person.first_name,
            "lastname": person.last_name,
            "phone": person.phone,
            "hs_language": person.language,
            "country": person.country,
            "hs_timezone": hubspot_timezone(person.timezone),
            "lifecyclestage": "lead" if person.is_lead else "customer",
            **self._owner_id(person.owner_id),
        }
        if company_id is not None:
            values["associatedcompanyid"] = str(company_id)
        if person.zalo_user_id is not None:
            values["zalo_user_id"] = person.zalo_user_id
        status = self.churn.get(person.id)
        if status is not None and not person.is_lead:
            values["churn_status"] = status.label.lower()
            if status.on is not None:
                values["churn_date"] = status.on.isoformat()
        created = iso(person.created_at)
        values["createdate"] = created
        contact_id = self._store("contacts", person.id, values, created, referenced=True)
        self._link("contacts", contact_id, "companies", company_id, 1)

    def _transaction(self, tx: Transaction) -> None:
        at = iso(tx.occurred_at)
        values = {
            "dealname": f"{tx.kind.capitalize()} {tx.id}",
            "amount": format_number(tx.amount),
            "deal_currency_code": tx.currency,
            "pipeline": "default",
            "dealstage": _STAGES[tx.status],
            "closedate": at,
            "createdate": at,
            "hs_is_closed_won": "true" if tx.status == "won" else "false",
        }
        deal_id = self._store("deals", tx.id, values, at)
        self._link("deals", deal_id, "contacts", self._hs(tx.person_id), 3)
        self._link("deals", deal_id, "companies", self._hs(tx.company_id), 5)
        for line in tx.lines:
            item = {
                "name": line.name,
                "quantity": str(line.quantity),
                "price": format_number(line.unit_price),
                "amount": format_number(line.unit_price * line.quantity),
            }
            item_id = self._store("line_items", None, item, at)
            self._link("line_items", item_id, "deals", deal_id, 20)

    def _interaction(self, touch: Interaction) -> None:
        at = iso(touch.occurred_at)
        owner = self._owner_id(touch.owner_id)
        inbound = touch.direction == "inbound"
        kind: str
        values: dict[str, str]
        if touch.channel == "email":
            kind, values = (
                "emails",
                {
                    "hs_email_subject": touch.subject,
                    "hs_email_text": touch.text,
                    "hs_email_direction": "INCOMING_EMAIL" if inbound else "EMAIL",
                    "hs_email_status": "SENT",
                },
            )
        elif touch.channel == "call":
            kind, values = (
                "calls",
                {
                    "hs_call_title": touch.subject,
                    "hs_call_body": touch.text,
                    "hs_call_direction": "INBOUND" if inbound else "OUTBOUND",
                    "hs_call_status": "COMPLETED",
                },
            )
        elif touch.channel == "meeting":
            end = iso(touch.occurred_at + timedelta(minutes=30))
            kind, values = (
                "meetings",
                {
                    "hs_meeting_title": touch.subject,
                    "hs_meeting_body": touch.text,
                    "hs_meeting_start_time": at,
                    "hs_meeting_end_time": end,
                    "hs_meeting_outcome": "COMPLETED",
                },
            )
        else:
            label = {"chat": "Chat transcript", "review": "Review", "note": "Note"}[touch.channel]
            kind, values = "notes", {"hs_note_body": f"{label}: {touch.subject}\n\n{touch.text}"}
        values.update(owner, hs_timestamp=at)
        object_id = self._store(kind, touch.id, values, at)
        self._link_default(kind, object_id, "contacts", self._hs(touch.person_id))
        self._link_default(kind, object_id, "companies", self._hs(touch.company_id))

    def _link_default(self, kind: str, object_id: int, to: str, to_id: int | None) -> None:
        if to_id is not None:
            type_id = default_type(_T[kind], _T[to]).type_id
            self.associations.add(_T[kind], object_id, _T[to], to_id, type_id, notify=False)

    def _case(self, case: Case) -> None:
        opened = iso(case.opened_at)
        values = {
            "subject": case.subject,
            "content": case.description,
            "hs_pipeline": "0",
            "hs_pipeline_stage": _TICKET_STAGES[case.status],
            "hs_ticket_priority": case.priority.upper(),
            "createdate": opened,
        }
        if case.closed_at is not None:
            values["closed_date"] = iso(case.closed_at)
        ticket_id = self._store("tickets", case.id, values, opened)
        contact_id = self._hs(case.person_id)
        self._link("tickets", ticket_id, "contacts", contact_id, 16)
        self._link("tickets", ticket_id, "companies", self._hs(case.company_id), 26)
        for comment in case.comments:
            at = iso(comment.at)
            author = "Customer" if comment.by_customer else "Agent"
            note_id = self._store(
                "notes", None, {"hs_note_body": f"{author}: {comment.text}", "hs_timestamp": at}, at
            )
            self._link("notes", note_id, "tickets", ticket_id, 228)
            self._link("notes", note_id, "contacts", contact_id, 202)

    def _survey(self, answer: SurveyAnswer) -> None:
        at = iso(answer.occurred_at)
        contact_id = self._hs(answer.person_id)
        values = {
            "hs_survey_type": answer.kind.upper(),
            "hs_survey_name": f"{answer.kind.upper()} survey: {answer.touchpoint}",
            "hs_survey_channel": answer.touchpoint,
            "hs_value": str(answer.score),
            "hs_content": answer.comment,
            "hs_submission_timestamp": at,
            "hs_language": answer.language,
        }
        if answer.kind == "nps":
            values["hs_response_group"] = (
                "promoter" if answer.score >= 9 else "passive" if answer.score >= 7 else "detractor"
            )
        if contact_id is not None:
            values["hs_contact_id"] = str(contact_id)
        submission_id = self._store("feedback_submissions", answer.id, values, at)
        self._link_default("feedback_submissions", submission_id, "contacts", contact_id)
