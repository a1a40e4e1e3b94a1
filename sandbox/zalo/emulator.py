"""The emulated Official Account: followers, conversations, tokens and the rate window.

Data comes from `sandbox.data.generate`: every Vietnamese person with a Zalo user id
(`sandbox.data.crossref.zalo_user_id`, the id the CRM emulators keep in the contact's Zalo field)
follows the OA, and their generated chat interactions — mostly Vietnamese, some English — are
their conversation with it (inbound: the user wrote; outbound: the OA answered). The generated
person, interaction and truth behind each follower and message are kept as ground truth.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sandbox.core.state import SandboxState
from sandbox.data.generate import truths
from sandbox.data.model import Interaction, Person, Record
from sandbox.zalo.config import ZaloConfig
from sandbox.zalo.errors import RATE_LIMITED, ZaloError
from sandbox.zalo.tokens import TokenIssuer
from sandbox.zalo.webhooks import WebhookSender

VIETNAM = timezone(timedelta(hours=7))
FROM_USER, FROM_OA = 1, 0


@dataclass
class Follower:
    """A user who follows (or followed) the OA."""

    user_id: str
    display_name: str
    followed_at: datetime
    last_interaction_at: datetime
    following: bool = True
    phone: str | None = None  # shared with the OA (user_submit_info)
    person_id: str | None = None  # ground truth: the generated person

    def profile(self, app_id: str) -> dict[str, Any]:
        """`user/detail`'s data (docs/zalo.md "Users")."""
        avatar = f"https://s120-ava-talk.zadn.vn/sandbox/{self.user_id}.jpg"
        return {
            "user_id": self.user_id,
            "user_id_by_app": derived_id(f"{app_id}:{self.user_id}"),
            "user_external_id": "",
            "display_name": self.display_name,
            "user_alias": self.display_name,
            "is_sensitive": False,
            "user_last_interaction_date": self.last_interaction_at.astimezone(VIETNAM).strftime(
                "%d/%m/%Y"
            ),
            "user_is_follower": self.following,
            "avatar": avatar,
            "avatars": {"120": avatar, "240": avatar.replace("s120", "s240")},
            "tags_and_notes_info": {"notes": [], "tag_names": []},
            "shared_info": {"phone": self.phone, "name": self.display_name} if self.phone else None,
        }


@dataclass
class Message:
    """One chat message between a follower and the OA."""

    message_id: str
    user_id: str
    src: int  # 1: the user sent it, 0: the OA did
    time_ms: int
    type: str  # text, photo, sticker
    message: str
    interaction_id: str | None = None  # ground truth: the generated interaction

    def item(self, oa_id: str, oa_name: str, user_name: str) -> dict[str, Any]:
        """The message as `conversation` and `listrecentchat` list it."""
        mine = self.src == FROM_USER
        return {
            "src": self.src,
            "time": self.time_ms,
            "type": self.type,
            "message": self.message,
            "message_id": self.message_id,
            "from_id": self.user_id if mine else oa_id,
            "to_id": oa_id if mine else self.user_id,
            "from_display_name": user_name if mine else oa_name,
            "from_avatar": "",
            "to_display_name": oa_name if mine else user_name,
            "to_avatar": "",
        }


def derived_id(text: str) -> str:
    """A 19-digit id derived from `text` (Zalo ids are decimal strings above 2^53)."""
    return str(10**18 + int(hashlib.sha256(text.encode()).hexdigest()[:15], 16) % (8 * 10**18))


def message_id(text: str) -> str:
    """A Zalo-like message id (32 hex digits) derived from `text`."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class _Window:
    started: float = 0.0
    count: int = 0


@dataclass
class ZaloEmulator:
    """The OA's state behind the routes (thread-safe: uvicorn serves from a thread pool)."""

    config: ZaloConfig = field(default_factory=ZaloConfig)
    followers: dict[str, Follower] = field(default_factory=dict)
    conversations: dict[str, list[Message]] = field(default_factory=dict)
    truth: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.sandbox = SandboxState(crm="zalo")
        self.sandbox.faults.set_profile(self.config.faults)
        self.tokens = TokenIssuer(self.config, self.sandbox.clock)
        self.webhooks = WebhookSender(self.config.webhooks)
        self.sandbox.on_reset(self.webhooks.clear)
        self._window = _Window()
        self._sent = 0
        self.sandbox.on_reset(self._reset_counters)
        self.sandbox.on_clear_data(self.clear)

    # --- data ---------------------------------------------------------------------------

    def load(
        self, records: Iterable[Record], seed: int, customers: int | None = None
    ) -> dict[str, int]:
        """Followers and their chats from a generated stream or a dataset read back (`seed`
        names the message ids); with `customers` (the stream's size), the generator's hidden
        truth of each follower."""
        persons: dict[str, Person] = {}
        with self.lock:
            for record in records:
                if isinstance(record, Person):
                    # The generator's id for a follower (sandbox.data.crossref), which the CRM
                    # emulators keep in the contact's Zalo field too.
                    user_id = record.zalo_user_id
                    if user_id is None:
                        continue
                    persons[record.id] = record
                    self.followers[user_id] = Follower(
                        user_id,
                        f"{record.last_name} {record.first_name}".strip(),
                        record.created_at,
                        record.created_at,
                        person_id=record.id,
                    )
                    self.truth[user_id] = {"person_id": record.id, "email": record.email}
                elif isinstance(record, Interaction) and record.channel == "chat":
                    person = persons.get(record.person_id)
                    user_id = person.zalo_user_id if person else None
                    if user_id is None:
                        continue
                    inbound = record.direction == "inbound"
                    self._append(
                        Message(
                            message_id(f"{seed}:{record.id}"),
                            user_id,
                            FROM_USER if inbound else FROM_OA,
                            ms(record.occurred_at),
                            "text",
                            record.text,
                            record.id,
                        )
                    )
            if customers is not None:
                self._truths(seed, customers)
            return {
                "followers": len(self.followers),
                "messages": sum(len(c) for c in self.conversations.values()),
            }

    def _truths(self, seed: int, customers: int) -> None:
        """The generator's hidden truth of each follower (experience, churn), for evaluation."""
        by_person = {v["person_id"]: k for k, v in self.truth.items()}
        for truth in truths(seed, customers):
            user_id = by_person.get(truth.person_id)
            if user_id is not None:
                self.truth[user_id].update(
                    experience=truth.experience,
                    churned=truth.churned,
                    main_aspects=list(truth.main_aspects),
                )

    def _append(self, message: Message) -> None:
        chat = self.conversations.setdefault(message.user_id, [])
        chat.append(message)
        chat.sort(key=lambda m: (m.time_ms, m.message_id))
        follower = self.followers.get(message.user_id)
        at = datetime.fromtimestamp(message.time_ms / 1000, tz=VIETNAM)
        if follower is not None and message.src == FROM_USER and at > follower.last_interaction_at:
            follower.last_interaction_at = at

    def clear(self) -> None:
        with self.lock:
            self.followers.clear()
            self.conversations.clear()
            self.truth.clear()

    def _reset_counters(self) -> None:
        with self.lock:
            self._window = _Window()

    def now(self) -> datetime:
        return self.sandbox.clock.now()

    # --- what the admin API and the harness change -----------------------------------------

    def add_followers(self, count: int, prefix: str) -> list[str]:
        """New followers, following now (the harness's "create customers")."""
        now = self.now()
        with self.lock:
            made: list[str] = []
            for _ in range(count):
                user_id = derived_id(f"new:{len(self.followers)}:{prefix}:{now.isoformat()}")
                while user_id in self.followers:
                    user_id = str(int(user_id) + 1)
                self.followers[user_id] = Follower(user_id, f"{prefix}{len(made)}", now, now)
                made.append(user_id)
            return made

    def set_following(self, user_id: str, following: bool) -> Follower:
        """A follow or unfollow now (both count as an interaction)."""
        with self.lock:
            follower = self.followers.get(user_id)
            if follower is None:
                now = self.now()
                follower = self.followers[user_id] = Follower(
                    user_id, f"User {user_id[-4:]}", now, now
                )
            follower.following = following
            follower.last_interaction_at = self.now()
            if following:
                follower.followed_at = self.now()
            return follower

    def credentials(self, base_url: str) -> dict[str, Any]:
        """What a client needs (sandbox-only secrets, revealed on purpose: they protect nothing
        real). The refresh token is the first of its chain: single-use, like Zalo's."""
        cfg = self.config
        return {
            "base_url": base_url,
            "oauth_url": f"{base_url}/v4/oa/access_token",
            "authorize_url": f"{base_url}/v4/oa/permission",
            "app_id": cfg.app_id,
            "app_secret": cfg.app_secret.get_secret_value(),
            "oa_id": cfg.oa_id,
            "refresh_token": cfg.refresh_token.get_secret_value(),
            "oa_secret_key": cfg.webhooks.oa_secret_key.get_secret_value(),
            "admin_url": f"{base_url}/__sandbox",
            "view_url": f"{base_url}/__sandbox/view",
        }

    def close(self) -> None:
        """Stop the webhook sender's thread."""
        self.webhooks.stop()

    def user_sends(self, user_id: str, kind: str, text: str) -> Message:
        """A message from the user, now."""
        with self.lock:
            if user_id not in self.followers:
                raise KeyError(user_id)
            now = self.now()
            message = Message(
                message_id(f"live:{user_id}:{ms(now)}:{self._sent}"), user_id, FROM_USER, ms(now),
                kind, text,
            )  # fmt: skip
            self._sent += 1
            self._append(message)
            self.followers[user_id].last_interaction_at = now
            return message

    def oa_sends(self, user_id: str, text: str) -> Message:
        """A consultation reply from the OA, now."""
        with self.lock:
            now = self.now()
            message = Message(
                message_id(f"oa:{user_id}:{ms(now)}:{self._sent}"), user_id, FROM_OA, ms(now),
                "text", text,
            )  # fmt: skip
            self._sent += 1
            self._append(message)
            return message

    def last_user_message(self, user_id: str) -> Message | None:
        with self.lock:
            mine = [m for m in self.conversations.get(user_id, []) if m.src == FROM_USER]
            return mine[-1] if mine else None

    def replies_since(self, user_id: str, since_ms: int) -> int:
        with self.lock:
            chat = self.conversations.get(user_id, [])
            return sum(1 for m in chat if m.src == FROM_OA and m.time_ms >= since_ms)

    # --- the rate window ---------------------------------------------------------------------

    def count_request(self) -> dict[str, str]:
        """Count a call against the app's per-minute limit: its headers, or -32 when over."""
        limit = self.config.requests_per_minute
        if limit is None:
            return {}
        now = self.sandbox.clock.monotonic()
        with self.lock:
            if now - self._window.started >= 60:
                self._window = _Window(started=now)
            self._window.count += 1
            remain = limit - self._window.count
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remain": str(max(remain, 0))}
        if remain < 0:
            raise ZaloError(RATE_LIMITED, **headers)
        return headers
