"""The Qualtrics emulator's state: one brand's surveys, responses, exports, event
subscriptions, tokens and its brand-wide rate bucket (README.md for the facts it follows)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import secrets
import threading
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sandbox.core.faults import FaultProfile
from sandbox.core.state import SandboxState
from sandbox.data.model import Person, Record, SurveyAnswer
from sandbox.qualtrics.errors import QualtricsError
from sandbox.qualtrics.responses import Response, answer_times, response_id
from sandbox.qualtrics.surveys import BY_ID, BY_KIND, SURVEYS, USER_LANGUAGE


class QualtricsConfig(BaseModel):
    """How the sandbox brand behaves."""

    model_config = ConfigDict(extra="forbid")

    brand_id: str = "cembridge"
    api_token: str = "qualtrics-sandbox-token-0000000000000000"  # noqa: S105 - sandbox only
    # Tokens of users who are not brand administrators (event subscriptions answer 403).
    user_tokens: list[str] = Field(default_factory=list)
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - sandbox only
    access_token_seconds: int = 3600
    # Requests a minute for the whole brand (None: no limit).
    rate_per_minute: int | None = 3000
    # Progress polls an export answers `inProgress` before it is complete.
    polls_to_complete: int = Field(default=3, ge=1)
    # Share of responses recorded unfinished (closed incomplete: `finished` 0).
    unfinished_share: float = Field(default=0.03, ge=0, le=1)
    faults: FaultProfile = Field(default_factory=FaultProfile)


@dataclass
class Export:
    """One response export job."""

    id: str
    survey_id: str
    polls_left: int
    content: bytes
    filename: str
    token: str | None
    fail: bool
    polls: int = 0
    file_id: str | None = None
    status: str = "inProgress"


@dataclass
class Bucket:
    """A leaky bucket of `per_minute` requests, shared by the whole brand."""

    per_minute: int
    level: float = 0.0
    at: float = 0.0

    def take(self, now: float) -> float | None:
        """None when the request fits, else the seconds until it would."""
        drained = (now - self.at) * self.per_minute / 60.0
        self.level, self.at = max(0.0, self.level - drained), now
        if self.level + 1 > self.per_minute:
            return (self.level + 1 - self.per_minute) * 60.0 / self.per_minute
        self.level += 1
        return None


@dataclass
class LoadReport:
    responses: int = 0
    persons: int = 0
    per_survey: dict[str, int] = field(default_factory=dict)


def _id(prefix: str, length: int = 15) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


class QualtricsEmulator:
    """One brand. Thread-safe: the app serves requests from several threads."""

    def __init__(self, config: QualtricsConfig | None = None) -> None:
        self.config = config or QualtricsConfig()
        self.sandbox = SandboxState(crm="qualtrics")
        self.sandbox.faults.set_profile(self.config.faults)
        self.lock = threading.RLock()
        self._seq = itertools.count(1)
        self.responses: dict[str, dict[str, Response]] = {s.id: {} for s in SURVEYS}
        self.persons: dict[str, Person] = {}
        self.crm_ids: dict[str, str] = {}  # generator person id -> CRM contact id
        self.crm_system: str | None = None
        self.exports: dict[str, Export] = {}
        self.files: dict[str, Export] = {}
        self.tokens: dict[str, tuple[str, int]] = {}  # continuation token -> (survey, last seq)
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, float] = {}  # OAuth access token -> expiry (monotonic)
        self.fail_next = 0
        self.bucket = Bucket(self.config.rate_per_minute) if self.config.rate_per_minute else None
        self.sandbox.on_reset(self._reset)
        self.sandbox.on_clear_data(self._clear)

    # --- lifecycle ------------------------------------------------------------------------

    def _reset(self) -> None:
        with self.lock:
            self.fail_next = 0
            if self.bucket is not None:
                self.bucket.level = 0.0

    def _clear(self) -> None:
        with self.lock:
            for survey in self.responses.values():
                survey.clear()
            self.persons.clear()
            self.exports.clear()
            self.files.clear()
            self.tokens.clear()

    def close(self) -> None:
        """Nothing to release (kept for symmetry with the other emulators)."""

    # --- data -----------------------------------------------------------------------------

    def load(self, records: Iterable[Record], crm_ids: dict[str, str] | None = None) -> LoadReport:
        """The generator's survey answers as responses of the three surveys; each carries the
        person's e-mail and (from `crm_ids`, generator id -> CRM id) their CRM contact id."""
        report = LoadReport()
        answers: list[SurveyAnswer] = []
        with self.lock:
            for record in records:
                if isinstance(record, Person):
                    self.persons[record.id] = record
                    report.persons += 1
                elif isinstance(record, SurveyAnswer):
                    answers.append(record)
            if crm_ids:
                self.crm_ids.update(crm_ids)
            # Recorded in time order, as a live brand records them.
            for answer in sorted(answers, key=lambda a: (a.occurred_at, a.id)):
                response = self._from_answer(answer)
                self.responses[response.survey_id][response.id] = response
                report.responses += 1
                report.per_survey[response.survey_id] = (
                    report.per_survey.get(response.survey_id, 0) + 1
                )
        return report

    def _from_answer(self, answer: SurveyAnswer) -> Response:
        survey = BY_KIND[answer.kind]
        person = self.persons.get(answer.person_id)
        seq = next(self._seq)
        started, ended, recorded = answer_times(answer.occurred_at, seq)
        # Deterministic: the same answers are unfinished on every load.
        digest = int(response_id(answer.id)[2:6], 36) % 1000
        finished = digest >= self.config.unfinished_share * 1000
        embedded = {"touchpoint": answer.touchpoint}
        if person is not None and person.email:
            embedded["email"] = person.email
        crm_id = self.crm_ids.get(answer.person_id)
        if crm_id:
            embedded["crm_contact_id"] = crm_id
        return Response(
            id=response_id(f"{answer.id}"),
            survey_id=survey.id,
            seq=seq,
            score=answer.score,
            comment=answer.comment,
            language=answer.language,
            started=started,
            ended=ended,
            recorded=recorded,
            finished=finished,
            embedded=embedded,
            person_id=answer.person_id,
        )

    def set_crm_ids(self, crm_ids: dict[str, str]) -> int:
        """Give the responses of these generator persons their CRM contact id (the embedded
        `crm_contact_id`, as a survey sent from the CRM carries it); how many changed."""
        changed = 0
        with self.lock:
            self.crm_ids.update(crm_ids)
            for survey in self.responses.values():
                for response in survey.values():
                    crm_id = self.crm_ids.get(response.person_id or "")
                    if crm_id and response.embedded.get("crm_contact_id") != crm_id:
                        response.embedded["crm_contact_id"] = crm_id
                        changed += 1
        return changed

    def add_response(
        self, survey_id: str, values: dict[str, Any], now: datetime, person_id: str | None = None
    ) -> Response:
        """`POST /surveys/{id}/responses`: a response recorded now."""
        survey = self.survey(survey_id)
        score = values.get("QID1")
        if score is not None and (
            not isinstance(score, int) or not survey.low <= score <= survey.high
        ):
            raise QualtricsError(400, "Missing or invalid parameter: values.QID1")
        embedded = {
            k: str(v) for k, v in values.items() if k in ("email", "crm_contact_id", "touchpoint")
        }
        # `userLanguage` as Qualtrics writes it (EN, VI, ZH-S, ET); `language` (BCP-47) is the
        # emulator's shorthand for tests.
        codes = {code: tag for tag, code in USER_LANGUAGE.items()}
        language = str(values.get("language") or codes.get(str(values.get("userLanguage")), "en"))
        with self.lock:
            seq = next(self._seq)
            response = Response(
                id=response_id(f"created-{uuid.uuid4()}"),
                survey_id=survey.id,
                seq=seq,
                score=score,
                comment=str(values.get("QID2_TEXT") or ""),
                language=language,
                started=now,
                ended=now,
                recorded=now,
                finished=bool(values.get("finished", 1)),
                embedded=embedded,
                person_id=person_id,
            )
            self.responses[survey.id][response.id] = response
        return response

    def delete_response(self, survey_id: str, rid: str) -> None:
        with self.lock:
            if self.responses.get(survey_id, {}).pop(rid, None) is None:
                raise QualtricsError(404, f"Response {rid} not found")

    def survey(self, survey_id: str) -> Any:
        found = BY_ID.get(survey_id)
        if found is None:
            raise QualtricsError(404, f"Survey {survey_id} not found")
        return found

    def response(self, survey_id: str, rid: str) -> Response:
        self.survey(survey_id)
        with self.lock:
            found = self.responses[survey_id].get(rid)
        if found is None:
            raise QualtricsError(404, f"Response {rid} not found")
        return found

    # --- exports --------------------------------------------------------------------------

    def start_export(self, survey_id: str, params: dict[str, Any]) -> Export:
        """Select the responses now (an export is a snapshot) and queue the job."""
        self.survey(survey_id)
        with self.lock:
            rows = sorted(self.responses[survey_id].values(), key=lambda r: r.seq)
            last = rows[-1].seq if rows else 0
            token = params.get("continuationToken")
            if token is not None:
                mark = self.tokens.get(token)
                if mark is None or mark[0] != survey_id:
                    raise QualtricsError(400, "Missing or invalid parameter: continuationToken")
                rows = [r for r in rows if r.seq > mark[1]]
            start, end = params.get("startDate"), params.get("endDate")
            if start is not None:
                rows = [r for r in rows if r.recorded >= start]
            if end is not None:
                rows = [r for r in rows if r.recorded < end]
            limit = params.get("limit")
            if limit is not None:
                rows = rows[:limit]
            if limit is not None and rows:
                last = rows[-1].seq  # a limited export continues after what it held
            next_token = None
            if params.get("allowContinuation"):
                next_token = _id("", 40)
                self.tokens[next_token] = (survey_id, last)
            fmt = params["format"]
            content = render_file(rows, fmt, use_labels=bool(params.get("useLabels")))
            name = f"{BY_ID[survey_id].name}.{fmt}"
            if params.get("compress", True):
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr(name, content)
                content, name = buffer.getvalue(), name + ".zip"
            fail = self.fail_next > 0
            if fail:
                self.fail_next -= 1
            job = Export(
                id=_id("ES_"),
                survey_id=survey_id,
                polls_left=self.config.polls_to_complete,
                content=content,
                filename=name,
                token=next_token,
                fail=fail,
            )
            self.exports[job.id] = job
        return job

    def poll_export(self, survey_id: str, progress_id: str) -> Export:
        with self.lock:
            job = self.exports.get(progress_id)
            if job is None or job.survey_id != survey_id:
                raise QualtricsError(404, f"Export {progress_id} not found")
            job.polls += 1
            if job.status == "inProgress":
                job.polls_left -= 1
                if job.polls_left <= 0:
                    if job.fail:
                        job.status = "failed"
                    else:
                        job.status = "complete"
                        job.file_id = f"{uuid.uuid4()}-def"
                        self.files[job.file_id] = job
            return job

    def export_file(self, survey_id: str, file_id: str) -> Export:
        with self.lock:
            job = self.files.get(file_id)
        if job is None or job.survey_id != survey_id:
            raise QualtricsError(404, f"File {file_id} not found")
        return job

    def expire_exports(self) -> int:
        """Forget every export and file (as Qualtrics does after a while): polls answer 404."""
        with self.lock:
            count = len(self.exports)
            self.exports.clear()
            self.files.clear()
            return count

    # --- ground truth ---------------------------------------------------------------------

    def truth(self) -> list[dict[str, Any]]:
        """Per response: the generator's person, survey kind, score and whether it finished."""
        with self.lock:
            return [
                {
                    "responseId": r.id,
                    "surveyId": r.survey_id,
                    "kind": BY_ID[r.survey_id].kind,
                    "personId": r.person_id,
                    "score": r.score,
                    "language": r.language,
                    "finished": r.finished,
                    "hasComment": bool(r.comment),
                }
                for survey in self.responses.values()
                for r in survey.values()
            ]


def render_file(rows: list[Response], fmt: str, *, use_labels: bool) -> bytes:
    """The export file: JSON `{"responses": [...]}`, or CSV with Qualtrics' three header rows
    (column names, question texts, ImportId JSON)."""
    records = [r.record(use_labels=use_labels) for r in rows]
    if fmt == "json":
        return json.dumps({"responses": records}, ensure_ascii=False).encode("utf-8")
    columns: list[str] = []
    for record in records:
        for key in record["values"]:
            if key not in columns:
                columns.append(key)
    columns = ["responseId", *columns]
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",")
    writer.writerow(columns)
    writer.writerow(columns)
    writer.writerow([json.dumps({"ImportId": c}) for c in columns])
    for record in records:
        row = {"responseId": record["responseId"], **record["values"]}
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue().encode("utf-8")
