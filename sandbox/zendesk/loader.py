"""The generated dataset (sandbox.data.generate) as a Zendesk account.

- owners -> agents (users with role `agent`), companies -> organizations, persons -> end users
  with the same lower-cased e-mail the CRM emulators write (so the identity graph links them),
  their language as a Zendesk locale;
- each case -> a ticket (via `email` or `web`), its description as the requester's first public
  comment, its conversation as public comments by requester and agent, an internal note on an
  escalated case; the generator's statuses as Zendesk's (working -> open, escalated -> hold;
  closed -> closed, or solved when closed in the last 4 days as Zendesk leaves it);
- CSAT answers -> satisfaction ratings on the person's latest ticket opened before the answer
  (4-5 good, 1-3 bad, with the comment); a person without a ticket then has no rating;
- ticket metrics derived from the case timeline (first agent reply, resolution, reopens, wait).

Ids: numeric, derived from the generator's ids so a reload gives the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.data.model import Case, Company, Owner, Person, Record, SurveyAnswer
from sandbox.zendesk.store import ZendeskStore, iso

LOCALES = {"vi": "vi", "zh": "zh-cn", "et": "et", "en": "en-US"}
_STATUS = {"new": "new", "working": "open", "escalated": "hold", "closed": "closed"}
_PRIORITY = {"low": "low", "medium": "normal", "high": "high"}
SOLVED_DAYS = 4  # Zendesk closes a solved ticket after 4 days by default


def _number(generator_id: str) -> int:
    digits = "".join(ch for ch in generator_id if ch.isdigit())
    return int(digits or 0)


def user_id(person_id: str) -> int:
    return 360_000_000_000 + _number(person_id)


def agent_id(owner_id: str) -> int:
    return 361_000_000_000 + _number(owner_id)


def org_id(company_id: str) -> int:
    return 370_000_000_000 + _number(company_id)


def ticket_id(case_id: str) -> int:
    return 100_000 + _number(case_id)


def _minutes(start: datetime, end: datetime | None) -> dict[str, int | None]:
    if end is None:
        return {"calendar": None, "business": None}
    total = max(0, int((end - start).total_seconds() // 60))
    # Business minutes: a rough 9-to-5 on weekdays share of calendar time.
    return {"calendar": total, "business": int(total * 40 / 168)}


@dataclass
class LoadReport:
    counts: dict[str, int] = field(default_factory=dict)
    skipped_ratings: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "skipped_ratings": self.skipped_ratings}


class Loader:
    """Streams generated records into a store."""

    def __init__(self, store: ZendeskStore) -> None:
        self.store = store
        self.report = LoadReport()
        self._cases_of: dict[str, list[tuple[datetime, int]]] = {}
        self._owner_of: dict[str, str] = {}
        self._now = store.now()

    def _count(self, name: str) -> None:
        self.report.counts[name] = self.report.counts.get(name, 0) + 1

    def load(self, records: Iterable[Record]) -> LoadReport:
        with self.store.lock:
            for record in records:
                if isinstance(record, Owner):
                    self._agent(record)
                elif isinstance(record, Company):
                    self._organization(record)
                elif isinstance(record, Person):
                    self._user(record)
                elif isinstance(record, Case):
                    self._ticket(record)
                elif isinstance(record, SurveyAnswer) and record.kind == "csat":
                    self._rating(record)
        return self.report

    def _agent(self, owner: Owner) -> None:
        uid = agent_id(owner.id)
        created = iso(self._now - timedelta(days=900))
        self.store.users.put(
            {
                "id": uid,
                "name": f"{owner.first_name} {owner.last_name}",
                "email": owner.email.lower(),
                "role": "agent",
                "active": True,
                "locale": LOCALES.get(owner.language, "en-US"),
                "organization_id": None,
                "phone": None,
                "time_zone": "UTC",
                "tags": [],
                "user_fields": {},
                "created_at": created,
                "updated_at": created,
            },
            int((self._now - timedelta(days=900)).timestamp()),
        )
        self._count("agents")

    def _organization(self, company: Company) -> None:
        stamp = company.created_at
        self.store.organizations.put(
            {
                "id": org_id(company.id),
                "name": company.name,
                "domain_names": [company.domain],
                "external_id": company.id,
                "tags": [company.industry.lower().replace(" ", "_")],
                "organization_fields": {"country": company.country},
                "created_at": iso(stamp),
                "updated_at": iso(stamp),
                "deleted_at": None,
            },
            int(stamp.timestamp()),
        )
        self._count("organizations")

    def _user(self, person: Person) -> None:
        self._owner_of[person.id] = person.owner_id
        stamp = person.created_at
        self.store.users.put(
            {
                "id": user_id(person.id),
                "name": f"{person.first_name} {person.last_name}".strip(),
                "email": person.email.lower() or None,
                "role": "end-user",
                "active": True,
                "locale": LOCALES.get(person.language, "en-US"),
                "organization_id": org_id(person.company_id),
                "phone": person.phone or None,
                "iana_time_zone": person.timezone,
                "external_id": None,
                "tags": [],
                "user_fields": {},
                "created_at": iso(stamp),
                "updated_at": iso(stamp),
            },
            int(stamp.timestamp()),
        )
        self._count("users")

    def _ticket(self, case: Case) -> None:
        tid = ticket_id(case.id)
        requester = user_id(case.person_id)
        assignee = agent_id(self._owner_of.get(case.person_id, "u0"))
        status = _STATUS[case.status]
        if (
            status == "closed"
            and case.closed_at
            and self._now - case.closed_at < timedelta(days=SOLVED_DAYS)
        ):
            status = "solved"
        last = max([case.opened_at, *(c.at for c in case.comments)])
        if case.closed_at is not None:
            last = max(last, case.closed_at)
        channel = "email" if tid % 3 else "web"
        ticket = {
            "id": tid,
            "external_id": case.id,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": iso(case.opened_at),
            "updated_at": iso(last),
            "generated_timestamp": int(last.timestamp()),
            "type": "question",
            "subject": case.subject,
            "raw_subject": case.subject,
            "description": case.description,
            "priority": _PRIORITY[case.priority],
            "status": status,
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": assignee,
            "organization_id": org_id(case.company_id),
            "group_id": 20_000_001,
            "tags": ["escalated"] if case.status == "escalated" else [],
            "custom_fields": [{"id": 30_000_001, "value": case.priority}],
            "satisfaction_rating": {"score": "unoffered"},
        }
        ticket["fields"] = ticket["custom_fields"]
        self.store.tickets.put(ticket, int(last.timestamp()))
        comments = [self._comment(tid, requester, case.description, case.opened_at, channel)]
        for n, comment in enumerate(case.comments):
            author = requester if comment.by_customer else assignee
            comments.append(self._comment(tid, author, comment.text, comment.at, "web", n + 1))
        if case.status == "escalated":
            note = self._comment(tid, assignee, "Escalated to tier 2.", case.opened_at, "web", 99)
            note["public"] = False
            comments.append(note)
        self.store.comments[tid] = sorted(comments, key=lambda c: (c["created_at"], c["id"]))
        self._metrics(ticket, case, requester)
        self._cases_of.setdefault(case.person_id, []).append((case.opened_at, tid))
        self._count("tickets")

    def _comment(
        self, tid: int, author: int, text: str, at: datetime, channel: str, n: int = 0
    ) -> dict[str, Any]:
        self._count("comments")
        return {
            "id": tid * 1000 + n,
            "type": "Comment",
            "author_id": author,
            "body": text,
            "html_body": f'<div class="zd-comment"><p>{text}</p></div>',
            "plain_body": text,
            "public": True,
            "attachments": [],
            "audit_id": tid * 1000 + 500 + n,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": iso(at),
        }

    def _metrics(self, ticket: dict[str, Any], case: Case, requester: int) -> None:
        replies = [c for c in case.comments if not c.by_customer]
        first_reply = min((c.at for c in replies), default=None)
        solved = case.closed_at
        # A customer writing again after an agent's reply reopens a ticket that had been solved.
        reopens = sum(
            1
            for before, after in zip(case.comments, case.comments[1:], strict=False)
            if not before.by_customer and after.by_customer and solved is not None
        )
        waiting = (solved or self._now) - case.opened_at
        agent_wait = int(waiting.total_seconds() // 120)  # about half the time is on the agent
        self.store.metrics.put(
            {
                "id": ticket["id"] + 5_000_000,
                "ticket_id": ticket["id"],
                "created_at": ticket["created_at"],
                "updated_at": ticket["updated_at"],
                "group_stations": 1,
                "assignee_stations": 1,
                "reopens": reopens,
                "replies": len(replies),
                "assigned_at": ticket["created_at"],
                "solved_at": iso(solved) if solved else None,
                "latest_comment_added_at": ticket["updated_at"],
                "reply_time_in_minutes": _minutes(case.opened_at, first_reply),
                "first_resolution_time_in_minutes": _minutes(case.opened_at, solved),
                "full_resolution_time_in_minutes": _minutes(case.opened_at, solved),
                "agent_wait_time_in_minutes": {"calendar": agent_wait, "business": None},
                "requester_wait_time_in_minutes": {
                    "calendar": int(waiting.total_seconds() // 60) - agent_wait,
                    "business": None,
                },
                "on_hold_time_in_minutes": {"calendar": 0, "business": 0},
            },
            ticket["generated_timestamp"],
        )

    def _rating(self, answer: SurveyAnswer) -> None:
        cases = [
            t for at, t in self._cases_of.get(answer.person_id, []) if at <= answer.occurred_at
        ]
        if not cases:
            self.report.skipped_ratings += 1
            return
        tid = cases[-1]
        ticket = self.store.tickets.rows[tid]
        score = "good" if answer.score >= 4 else "bad"
        rating = {
            "id": 40_000_000 + _number(answer.id),
            "ticket_id": tid,
            "requester_id": ticket["requester_id"],
            "assignee_id": ticket["assignee_id"],
            "group_id": ticket["group_id"],
            "score": score,
            "comment": answer.comment or None,
            "reason": None if score == "good" else "Some other reason",
            "reason_id": None if score == "good" else 1000,
            "reason_code": None if score == "good" else 100,
            "created_at": iso(answer.occurred_at),
            "updated_at": iso(answer.occurred_at),
        }
        self.store.ratings.put(rating, int(answer.occurred_at.timestamp()))
        ticket["satisfaction_rating"] = {
            "id": rating["id"],
            "score": score,
            "comment": rating["comment"],
        }
        self._count("satisfaction_ratings")
