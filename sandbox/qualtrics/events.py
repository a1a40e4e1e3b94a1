"""Event subscriptions' deliveries: completed-response events POSTed form-urlencoded.

Without a sharedKey the fields are flat (`Topic`, `Status`, `SurveyID`, `ResponseID`, ...);
with one, the body is `Topic`, `HMAC` and `MSG`, where `MSG` is the JSON of those fields and
`HMAC` the hex HMAC-SHA512 of `MSG` under the sharedKey. `Topic` is brand-prefixed:
`{brandId}.surveyengine.completedResponse.{SurveyID}` (README.md "Events").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlencode

import httpx

COMPLETED = "surveyengine.completedResponse"


def sign(shared_key: str, message: str) -> str:
    """hex(HMAC-SHA512(sharedKey, MSG))."""
    return hmac.new(shared_key.encode(), message.encode(), hashlib.sha512).hexdigest()


def event_fields(brand_id: str, survey_id: str, response_id: str, completed: str) -> dict[str, str]:
    """The fields of one completed-response event."""
    return {
        "Topic": f"{brand_id}.{COMPLETED}.{survey_id}",
        "Status": "Complete",
        "SurveyID": survey_id,
        "ResponseID": response_id,
        "RecipientID": "",
        "ResponseEventContext": "",
        "DistributionID": "",
        "CompletedDate": completed,
        "BrandID": brand_id,
    }


def form_body(fields: dict[str, str], shared_key: str | None) -> str:
    """The urlencoded body: flat fields, or `Topic`, `HMAC`, `MSG` when keyed."""
    if not shared_key:
        return urlencode(fields)
    message = json.dumps(fields, separators=(",", ":"))
    return urlencode({"Topic": fields["Topic"], "HMAC": sign(shared_key, message), "MSG": message})


def matches(subscription: dict[str, Any], survey_id: str) -> bool:
    """Whether a subscription's topics (comma-separated, `*` allowed) take this event."""
    topics = str(subscription.get("topics", "")).split(",")
    wanted = f"{COMPLETED}.{survey_id}"
    return any(fnmatchcase(wanted, t.strip()) for t in topics if t.strip())


@dataclass(frozen=True)
class Delivery:
    subscription_id: str
    url: str
    status: int | None
    error: str | None
    answer: str = ""  # the receiver's answer body (first 2,000 characters), for tests

    def to_json(self) -> dict[str, Any]:
        return {
            "subscriptionId": self.subscription_id,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "answer": self.answer,
        }


def deliver(subscription: dict[str, Any], body: str, timeout: float = 10.0) -> Delivery:
    """POST one event to the subscription's publicationUrl."""
    url = str(subscription["publicationUrl"])
    try:
        answer = httpx.post(
            url,
            content=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=timeout,
            trust_env=False,
        )
    except httpx.HTTPError as error:
        return Delivery(str(subscription["id"]), url, None, type(error).__name__)
    return Delivery(str(subscription["id"]), url, answer.status_code, None, answer.text[:2000])
