"""Salesforce's error shapes (docs/crm-api-facts.md §2.4, §2.6, §2.9).

REST calls fail with a JSON *array* of `{"message", "errorCode"[, "fields"]}`; per-record results
of sObject Collections use `statusCode` instead of `errorCode`. Both are built here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from sandbox.salesforce.responses import json_response

NOT_FOUND_MESSAGE = "The requested resource does not exist"
INVALID_SESSION_MESSAGE = "Session expired or invalid"


class RecordError(Exception):
    """One error about one record; raised by validation, reported per record or lifted."""

    def __init__(self, status_code: str, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.fields = fields

    def as_result_error(self) -> dict[str, Any]:
        """The per-record form (`statusCode`), used by sObject Collections."""
        return {
            "statusCode": self.status_code,
            "message": self.message,
            "fields": list(self.fields),
        }

    def as_rest_error(self) -> dict[str, Any]:
        """The top-level REST form (`errorCode`)."""
        body: dict[str, Any] = {"message": self.message, "errorCode": self.status_code}
        if self.fields:
            body["fields"] = list(self.fields)
        return body


@dataclass(slots=True)
class SalesforceApiError(Exception):
    """Raised anywhere in the emulator; rendered as the HTTP status + JSON error array."""

    status: int
    error_code: str
    message: str
    fields: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return f"{self.status} {self.error_code}: {self.message}"

    @classmethod
    def from_record_error(cls, error: RecordError, status: int = 400) -> SalesforceApiError:
        """Lift a per-record error to a whole-request failure (single-record endpoints)."""
        return cls(status, error.status_code, error.message, error.fields)

    def body(self) -> list[dict[str, Any]]:
        """The JSON error array."""
        return [RecordError(self.error_code, self.message, self.fields).as_rest_error()]

    def response(self) -> Response:
        """The HTTP response: status and JSON error array."""
        return json_response(self.body(), self.status)


def not_found() -> SalesforceApiError:
    """404 NOT_FOUND with the real message."""
    return SalesforceApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def invalid_session() -> SalesforceApiError:
    """401 INVALID_SESSION_ID: simple-salesforce re-logs in on exactly this errorCode."""
    return SalesforceApiError(401, "INVALID_SESSION_ID", INVALID_SESSION_MESSAGE)


def required_missing(names: list[str]) -> RecordError:
    """REQUIRED_FIELD_MISSING naming the fields, as the API lists them."""
    return RecordError(
        "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(names)}]", tuple(names)
    )


def invalid_type(name: str) -> SalesforceApiError:
    """400 INVALID_TYPE for an unknown sObject, with the real hint about `__c`."""
    return SalesforceApiError(
        400,
        "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. Please reference your WSDL or the "
        "describe call for the appropriate names.",
    )


def invalid_field(name: str, entity: str) -> SalesforceApiError:
    """400 INVALID_FIELD for an unknown column, with the real hint about `__c`."""
    return SalesforceApiError(
        400,
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )
