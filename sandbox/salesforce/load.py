"""Loading a generated dataset (`sandbox.data`) into the emulated org.

Streams: each record is mapped and inserted as it arrives; only the id maps of owners,
companies and persons are kept (later records point at them). Generated history keeps its own
timestamps (CreatedDate = when it happened) and is attributed to its owner, never to the
integration user, so loop prevention on `LastModifiedById` does not hide it.

Mapping (docs/crm-api-facts.md §2.12): Owner -> User; Company -> Account; Person -> Contact, or Lead
when `is_lead`; order -> Order, opportunity -> Opportunity (lines in Description); email ->
completed Task (subtype Email) + EmailMessage; call -> Task (Call); chat/note/review -> Task
with Type Chat/Note/Review; meeting -> Event; Case -> Case + CaseComments (customer comments by
a "Customer" portal user); SurveyAnswer -> Survey_Response__c keyed by Response_Id__c.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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
from sandbox.salesforce.responses import format_datetime
from sandbox.salesforce.store import SalesforceStore

_LOCALES = {"vi": "vi", "zh": "zh_CN", "et": "et", "en": "en_US"}
_STAGES = {"won": "Closed Won", "lost": "Closed Lost", "open": "Negotiation"}
_FREEZE_AFTER = 10_000
_TASK_TYPES = {"chat": "Chat", "note": "Note", "review": "Review", "call": "Call", "email": "Email"}


@dataclass
class LoadReport:
    """What a load inserted, per Salesforce object, and how long it took."""

    created: Counter[str] = field(default_factory=Counter)
    records_in: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "records_in": self.records_in,
            "created": dict(sorted(self.created.items())),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class _PersonRef:
    sf_id: str
    account_id: str
    email: str
    owner_id: str
    is_lead: bool


class Loader:
    """Maps generated records onto Salesforce objects and inserts them."""

    def __init__(self, store: SalesforceStore, fallback_user_id: str) -> None:
        self.store = store
        self.schema = store.schema
        self.fallback_user_id = fallback_user_id
        self.owners: dict[str, tuple[str, str]] = {}  # generated id -> (User id, email)
        self.companies: dict[str, tuple[str, str]] = {}  # -> (Account id, name)
        self.persons: dict[str, _PersonRef] = {}
        self.report = LoadReport()
        self._customer_user: str | None = None
        # The optional churn status per generated person id (`sandbox.data.churnstatus`); the
        # emulator creates the two custom fields before setting this.
        self.churn: Mapping[str, ChurnStatus] = {}

    def load(self, records: Iterable[Record]) -> LoadReport:
        """Insert every record of the stream; returns the cumulative report."""
        started = time.perf_counter()
        first = self.report.records_in
        for record in records:
            self.report.records_in += 1
            if isinstance(record, Owner):
                self._owner(record)
            elif isinstance(record, Company):
                self._company(record)
            elif isinstance(record, Person):
                self._person(record)
            elif isinstance(record, Transaction):
                self._transaction(record)
            elif isinstance(record, Interaction):
                self._interaction(record)
            elif isinstance(record, Case):
                self._case(record)
            elif isinstance(record, SurveyAnswer):
                self._survey(record)
        if self.report.records_in - first >= _FREEZE_AFTER:
            # Loaded records live as long as the org: move them out of the cyclic collector's
            # way. Otherwise every full collection walks hundreds of thousands of record dicts,
            # which showed up as 200-300 ms stalls on query pages of a 100,000-contact org.
            # (Small loads, as in tests, skip it: freezing is process-wide.)
            gc.collect()
            gc.freeze()
        self.report.seconds += time.perf_counter() - started
        return self.report

    # ---- helpers -------------------------------------------------------------------------

    def _insert(self, object_name: str, values: dict[str, Any], at: datetime, by: str) -> str:
        stamp = format_datetime(at)
        values.update(
            CreatedDate=stamp,
            LastModifiedDate=stamp,
            SystemModstamp=stamp,
            CreatedById=by,
            LastModifiedById=by,
        )
        record_id = self.store.insert_trusted(self.schema.object(object_name), values)
        self.report.created[object_name] += 1
        return record_id

    def _owner_id(self, generated_id: str) -> str:
        found = self.owners.get(generated_id)
        return found[0] if found else self.fallback_user_id

    def _customer(self) -> str:
        if self._customer_user is None:
            self._customer_user = self._insert(
                "User",
                {
                    "Username": "customer-portal@cem-sandbox.example",
                    "FirstName": "Customer",
                    "LastName": "Portal",
                    "Email": "customer-portal@cem-sandbox.example",
                    "Alias": "portal",
                    "IsActive": True,
                },
                datetime(2020, 1, 1, tzinfo=UTC),
                self.fallback_user_id,
            )
        return self._customer_user

    # ---- per record type -----------------------------------------------------------------

    def _owner(self, owner: Owner) -> None:
        user_id = self._insert(
            "User",
            {
                "Username": owner.email,
                "FirstName": owner.first_name,
                "LastName": owner.last_name,
                "Email": owner.email,
                "Alias": (owner.first_name[:1] + owner.last_name)[:8].lower(),
                "IsActive": True,
                "LanguageLocaleKey": _LOCALES.get(owner.language, "en_US"),
                "TimeZoneSidKey": "GMT",
            },
            datetime(2020, 1, 1, tzinfo=UTC),
            self.fallback_user_id,
        )
        self.owners[owner.id] = (user_id, owner.email)

    def _company(self, company: Company) -> None:
        owner = self._owner_id(company.owner_id)
        account_id = self._insert(
            "Account",
            {
                "Name": company.name,
                "Website": company.domain,
                "BillingCountry": company.country,
                "Industry": company.industry,
                "Type": "Customer - Direct",
                "AnnualRevenue": (
                    float(company.annual_revenue) if company.annual_revenue is not None else None
                ),
                "OwnerId": owner,
            },
            company.created_at,
            owner,
        )
        self.companies[company.id] = (account_id, company.name)

    def _person(self, person: Person) -> None:
        owner = self._owner_id(person.owner_id)
        account_id, company_name = self.companies.get(person.company_id, ("", ""))
        common = {
            "FirstName": person.first_name,
            "LastName": person.last_name,
            "Email": person.email,
            "Phone": person.phone,
            "OwnerId": owner,
            "Language__c": person.language,
            "Time_Zone__c": person.timezone,
            "Zalo_User_Id__c": person.zalo_user_id,
        }
        if person.is_lead:
            values = {
                **common,
                "Company": company_name or "(unknown)",
                "Country": person.country,
                "Status": "Open - Not Contacted",
                "IsConverted": False,
            }
            sf_id = self._insert("Lead", values, person.created_at, owner)
        else:
            values = {**common, "AccountId": account_id or None, "MailingCountry": person.country}
            status = self.churn.get(person.id)
            if status is not None:
                values["Churn_Status__c"] = status.label
                values["Churn_Date__c"] = status.on.isoformat() if status.on else None
            sf_id = self._insert("Contact", values, person.created_at, owner)
        self.persons[person.id] = _PersonRef(sf_id, account_id, person.email, owner, person.is_lead)

    def _transaction(self, tx: Transaction) -> None:
        person = self.persons.get(tx.person_id)
        account_id = self.companies.get(tx.company_id, ("", ""))[0]
        if not account_id:
            return
        contact = person.sf_id if person and not person.is_lead else None
        owner = person.owner_id if person else self.fallback_user_id
        lines = "\n".join(
            f"{line.quantity} x {line.name} @ {line.unit_price} {tx.currency}" for line in tx.lines
        )
        if tx.kind == "opportunity":
            first = tx.lines[0].name if tx.lines else "Deal"
            values: dict[str, Any] = {
                "Name": f"{self.companies[tx.company_id][1]} - {first}"[:120],
                "StageName": _STAGES[tx.status],
                "CloseDate": tx.occurred_at.date().isoformat(),
                "Amount": float(tx.amount),
                "CurrencyIsoCode": tx.currency,
                "AccountId": account_id,
                "ContactId": contact,
                "Description": lines,
                "OwnerId": owner,
            }
            self._insert("Opportunity", values, tx.occurred_at, owner)
            return
        values = {
            "AccountId": account_id,
            "EffectiveDate": tx.occurred_at.date().isoformat(),
            "Status": "Activated",
            "TotalAmount": float(tx.amount),
            "CurrencyIsoCode": tx.currency,
            "BillToContactId": contact,
            "Description": lines,
            "OwnerId": owner,
        }
        self._insert("Order", values, tx.occurred_at, owner)

    def _interaction(self, item: Interaction) -> None:
        person = self.persons.get(item.person_id)
        if person is None:
            return
        owner = self._owner_id(item.owner_id)
        what = person.account_id or None if not person.is_lead else None
        if item.channel == "meeting":
            start = item.occurred_at
            values: dict[str, Any] = {
                "Subject": item.subject[:255],
                "StartDateTime": format_datetime(start),
                "EndDateTime": format_datetime(start + timedelta(minutes=30)),
                "ActivityDateTime": format_datetime(start),
                "DurationInMinutes": 30,
                "IsAllDayEvent": False,
                "WhoId": person.sf_id,
                "WhatId": what,
                "Type": "Meeting",
                "Description": item.text,
                "OwnerId": owner,
            }
            self._insert("Event", values, start, owner)
            return
        subtype = {"email": "Email", "call": "Call"}.get(item.channel, "Task")
        task = {
            "Subject": item.subject[:255],
            "Status": "Completed",
            "Priority": "Normal",
            "ActivityDate": item.occurred_at.date().isoformat(),
            "WhoId": person.sf_id,
            "WhatId": what,
            "Description": item.text,
            "TaskSubtype": subtype,
            "Type": _TASK_TYPES[item.channel],
            "CallType": (
                ("Inbound" if item.direction == "inbound" else "Outbound")
                if item.channel == "call"
                else None
            ),
            "CompletedDateTime": format_datetime(item.occurred_at),
            "OwnerId": owner,
        }
        task_id = self._insert("Task", task, item.occurred_at, owner)
        if item.channel == "email":
            self._email(item, person, owner, what, task_id)

    def _email(
        self, item: Interaction, person: _PersonRef, owner: str, what: str | None, task_id: str
    ) -> None:
        staff = next((email for uid, email in self.owners.values() if uid == owner), "")
        inbound = item.direction == "inbound"
        values = {
            "ActivityId": task_id,
            "RelatedToId": what,
            "Subject": item.subject[:3000],
            "TextBody": item.text,
            "Incoming": inbound,
            "FromAddress": person.email if inbound else staff,
            "ToAddress": staff if inbound else person.email,
            "MessageDate": format_datetime(item.occurred_at),
            "Status": "1" if inbound else "3",
        }
        self._insert("EmailMessage", values, item.occurred_at, owner)

    def _case(self, case: Case) -> None:
        person = self.persons.get(case.person_id)
        account_id = self.companies.get(case.company_id, ("", ""))[0] or None
        owner = person.owner_id if person else self.fallback_user_id
        values: dict[str, Any] = {
            "Subject": case.subject[:255],
            "Description": case.description,
            "Status": case.status.capitalize(),
            "Priority": case.priority.capitalize(),
            "Origin": "Email",
            "ContactId": person.sf_id if person and not person.is_lead else None,
            "AccountId": account_id,
            "SuppliedEmail": person.email if person else None,
            "ClosedDate": format_datetime(case.closed_at) if case.closed_at else None,
            "OwnerId": owner,
        }
        case_id = self._insert("Case", values, case.opened_at, owner)
        for comment in case.comments:
            author = self._customer() if comment.by_customer else owner
            self._insert(
                "CaseComment",
                {"ParentId": case_id, "CommentBody": comment.text[:4000], "IsPublished": True},
                comment.at,
                author,
            )

    def _survey(self, answer: SurveyAnswer) -> None:
        person = self.persons.get(answer.person_id)
        owner = person.owner_id if person else self.fallback_user_id
        values = {
            "Response_Id__c": answer.id,
            "Contact__c": person.sf_id if person and not person.is_lead else None,
            "Account__c": (person.account_id or None) if person else None,
            "Survey_Type__c": answer.kind.upper(),
            "Score__c": float(answer.score),
            "Comment__c": answer.comment or None,
            "Language__c": answer.language,
            "Touchpoint__c": answer.touchpoint,
            "Responded_At__c": format_datetime(answer.occurred_at),
            "OwnerId": owner,
        }
        self._insert("Survey_Response__c", values, answer.occurred_at, owner)
