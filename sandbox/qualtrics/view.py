"""The read-only HTML view of the emulated brand (`/__sandbox/view`), via the shared core view:
responses per survey (searchable by e-mail, language or text) and event subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sandbox.core.view import RecordDetail, RecordSummary, ViewKind
from sandbox.qualtrics.responses import iso_z
from sandbox.qualtrics.surveys import BY_ID

if TYPE_CHECKING:
    from sandbox.qualtrics.emulator import QualtricsEmulator

_KINDS = (ViewKind("responses", "Responses"), ViewKind("subscriptions", "Event subscriptions"))


class QualtricsView:
    """`sandbox.core.view.ViewSource` over a `QualtricsEmulator`."""

    crm_name = "Qualtrics sandbox"

    def __init__(self, emu: QualtricsEmulator) -> None:
        self._emu = emu

    def kinds(self) -> Sequence[ViewKind]:
        return _KINDS

    def search(
        self, kind: str, query: str, offset: int, limit: int
    ) -> tuple[int, Sequence[RecordSummary]]:
        needle = query.lower()
        rows: list[RecordSummary] = []
        with self._emu.lock:
            if kind == "subscriptions":
                for sub in self._emu.subscriptions.values():
                    rows.append(
                        RecordSummary(
                            str(sub["id"]), str(sub["topics"]), str(sub["publicationUrl"])
                        )
                    )
            elif kind == "responses":
                for survey in self._emu.responses.values():
                    for r in sorted(survey.values(), key=lambda r: -r.seq):
                        title = f"{BY_ID[r.survey_id].name}: {r.score}"
                        subtitle = r.embedded.get("email", "")
                        text = f"{title} {subtitle} {r.language} {r.comment}".lower()
                        if needle in text:
                            rows.append(RecordSummary(r.id, title, subtitle, iso_z(r.recorded)))
        return len(rows), rows[offset : offset + limit]

    def detail(self, kind: str, record_id: str) -> RecordDetail | None:
        with self._emu.lock:
            if kind == "subscriptions":
                sub = self._emu.subscriptions.get(record_id)
                if sub is None:
                    return None
                shown = [(k, str(v)) for k, v in sub.items() if k != "sharedKey"]
                return RecordDetail(record_id, str(sub["topics"]), shown)
            for survey in self._emu.responses.values():
                found = survey.get(record_id)
                if found is not None:
                    values = found.values()
                    return RecordDetail(
                        found.id,
                        f"{BY_ID[found.survey_id].name}: {found.score}",
                        [(k, str(v)) for k, v in values.items()],
                    )
        return None
