"""The read-only HTML view of the emulated OA (`/__sandbox/view`), via the shared core view:
followers (searchable by name or id), each with their profile and conversation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sandbox.core.view import RecordDetail, RecordSummary, TimelineItem, ViewKind
from sandbox.zalo.emulator import FROM_USER, ZaloEmulator

_KINDS = (ViewKind("followers", "Followers"), ViewKind("unfollowed", "Unfollowed"))


class ZaloView:
    """:class:`sandbox.core.view.ViewSource` over a :class:`ZaloEmulator`."""

    crm_name = "Zalo OA sandbox"

    def __init__(self, emu: ZaloEmulator) -> None:
        self._emu = emu

    def kinds(self) -> Sequence[ViewKind]:
        return _KINDS

    def search(
        self, kind: str, query: str, offset: int, limit: int
    ) -> tuple[int, Sequence[RecordSummary]]:
        needle = query.lower()
        following = kind == "followers"
        with self._emu.lock:
            hits = [
                f
                for f in self._emu.followers.values()
                if f.following is following
                and (not needle or needle in f"{f.display_name} {f.user_id}".lower())
            ]
            rows = [
                RecordSummary(
                    f.user_id,
                    f.display_name,
                    f"{len(self._emu.conversations.get(f.user_id, []))} messages",
                    f.last_interaction_at.isoformat(),
                )
                for f in hits[offset : offset + limit]
            ]
        return len(hits), rows

    def detail(self, kind: str, record_id: str) -> RecordDetail | None:
        with self._emu.lock:
            follower = self._emu.followers.get(record_id)
            if follower is None:
                return None
            profile = follower.profile(self._emu.config.app_id)
            fields = [(k, str(v)) for k, v in sorted(profile.items())]
            timeline = [
                TimelineItem(
                    datetime.fromtimestamp(m.time_ms / 1000, tz=UTC).isoformat(),
                    "from user" if m.src == FROM_USER else "from OA",
                    m.type,
                    m.message,
                )
                for m in reversed(self._emu.conversations.get(record_id, []))
            ]
        return RecordDetail(follower.user_id, follower.display_name, fields, (), timeline)
