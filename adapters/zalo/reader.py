"""Pulling an Official Account's followers and chat messages into canonical records.

Two streams (docs/zalo.md "What is read"):

* `followers` (customers). Zalo's v3 `user/getlist` pages user ids (`count` ≤ 50, `offset`);
  each id is read with `user/detail`. Its only change filter is `last_interaction_period`, a
  range of days (`YYYY_MM_DD:YYYY_MM_DD`, Vietnam's calendar), and a profile says when its user
  last interacted only as a date (`user_last_interaction_date`, "DD/MM/YYYY"). So the cursor is
  that date (midnight in Vietnam, UTC+7): an incremental pull asks for the users who interacted
  from that day on (the day itself again: a date is all the precision Zalo gives), and the users
  who interacted in that range but no longer follow the OA (`is_follower: "false"`) are the
  deleted ids. A full pull lists every follower.
* `messages` (interactions). `listrecentchat` gives the latest message of each conversation,
  newest first (`count` ≤ 10); `conversation` one user's messages, newest first (≤ 10). The
  cursor is the newest message time (epoch ms) of the whole OA, not one per user: the recent-chat
  list is ordered by each conversation's latest message, so one mark tells which conversations
  changed (read until a conversation's latest message is older than the mark), and the service
  keeps one cursor per stream. Every message at or after `mark - look-back` is read again
  (re-reads are idempotent). The cursor only moves on the last batch: conversations are read one
  after the other, so until all are read an older message of a later conversation may be missing.

`get` serves webhook notices: followers by user id (`user/detail`; a user who no longer follows
is gone), messages by *user id*: that user's most recent messages (one `conversation` page), as
Zalo's events name the user and a message id that no API reads alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from adapters.mapping import Mapping, MappingSet
from adapters.records import RecordRefusedError, build_record
from adapters.zalo.client import ZaloClient
from service.domain import Batch, Cursor, DomainModel
from service.ports import PULL_ORDER, Canonical, CrmNotFoundError, Stream

log = logging.getLogger(__name__)

KIND = "zalo"
FOLLOWERS_PAGE = 50  # user/getlist's largest count
CHAT_PAGE = 10  # listrecentchat's and conversation's largest count
MAX_OFFSET = 9_951  # user/getlist lists at most 10,000 users (offset ≤ 9951)
VIETNAM = timezone(timedelta(hours=7))  # Zalo's dates are Vietnam's (no daylight saving)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FROM_USER = 1  # `src` of a message the user sent (0: the OA sent it)


def vietnam_day(moment: datetime) -> datetime:
    """Midnight (in Vietnam) of the day `moment` falls on there, as an aware datetime."""
    local = moment.astimezone(VIETNAM)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def interaction_day(text: Any) -> datetime | None:
    """`user_last_interaction_date` ("DD/MM/YYYY") as midnight in Vietnam; None if absent."""
    try:
        return datetime.strptime(str(text), "%d/%m/%Y").replace(tzinfo=VIETNAM)
    except ValueError:
        return None


def _period(since: datetime, until: datetime) -> str:
    return f"{since.astimezone(VIETNAM):%Y_%m_%d}:{until.astimezone(VIETNAM):%Y_%m_%d}"


def user_of(message: dict[str, Any]) -> str:
    """The follower's id in a message: its sender if the user sent it, else its recipient."""
    field = "from_id" if _int(message.get("src")) == FROM_USER else "to_id"
    return str(message.get(field) or "")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ZaloReader:
    """`CrmReader` for one Official Account (read-only: the service pushes nothing here)."""

    def __init__(
        self,
        client: ZaloClient,
        mappings: MappingSet,
        lookback: timedelta,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.connection = client.name
        self.client = client
        self.lookback = lookback
        self._now = now or (lambda: datetime.now(UTC))
        self._mappings = {m.object: m for m in mappings.for_crm(KIND, "pull")}

    def streams(self) -> Sequence[Stream]:
        ordered = sorted(
            self._mappings.values(), key=lambda m: PULL_ORDER.index(Canonical(m.canonical))
        )
        return [Stream(m.object, Canonical(m.canonical)) for m in ordered]

    def pull(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch[DomainModel]]:
        mapping = self._mappings[stream.name]
        if mapping.canonical == Canonical.CUSTOMER.value:
            yield from self._followers(mapping, stream, cursor)
        else:
            yield from self._messages(mapping, stream, cursor)

    def get(self, stream: Stream, crm_ids: Sequence[str]) -> list[DomainModel]:
        mapping = self._mappings[stream.name]
        found: list[DomainModel] = []
        if mapping.canonical == Canonical.CUSTOMER.value:
            rows = [r for i in dict.fromkeys(crm_ids) if (r := self._profile(i)) is not None]
            found.extend(self._build(mapping, rows)[0])
            return found
        for user_id in dict.fromkeys(crm_ids):
            recent = self.client.conversation(user_id, 0, CHAT_PAGE)
            found.extend(self._build(mapping, [self._flat(m) for m in recent])[0])
        return found

    # --- followers -------------------------------------------------------------------------

    def _profile(self, user_id: str) -> dict[str, Any] | None:
        """The user's profile, or None when Zalo knows no such user or they do not follow."""
        try:
            detail = self.client.user(user_id)
        except CrmNotFoundError:
            return None
        if not detail or str(detail.get("user_is_follower", "true")).lower() == "false":
            return None
        return {**detail, "user_id": str(detail.get("user_id") or user_id)}

    def _user_ids(self, filters: dict[str, str]) -> Iterator[tuple[list[str], bool]]:
        """Pages of user ids for these getlist filters, with whether more pages follow."""
        offset = 0
        while True:
            page = self.client.followers(offset, FOLLOWERS_PAGE, **filters)
            ids = [str(u["user_id"]) for u in page.get("users") or [] if u.get("user_id")]
            total = int(page.get("total") or 0)
            offset += FOLLOWERS_PAGE
            more = bool(ids) and offset < total
            if more and offset > MAX_OFFSET:
                log.warning(
                    "zalo %s: user/getlist lists at most 10,000 users; %d match, the rest are "
                    "read through their webhook events",
                    self.connection,
                    total,
                )
                more = False
            yield ids, more
            if not more:
                return

    def _followers(
        self, mapping: Mapping, stream: Stream, cursor: Cursor | None
    ) -> Iterator[Batch[DomainModel]]:
        full = cursor is None or cursor.modified_at is None or cursor.modified_at <= EPOCH
        start = Cursor(stream=stream.name, modified_at=EPOCH, last_id="")
        if not full and cursor is not None:
            start = cursor
        filters = {"is_follower": "true"}
        deleted: tuple[str, ...] = ()
        if not full:
            assert start.modified_at is not None
            # Until tomorrow: Zalo's day may already be ahead of ours.
            period = _period(start.modified_at, self._now() + timedelta(days=1))
            filters["last_interaction_period"] = period
            gone = {"is_follower": "false", "last_interaction_period": period}
            deleted = tuple(i for ids, _ in self._user_ids(gone) for i in ids)
        newest = start.modified_at
        seen: set[str] = set()
        for ids, more in self._user_ids(filters):
            fresh = [i for i in ids if i not in seen]
            seen.update(fresh)
            rows = [r for i in fresh if (r := self._profile(i)) is not None]
            for row in rows:
                day = interaction_day(row.get("user_last_interaction_date"))
                if day is not None and (newest is None or day > newest):
                    newest = day
            records, rejected = self._build(mapping, rows)
            last = Cursor(stream=stream.name, modified_at=newest, last_id="") if not more else start
            yield Batch(
                records=tuple(records),
                cursor=last,
                has_more=more,
                deleted_ids=deleted,
                rejected=tuple(rejected),
            )
            deleted = ()

    # --- messages --------------------------------------------------------------------------

    def _conversations(self, since_ms: int | None) -> list[str]:
        """The users whose conversation has a message at or after `since_ms` (all: None)."""
        users: dict[str, None] = {}
        offset = 0
        while True:
            page = self.client.recent_chats(offset, CHAT_PAGE)
            for item in page:
                if since_ms is not None and (_int(item.get("time")) or 0) < since_ms:
                    return list(users)
                user = user_of(item)
                if user:
                    users[user] = None
            if len(page) < CHAT_PAGE:
                return list(users)
            offset += CHAT_PAGE

    def _since(self, user_id: str, since_ms: int | None) -> list[dict[str, Any]]:
        """One user's messages at or after `since_ms` (all: None), newest first."""
        found: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            page = self.client.conversation(user_id, offset, CHAT_PAGE)
            for item in page:
                if since_ms is not None and (_int(item.get("time")) or 0) < since_ms:
                    return list(found.values())
                found.setdefault(str(item.get("message_id")), item)
            if len(page) < CHAT_PAGE:
                return list(found.values())
            offset += CHAT_PAGE

    def _messages(
        self, mapping: Mapping, stream: Stream, cursor: Cursor | None
    ) -> Iterator[Batch[DomainModel]]:
        start = cursor or Cursor(stream=stream.name, modified_at=EPOCH, last_id="")
        since_ms: int | None = None
        if cursor is not None and cursor.modified_at is not None and cursor.modified_at > EPOCH:
            since_ms = int((cursor.modified_at - self.lookback).timestamp() * 1000)
        users = self._conversations(since_ms)
        newest: tuple[int, str] | None = None
        if start.modified_at is not None:
            newest = (int(start.modified_at.timestamp() * 1000), start.last_id or "")
        if not users:
            yield Batch(records=(), cursor=start)
            return
        for index, user_id in enumerate(users):
            items = sorted(
                self._since(user_id, since_ms),
                key=lambda m: (_int(m.get("time")) or 0, str(m.get("message_id"))),
            )
            for item in items:
                mark = (_int(item.get("time")) or 0, str(item.get("message_id")))
                newest = mark if newest is None or mark > newest else newest
            records, rejected = self._build(mapping, [self._flat(m) for m in items])
            more = index + 1 < len(users)
            last = start
            if not more and newest is not None:
                moment = datetime.fromtimestamp(newest[0] / 1000, tz=UTC)
                last = Cursor(stream=stream.name, modified_at=moment, last_id=newest[1])
            yield Batch(
                records=tuple(records), cursor=last, has_more=more, rejected=tuple(rejected)
            )

    @staticmethod
    def _flat(message: dict[str, Any]) -> dict[str, Any]:
        """A message as the mapping reads it: Zalo's fields plus the follower's id, and the
        text only for text messages (an image's `message` is a caption or a URL)."""
        kind = str(message.get("type") or "")
        return {
            **message,
            "src": str(message.get("src")),
            "user_id": user_of(message),
            "text": message.get("message") if kind == "text" else None,
        }

    # --- both ------------------------------------------------------------------------------

    def _build(
        self, mapping: Mapping, rows: list[dict[str, Any]]
    ) -> tuple[list[DomainModel], list[str]]:
        id_field = next((f.crm for f in mapping.fields if f.canonical == "id"), "id")
        records: list[DomainModel] = []
        rejected: list[str] = []
        for row in rows:
            crm_id = str(row.get(id_field) or "")
            try:
                records.append(
                    build_record(mapping, row, connection=self.connection, crm_id=crm_id)
                )
            except RecordRefusedError as error:
                log.warning("skipped %s %s", mapping.object, error)
                rejected.append(f"{crm_id}: {error.reason}")
        return records, rejected
