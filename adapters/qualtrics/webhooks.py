"""Qualtrics events in: form-urlencoded completed-response events, signed with the
subscription's sharedKey (docs/qualtrics.md "Events").

A keyed subscription posts `Topic`, `HMAC` and `MSG`: `MSG` is the JSON of the event's fields
(`SurveyID`, `ResponseID`, `CompletedDate`, `BrandID`, ...) and `HMAC` the hex
HMAC-SHA512 of `MSG` under the sharedKey (our `WEBHOOK_SECRET`). `Topic` is brand-prefixed,
`{brandId}.surveyengine.completedResponse.{SurveyID}`. Events name ids only; the response is
read again by id. The signature covers no timestamp, so a replayed event verifies: it costs
one idempotent re-read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from service.realtime.changes import Notice, SignatureError

COMPLETED = "surveyengine.completedResponse"
MAX_EVENTS = 1  # one event a delivery


def decode(body: bytes) -> list[dict[str, str]]:
    """The form as an array of one event's fields; ValueError when it is not a form."""
    try:
        text = body.decode("utf-8")
        form = parse_qs(text, keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError("not a form-urlencoded body") from error
    if any(len(v) != 1 for v in form.values()):
        raise ValueError("a form field is repeated")
    return [{k: v[0] for k, v in form.items()}]


def _form(body: bytes) -> dict[str, str]:
    try:
        return decode(body)[0]
    except ValueError as error:
        raise SignatureError("not a signed Qualtrics event (no form)") from error


def verify(
    secret: str, method: str, uri: str, headers: Mapping[str, str], body: bytes, now_ms: int
) -> None:
    """SignatureError unless `HMAC` is hex(HMAC-SHA512(sharedKey, MSG))."""
    del method, uri, headers, now_ms  # Qualtrics signs MSG alone
    form = _form(body)
    message, signature = form.get("MSG"), form.get("HMAC")
    if not message or not signature:
        raise SignatureError("HMAC or MSG missing: subscribe with a sharedKey")
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise SignatureError("signature does not match")


def _stamp(completed: Any) -> int:
    """CompletedDate ("2020-10-22 12:31:40", read as UTC) in epoch ms; 0 when unreadable."""
    try:
        moment = datetime.fromisoformat(str(completed))
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def notices(payload: Any, own_fields: frozenset[str]) -> tuple[list[Notice], int]:
    """The notice of each completed-response event (object type: the survey id, the stream's
    name); events of other topics are ignored. ValueError on a body of another shape."""
    del own_fields  # nothing of ours is ever written to Qualtrics
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise ValueError("expected an array of form events")
    found: list[Notice] = []
    ignored = 0
    for form in payload:
        try:
            message = json.loads(str(form.get("MSG", "")))
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise ValueError("MSG is not a JSON object")
        topic = str(form.get("Topic", ""))
        survey, response = message.get("SurveyID"), message.get("ResponseID")
        if (
            f".{COMPLETED}." not in f".{topic}"
            or not isinstance(survey, str)
            or not survey.startswith("SV_")
            or not isinstance(response, str)
            or not response.startswith("R_")
        ):
            ignored += 1
            continue
        stamp = _stamp(message.get("CompletedDate"))
        found.append(Notice(f"{survey}:{response}", survey, (response,), False, stamp))
    return found, ignored
