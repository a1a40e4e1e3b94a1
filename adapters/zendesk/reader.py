"""Incremental pull from Zendesk Support into canonical records (docs/zendesk.md "Reading").

Streams (one per pull mapping):

- `organizations` (account): the time-based export `/incremental/organizations.json` from
  `start_time`; its pages repeat the records stamped at a page's `end_time`, so ids already
  delivered are skipped. Deleted organizations (`deleted_at`) go to `deleted_ids`.
- `agents` (owner): staff are users with role agent/admin, read whole from `/users.json`.
- `users` (customer): the cursor export `/incremental/users/cursor.json`; end users only (agents
  are owners); deactivated/deleted users (`active: false`) go to `deleted_ids`.
- `tickets` (case): the cursor export `/incremental/tickets/cursor.json?include=metric_sets`;
  first response and resolution come from the ticket's metric set; `status: "deleted"` goes to
  `deleted_ids`.
- `ticket_comments` (interaction): the tickets export again, and each changed ticket's comments.
  The requester's public comments are inbound, everyone else's outbound; internal notes
  (`public: false`) are kept as `note` / `internal`, so the scoring never reads staff's words
  as the customer's (it takes the customer's voice from inbound messages only).
- `satisfaction_ratings` (survey): received CSAT ratings (`score=received`) since `start_time`,
  good as 5 and bad as 1 on the CSAT scale, with the customer's comment.

Cursor exports resume from Zendesk's own `after_cursor`, saved with every batch in
`Cursor.last_id` (a crash resumes on the next page); `start_time` is sent only on a first pull.
Records of the last minute are left out by Zendesk and come on the next pull: the cursor points
just past what was returned. Incremental calls are paced within their 10 a minute (the client).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.mapping import Mapping, MappingSet, coerce
from adapters.records import RecordRefusedError, build_record
from adapters.zendesk.client import ZendeskClient
from service.domain import Batch, Cursor, DomainModel
from service.domain.locales import language_of_locale
from service.ports import PULL_ORDER, Canonical, CrmNotFoundError, Stream

log = logging.getLogger(__name__)

MANY = 100  # ids per show_many (Zendesk's limit)
PAGE = 100  # cursor pagination's largest page[size]
# Cursor tokens are kept in `Cursor.last_id` (64 characters at most in the cursor table).
TOKEN_ROOM = 64
# A first pull's start_time stays this far in the past: Zendesk refuses a too recent one (1 or
# 5 minutes, docs/zendesk.md), and a pull from "now" has nothing to read anyway.
FLOOR = timedelta(minutes=10)
_STAFF = ("agent", "admin")
_INTERACTION_CHANNEL = {
    "email": "email",
    "chat": "chat",
    "native_messaging": "chat",
    "voice": "call",
    "sms": "sms",
    "facebook": "social",
    "twitter": "social",
}


def _epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def _when(value: Any) -> datetime | None:
    try:
        found = coerce(value, "datetime")
    except ValueError:
        return None
    return found if isinstance(found, datetime) else None


class ZendeskReader:
    """`CrmReader` for one Zendesk account."""

    def __init__(
        self,
        client: ZendeskClient,
        mappings: MappingSet,
        lookback: timedelta,
        *,
        page_size: int | None = None,
    ) -> None:
        self.connection = client.name
        self.client = client
        self.lookback = lookback
        self.page_size = page_size or client.settings.export_page_size
        self._mappings = {m.object: m for m in mappings.for_crm("zendesk", "pull")}

    def streams(self) -> Sequence[Stream]:
        ordered = sorted(
            self._mappings.values(), key=lambda m: PULL_ORDER.index(Canonical(m.canonical))
        )
        return [Stream(m.object, Canonical(m.canonical)) for m in ordered]

    # --- building records ---------------------------------------------------------------

    def _build(
        self, mapping: Mapping, rows: Sequence[dict[str, Any]]
    ) -> tuple[list[DomainModel], list[str]]:
        records: list[DomainModel] = []
        rejected: list[str] = []
        for row in rows:
            crm_id = str(row["id"])
            try:
                records.append(
                    build_record(mapping, row, connection=self.connection, crm_id=crm_id)
                )
            except RecordRefusedError as error:
                log.warning("skipped %s %s", mapping.object, error)
                rejected.append(f"{crm_id}: {error.reason}")
        return records, rejected

    @staticmethod
    def _user(row: dict[str, Any]) -> dict[str, Any]:
        locale = row.get("locale")
        language = language_of_locale(locale) if isinstance(locale, str) and locale else None
        return {**row, "derived": {"language": language}}

    @staticmethod
    def _organization(row: dict[str, Any]) -> dict[str, Any]:
        domains = row.get("domain_names") or []
        return {**row, "derived": {"domain": domains[0] if domains else None}}

    @staticmethod
    def _ticket(row: dict[str, Any], metric: dict[str, Any] | None) -> dict[str, Any]:
        """The ticket with its metric set and the times the case needs, derived from it."""
        metric = metric or {}
        opened = _when(row.get("created_at"))
        reply = (metric.get("reply_time_in_minutes") or {}).get("calendar")
        first_response = (
            opened + timedelta(minutes=int(reply)) if opened and isinstance(reply, int) else None
        )
        closed = _when(metric.get("solved_at"))
        if closed is None and row.get("status") in ("solved", "closed"):
            closed = _when(row.get("updated_at"))  # solved before metrics were kept
        wait = (metric.get("requester_wait_time_in_minutes") or {}).get("calendar")
        return {
            **row,
            "metric_set": metric,
            "derived": {
                "first_response_at": first_response,
                "closed_at": closed,
                "requester_wait_hours": wait / 60 if isinstance(wait, int | float) else None,
            },
        }

    @staticmethod
    def _comment(comment: dict[str, Any], ticket: dict[str, Any]) -> dict[str, Any]:
        public = bool(comment.get("public", True))
        by_requester = comment.get("author_id") == ticket.get("requester_id")
        via = ((comment.get("via") or {}).get("channel")) or (ticket.get("via") or {}).get(
            "channel"
        )
        if not public:
            direction, channel = "internal", "note"
        else:
            direction = "inbound" if by_requester else "outbound"
            channel = _INTERACTION_CHANNEL.get(str(via), "case")
        return {
            **comment,
            "ticket_id": ticket.get("id"),
            "requester_id": ticket.get("requester_id"),
            "subject": ticket.get("subject"),
            "derived": {"direction": direction, "channel": channel},
        }

    # --- pulling ------------------------------------------------------------------------

    def pull(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch[DomainModel]]:
        mapping = self._mappings[stream.name]
        if stream.name == "organizations":
            yield from self._organizations(mapping, stream, cursor)
        elif stream.name == "agents":
            yield from self._agents(mapping, stream)
        elif stream.name == "users":
            yield from self._users(mapping, stream, cursor)
        elif stream.name == "tickets":
            yield from self._tickets(mapping, stream, cursor, comments=False)
        elif stream.name == "ticket_comments":
            yield from self._tickets(mapping, stream, cursor, comments=True)
        elif stream.name == "satisfaction_ratings":
            yield from self._ratings(mapping, stream, cursor)
        else:
            raise CrmNotFoundError(
                f"Zendesk has no stream {stream.name}", connection=self.connection
            )

    def _start_time(self, cursor: Cursor | None) -> int:
        """A first pull's `start_time`: the saved stamp less the look-back, or the beginning."""
        if cursor is None or cursor.modified_at is None:
            return 0
        ceiling = datetime.now(UTC) - FLOOR
        return max(0, _epoch(min(cursor.modified_at - self.lookback, ceiling)))

    def _export(
        self, path: str, cursor: Cursor | None, include: str | None = None
    ) -> Iterator[tuple[dict[str, Any], str | None]]:
        """Pages of a cursor export, each with the token that resumes after it."""
        params: dict[str, Any] = {"per_page": self.page_size}
        if include:
            params["include"] = include
        if cursor is not None and cursor.last_id:
            params["cursor"] = cursor.last_id
        else:
            params["start_time"] = self._start_time(cursor)
        while True:
            page = self.client.get(path, params, incremental=True)
            token = page.get("after_cursor")
            yield page, str(token) if token else None
            if page.get("end_of_stream", True) or not token:
                return
            params = {"per_page": self.page_size, "cursor": token}
            if include:
                params["include"] = include

    def _advance(
        self,
        stream: Stream,
        last: Cursor,
        rows: Sequence[dict[str, Any]],
        token: str | None,
        stamp: str = "updated_at",
    ) -> Cursor:
        moment = last.modified_at
        for row in rows:
            found = _when(row.get(stamp))
            if found is not None and (moment is None or found > moment):
                moment = found
        kept = token if token and len(token) <= TOKEN_ROOM else None
        return Cursor(stream=stream.name, modified_at=moment, last_id=kept)

    def _users(
        self, mapping: Mapping, stream: Stream, cursor: Cursor | None
    ) -> Iterator[Batch[DomainModel]]:
        last = cursor or Cursor(stream=stream.name)
        pages = self._export("/incremental/users/cursor.json", cursor)
        for page, token in pages:
            rows = list(page.get("users") or [])
            gone = tuple(str(r["id"]) for r in rows if not r.get("active", True))
            people = [
                self._user(r)
                for r in rows
                if r.get("active", True) and r.get("role", "end-user") not in _STAFF
            ]
            records, rejected = self._build(mapping, people)
            last = self._advance(stream, last, rows, token)
            more = not page.get("end_of_stream", True)
            yield Batch(
                records=tuple(records),
                cursor=last,
                has_more=more,
                deleted_ids=gone,
                rejected=tuple(rejected),
            )

    def _tickets(
        self, mapping: Mapping, stream: Stream, cursor: Cursor | None, *, comments: bool
    ) -> Iterator[Batch[DomainModel]]:
        last = cursor or Cursor(stream=stream.name)
        include = None if comments else "metric_sets"
        for page, token in self._export("/incremental/tickets/cursor.json", cursor, include):
            tickets = list(page.get("tickets") or [])
            live = [t for t in tickets if t.get("status") != "deleted"]
            if comments:
                rows = [self._comment(c, t) for t in live for c in self._comments_of(t["id"])]
                gone: tuple[str, ...] = ()
            else:
                metrics = {m.get("ticket_id"): m for m in page.get("metric_sets") or []}
                rows = [self._ticket(t, metrics.get(t["id"])) for t in live]
                gone = tuple(str(t["id"]) for t in tickets if t.get("status") == "deleted")
            records, rejected = self._build(mapping, rows)
            last = self._advance(stream, last, tickets, token)
            yield Batch(
                records=tuple(records),
                cursor=last,
                has_more=not page.get("end_of_stream", True),
                deleted_ids=gone,
                rejected=tuple(rejected),
            )

    def _comments_of(self, ticket_id: Any) -> list[dict[str, Any]]:
        """Every comment of one ticket (cursor pages of 100); none when it is gone."""
        found: list[dict[str, Any]] = []
        try:
            page = self.client.get(f"/tickets/{ticket_id}/comments.json", {"page[size]": PAGE})
            while True:
                found.extend(page.get("comments") or [])
                link = (page.get("links") or {}).get("next")
                if not (page.get("meta") or {}).get("has_more") or not link:
                    return found
                page = self.client.follow(str(link))
        except CrmNotFoundError:
            return found  # deleted between the export and this read

    def _organizations(
        self, mapping: Mapping, stream: Stream, cursor: Cursor | None
    ) -> Iterator[Batch[DomainModel]]:
        start = self._start_time(cursor)
        delivered: set[str] = set()
        last = cursor or Cursor(stream=stream.name)
        while True:
            page = self.client.get(
                "/incremental/organizations.json",
                {"start_time": start, "per_page": self.page_size},
                incremental=True,
            )
            rows = [r for r in page.get("organizations") or [] if str(r["id"]) not in delivered]
            delivered.update(str(r["id"]) for r in rows)
            gone = tuple(str(r["id"]) for r in rows if r.get("deleted_at"))
            live = [self._organization(r) for r in rows if not r.get("deleted_at")]
            records, rejected = self._build(mapping, live)
            end_time = page.get("end_time")
            end = bool(page.get("end_of_stream", True))
            if isinstance(end_time, int):
                last = Cursor(stream=stream.name, modified_at=datetime.fromtimestamp(end_time, UTC))
            stuck = not rows and not end  # a page of duplicates only: the stamp cannot move
            yield Batch(
                records=tuple(records),
                cursor=last,
                has_more=not end and not stuck,
                deleted_ids=gone,
                rejected=tuple(rejected),
            )
            if end or stuck or not isinstance(end_time, int):
                return
            start = end_time

    def _agents(self, mapping: Mapping, stream: Stream) -> Iterator[Batch[DomainModel]]:
        params: dict[str, Any] = {"role[]": list(_STAFF), "page[size]": PAGE}
        page = self.client.get("/users.json", params)
        while True:
            rows = [self._user(r) for r in page.get("users") or []]
            records, rejected = self._build(mapping, rows)
            link = (page.get("links") or {}).get("next")
            more = bool((page.get("meta") or {}).get("has_more") and link)
            yield Batch(
                records=tuple(records),
                cursor=Cursor(stream=stream.name),
                has_more=more,
                rejected=tuple(rejected),
            )
            if not more:
                return
            page = self.client.follow(str(link))

    def _ratings(
        self, mapping: Mapping, stream: Stream, cursor: Cursor | None
    ) -> Iterator[Batch[DomainModel]]:
        # The list is in id order, not time order: only the last page moves the cursor (to the
        # newest rating seen), so a crash mid-way reads the window again instead of losing it.
        params: dict[str, Any] = {"score": "received", "page[size]": PAGE}
        if cursor is not None and cursor.modified_at is not None:
            params["start_time"] = _epoch(cursor.modified_at - self.lookback)
        start = cursor or Cursor(stream=stream.name)
        newest = start
        page = self.client.get("/satisfaction_ratings.json", params)
        while True:
            rows = list(page.get("satisfaction_ratings") or [])
            records, rejected = self._build(mapping, rows)
            newest = self._advance(stream, newest, rows, None)
            link = (page.get("links") or {}).get("next")
            more = bool((page.get("meta") or {}).get("has_more") and link)
            yield Batch(
                records=tuple(records),
                cursor=start if more else newest,
                has_more=more,
                rejected=tuple(rejected),
            )
            if not more:
                return
            page = self.client.follow(str(link))

    # --- by id --------------------------------------------------------------------------

    def _show_many(self, path: str, key: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        wanted = [i for i in ids if str(i).isdigit()]
        for start in range(0, len(wanted), MANY):
            chunk = ",".join(wanted[start : start + MANY])
            found.extend(self.client.get(path, {"ids": chunk}).get(key) or [])
        return found

    def get(self, stream: Stream, crm_ids: Sequence[str]) -> list[DomainModel]:
        """Records by id (webhook re-reads). For `ticket_comments` the ids are ticket ids: a
        comment has no read of its own, so its ticket's comments are read."""
        mapping = self._mappings[stream.name]
        rows: list[dict[str, Any]]
        if stream.name in ("users", "agents"):
            users = self._show_many("/users/show_many.json", "users", crm_ids)
            rows = [self._user(u) for u in users if u.get("active", True)]
        elif stream.name == "organizations":
            orgs = self._show_many("/organizations/show_many.json", "organizations", crm_ids)
            rows = [self._organization(o) for o in orgs]
        elif stream.name in ("tickets", "ticket_comments"):
            tickets = self._show_many("/tickets/show_many.json", "tickets", crm_ids)
            if stream.name == "tickets":
                rows = [self._ticket(t, self._metric(t["id"])) for t in tickets]
            else:
                rows = [self._comment(c, t) for t in tickets for c in self._comments_of(t["id"])]
        elif stream.name == "satisfaction_ratings":
            rows = []
            for crm_id in crm_ids:
                try:
                    found = self.client.get(f"/satisfaction_ratings/{int(crm_id)}.json")
                except (CrmNotFoundError, ValueError):
                    continue
                rows.append(found.get("satisfaction_rating") or {})
        else:
            return []
        return self._build(mapping, [r for r in rows if r.get("id") is not None])[0]

    def _metric(self, ticket_id: Any) -> dict[str, Any] | None:
        try:
            found = self.client.get(f"/tickets/{ticket_id}/metrics.json")
        except CrmNotFoundError:
            return None
        metric = found.get("ticket_metric")
        return metric if isinstance(metric, dict) else None
