"""One exported response -> the respondent (`Customer`), their answers (`SurveyResponse`s) and
their free text (`Interaction`, channel survey, so sentiment reads it).

The respondent's id is stable across surveys and runs: keyed on their e-mail as the identity
graph matches it (service.domain.identity.email_key; hashed: ids reach logs and cursors,
addresses must not), else on their CRM contact id (`refs.<system>`), else a role mailbox as
written, else the response itself (an anonymous respondent is one person per response).
Every respondent is one `Customer` of the object `respondents`, so one person who answers
three surveys is one record in this connection, not three (docs/identity.md: a value held by
several records of one connection links no one).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import ValidationError

from adapters.mapping import CoercionError, FieldMap, Mapping, coerce
from adapters.qualtrics.surveymap import SurveyMap
from adapters.records import RecordRefusedError, build_record
from service.domain import Channel, DomainModel, Interaction, SourceRef, SurveyResponse
from service.domain.identity import email_key

RESPONDENTS = "respondents"  # the source object of every respondent record
COMMENTS = "comment"  # the suffix of a survey's free-text object: "<survey id>.comment"
# distributionChannel -> the channel the survey reached the respondent on.
_CHANNELS = {"email": Channel.EMAIL, "sms": Channel.SMS, "smsinvite": Channel.SMS}


def _hashed(prefix: str, value: str) -> str:
    return prefix + hashlib.sha256(value.encode()).hexdigest()[:32]


def _value(values: dict[str, Any], field: FieldMap) -> Any:
    try:
        return coerce(values.get(field.crm), field.type, field.values)
    except CoercionError:
        return None


def respondent_key(values: dict[str, Any], smap: SurveyMap, response_id: str) -> str:
    """The respondent's stable id (see the module docstring)."""
    email_field = smap.email
    email = _value(values, email_field) if email_field is not None else None
    text = email if isinstance(email, str) and "@" in email else None
    # As the identity graph matches it (Gmail's dots and tags folded), so two spellings of one
    # address are one respondent, never two records sharing a match key.
    personal = email_key(text)
    if personal is not None:
        return _hashed("em-", personal)
    for field in smap.ref_fields:
        ref = _value(values, field)
        if ref not in (None, ""):
            return _hashed("ref-", f"{field.canonical}:{ref}")
    if text is not None:  # a role mailbox without a CRM id: one respondent per mailbox
        return _hashed("em-", text.strip().lower())
    return f"resp-{response_id}"


def _respondent_mapping(smap: SurveyMap) -> Mapping:
    return Mapping(
        crm=smap.mapping.crm,
        object=RESPONDENTS,
        canonical="customer",
        direction="pull",
        fields=smap.respondent,
        source=smap.mapping.source,
    )


def completed(row: dict[str, Any]) -> bool:
    """A finished response (`finished` is 1 in exports; unfinished ones are left out)."""
    values = row.get("values")
    return isinstance(values, dict) and values.get("finished") in (1, "1", True, "true")


def build_response(smap: SurveyMap, row: dict[str, Any], connection: str) -> list[DomainModel]:
    """The records of one completed response; RecordRefusedError (naming fields, never values)
    when it cannot be read."""
    response_id = row.get("responseId")
    values = row.get("values")
    if not isinstance(response_id, str) or not response_id or not isinstance(values, dict):
        raise RecordRefusedError(str(response_id), "no responseId or values")
    key = respondent_key(values, smap, response_id)
    customer = build_record(
        _respondent_mapping(smap), values, connection=connection, crm_id=key, linked={"id": key}
    )
    language = getattr(customer, "language", None)
    occurred = coerce(values.get("endDate") or values.get("recordedDate"), "datetime")
    if occurred is None:
        raise RecordRefusedError(response_id, "endDate and recordedDate are empty")
    comment = _value(values, smap.comment) if smap.comment is not None else None
    touchpoint = (
        _value(values, smap.touchpoint) if smap.touchpoint is not None else None
    ) or smap.constant_touchpoint
    channel = _CHANNELS.get(str(values.get("distributionChannel", "")).lower(), Channel.SURVEY)
    records: list[DomainModel] = [customer]
    for index, metric in enumerate(smap.metrics):
        try:
            score = coerce(values.get(metric.field.crm), metric.field.type, metric.field.values)
        except CoercionError:
            raise RecordRefusedError(response_id, f"{metric.field.crm} is not a number") from None
        if score is None:
            if metric.field.required:
                raise RecordRefusedError(response_id, f"{metric.field.crm} is empty")
            continue
        # The first metric's record is the response itself; a second metric of the same
        # response is its own source object (one link per (object, id)).
        crm_object = smap.survey_id if index == 0 else f"{smap.survey_id}.{metric.kind.value}"
        try:
            records.append(
                SurveyResponse(
                    id=f"{response_id}-{metric.kind.value}",
                    customer_id=key,
                    kind=metric.kind,
                    value=float(score),
                    scale=metric.scale,
                    touchpoint=touchpoint,
                    channel=channel,
                    occurred_at=occurred,
                    comment=comment or None,
                    source=SourceRef(
                        connection=connection, crm_object=crm_object, crm_id=response_id
                    ),
                )
            )
        except ValidationError as error:
            fields = sorted({".".join(str(p) for p in e["loc"]) or "value" for e in error.errors()})
            raise RecordRefusedError(
                response_id, f"{metric.field.crm}: invalid {', '.join(fields)}"
            ) from None
    if comment:
        records.append(
            Interaction(
                id=f"{response_id}-{COMMENTS}",
                customer_id=key,
                channel=Channel.SURVEY,
                occurred_at=occurred,
                subject=f"{' / '.join(m.kind.value.upper() for m in smap.metrics)} comment",
                text=comment,
                language=language,
                source=SourceRef(
                    connection=connection,
                    crm_object=f"{smap.survey_id}.{COMMENTS}",
                    crm_id=response_id,
                ),
            )
        )
    return records
