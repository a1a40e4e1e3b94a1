"""One survey's response export, run so that a crash at any point resumes instead of restarting
(docs/qualtrics.md "Export and resume").

Qualtrics exports in three steps: start (`progressId`), poll until `status` is `complete`
(`fileId`, and with `allowContinuation` a `continuationToken` for the next export), download a
zip holding one file. The sync saves a stream's cursor after each batch it stores, so the state
of the export rides in the cursor's `last_id`:

| `last_id`               | meaning                                  | a run from it             |
|-------------------------|------------------------------------------|---------------------------|
| `run:<progressId>`      | started, not yet complete                | polls that export again   |
| `file:<progressId>:<n>` | complete, first n responses stored       | downloads, skips n        |
| `next:<token>`          | all stored; the continuation token       | starts a newer-only export|
| None                    | no token (first run, or it did not fit)  | `startDate` fallback      |

`modified_at` is the newest `recordedDate` stored (`FLOOR` before any), the fallback when an
export is gone (a 404 on its poll or file: Qualtrics forgets exports), failed, or no token fits:
then a new export starts at `modified_at - lookback`, and responses read twice are upserted
again (idempotent). The cursor table holds 64 characters of `last_id`, so a continuation token
longer than `TOKEN_ROOM` is not kept (the date fallback applies).
"""

from __future__ import annotations

import io
import json
import logging
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.qualtrics.client import QualtricsClient
from service.domain import Cursor
from service.ports import CrmNotFoundError, CrmUnavailableError

log = logging.getLogger(__name__)

# "From the beginning": before any survey could have been recorded.
FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
LAST_ID_ROOM = 64  # service/store/tables.py SyncCursor.last_id
TOKEN_ROOM = LAST_ID_ROOM - len("next:")
# A failed export is started again at most this many times in one run.
MAX_RESTARTS = 2


@dataclass(frozen=True)
class ExportState:
    """What a stream's cursor says about its export."""

    phase: str  # "run" | "file" | "next" | "" (none)
    progress_id: str | None = None
    delivered: int = 0
    token: str | None = None

    @classmethod
    def read(cls, cursor: Cursor | None) -> ExportState:
        text = (cursor.last_id or "") if cursor is not None else ""
        phase, _, rest = text.partition(":")
        if phase == "run" and rest:
            return cls("run", progress_id=rest)
        if phase == "file":
            progress_id, _, count = rest.rpartition(":")
            if progress_id and count.isdigit():
                return cls("file", progress_id=progress_id, delivered=int(count))
        if phase == "next" and rest:
            return cls("next", token=rest)
        return cls("")

    def last_id(self) -> str | None:
        if self.phase == "run":
            return f"run:{self.progress_id}"
        if self.phase == "file":
            return f"file:{self.progress_id}:{self.delivered}"
        if self.phase == "next" and self.token and len(self.token) <= TOKEN_ROOM:
            return f"next:{self.token}"
        return None


@dataclass(frozen=True)
class Completed:
    """A complete export: its progress id, file id and continuation token."""

    progress_id: str
    file_id: str
    token: str | None


class ExportFailedError(Exception):
    """The export ended `failed`, or is gone (404): start a new one."""


class Exporter:
    """Starts, polls and downloads one survey's exports with a bounded back-off."""

    def __init__(
        self,
        client: QualtricsClient,
        *,
        first_wait: float,
        max_wait: float,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock

    def start(self, survey_id: str, state: ExportState, since: datetime | None) -> str:
        """A new export of the responses after the token (else recorded since `since`)."""
        body: dict[str, Any] = {"format": "json", "compress": True, "allowContinuation": True}
        if state.phase == "next" and state.token:
            body["continuationToken"] = state.token
        elif since is not None and since > FLOOR:
            body["startDate"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result = self.client.start_export(survey_id, body)
        return str(result["progressId"])

    def wait(self, survey_id: str, progress_id: str) -> Completed:
        """Poll on `status` (never on percentComplete), waiting first_wait, doubled up to
        max_wait between polls, until complete; ExportFailedError when it failed or is gone,
        CrmUnavailableError when it takes longer than the timeout."""
        started = self.clock()
        pause = self.first_wait
        while True:
            try:
                progress = self.client.export_progress(survey_id, progress_id)
            except CrmNotFoundError as error:
                raise ExportFailedError(f"export {progress_id} is gone") from error
            status = progress.get("status")
            if status == "complete" and progress.get("fileId"):
                token = progress.get("continuationToken")
                return Completed(progress_id, str(progress["fileId"]), token and str(token))
            if status == "failed":
                raise ExportFailedError(f"export {progress_id} failed")
            if self.clock() - started + pause > self.timeout:
                raise CrmUnavailableError(
                    f"Qualtrics export {progress_id} of {survey_id} not complete after "
                    f"{self.timeout:.0f} s (still {status}); the next run resumes it",
                    connection=self.client.name,
                )
            self.sleep(pause)
            pause = min(pause * 2, self.max_wait)

    def responses(self, survey_id: str, file_id: str) -> list[dict[str, Any]]:
        """The export file's responses (the zip's one JSON file)."""
        try:
            data = self.client.export_file(survey_id, file_id)
        except CrmNotFoundError as error:
            raise ExportFailedError(f"export file {file_id} is gone") from error
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                if len(names) != 1:
                    raise ValueError(f"{len(names)} files in the export zip")
                body = json.loads(archive.read(names[0]))
        except (zipfile.BadZipFile, ValueError) as error:
            raise CrmUnavailableError(
                f"Qualtrics export file {file_id} of {survey_id} is unreadable ({error})",
                connection=self.client.name,
            ) from error
        responses = body.get("responses") if isinstance(body, dict) else None
        if not isinstance(responses, list):
            raise CrmUnavailableError(
                f"Qualtrics export file {file_id} of {survey_id} holds no responses list",
                connection=self.client.name,
            )
        return [r for r in responses if isinstance(r, dict)]


def since_of(cursor: Cursor | None, lookback: timedelta) -> datetime | None:
    """The fallback `startDate`: the newest stored recordedDate less the look-back."""
    if cursor is None or cursor.modified_at is None or cursor.modified_at <= FLOOR:
        return None
    return cursor.modified_at - lookback
