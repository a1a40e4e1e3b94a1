"""Survey responses as a Qualtrics export writes them: flat `values` keyed by QID.

A response keeps what was answered (score, comment, language, embedded data); `values`,
`labels`, `displayedFields` and `displayedValues` are rendered from it, with numeric recodes,
`QIDn_TEXT`, `QIDn_NPS_GROUP` and numeric `finished` as real JSON exports carry them
(README.md "Export records").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.qualtrics.surveys import (
    BY_ID,
    NPS_GROUP_LABELS,
    USER_LANGUAGE,
    nps_group,
)


def iso_z(moment: datetime) -> str:
    """Qualtrics' timestamps: ISO-8601 UTC with milliseconds and a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def response_id(key: str) -> str:
    """A Qualtrics-looking response id (`R_` and 15 letters and digits), derived from `key`."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    number = int(digest, 16)
    chars = []
    for _ in range(15):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "R_" + "".join(chars)


@dataclass
class Response:
    """One recorded response."""

    id: str
    survey_id: str
    seq: int  # the order responses were recorded in (continuation tokens follow it)
    score: int | None
    comment: str
    language: str  # BCP-47 primary tag
    started: datetime
    ended: datetime
    recorded: datetime
    finished: bool = True
    embedded: dict[str, str] = field(default_factory=dict)
    person_id: str | None = None  # the generator's person (ground truth, never exported)

    def values(self) -> dict[str, Any]:
        """The export's `values`: metadata, answers and embedded data, flat."""
        survey = BY_ID[self.survey_id]
        duration = max(1, int((self.ended - self.started).total_seconds()))
        values: dict[str, Any] = {
            "startDate": iso_z(self.started),
            "endDate": iso_z(self.ended),
            "status": 0,  # 0: a normal response (not a preview, spam or import)
            "ipAddress": "203.0.113." + str(self.seq % 250 + 1),
            "progress": 100 if self.finished else 50,
            "duration": duration,
            "finished": 1 if self.finished else 0,
            "recordedDate": iso_z(self.recorded),
            "_recordId": self.id,
            "locationLatitude": "10.8231",
            "locationLongitude": "106.6297",
            "distributionChannel": "email",
            "userLanguage": USER_LANGUAGE.get(self.language, self.language.upper()),
        }
        if self.score is not None:
            values["QID1"] = self.score
            if survey.kind == "nps":
                values["QID1_NPS_GROUP"] = nps_group(self.score)
        if self.comment:
            values["QID2_TEXT"] = self.comment
        values.update(self.embedded)
        return values

    def labels(self) -> dict[str, Any]:
        """The export's `labels`: the text of every coded field."""
        survey = BY_ID[self.survey_id]
        labels: dict[str, Any] = {
            "status": "IP Address",
            "finished": "True" if self.finished else "False",
        }
        if self.score is not None:
            labels["QID1"] = survey.choice_text(self.score)
            if survey.kind == "nps":
                labels["QID1_NPS_GROUP"] = NPS_GROUP_LABELS[nps_group(self.score)]
        return labels

    def record(self, *, use_labels: bool = False) -> dict[str, Any]:
        """One element of the export's `responses` (and the single-response `result`)."""
        survey = BY_ID[self.survey_id]
        values = self.values()
        labels = self.labels()
        if use_labels:
            # Choice text instead of the recodes, as useLabels exports them.
            values.update({k: v for k, v in labels.items() if k in values})
        shown = ["QID1"] if self.score is not None else []
        if self.comment:
            shown.append("QID2")
        return {
            "responseId": self.id,
            "values": values,
            "labels": labels,
            "displayedFields": shown,
            "displayedValues": {"QID1": list(range(survey.low, survey.high + 1))},
        }


def answer_times(occurred: datetime, seq: int) -> tuple[datetime, datetime, datetime]:
    """start, end and recorded moments of an answer submitted at `occurred`."""
    started = occurred - timedelta(seconds=40 + seq % 200)
    recorded = occurred + timedelta(milliseconds=250 + seq % 700)
    return started, occurred, recorded
