"""The identity graph of one customer: `GET /v1/customers/{id}/identity` (their CRM records and
why each is theirs), `POST …/identity/links` (merge another customer or one CRM record into
them) and `DELETE …/identity/links/{link}` (split one record out into a person of its own).

Manual decisions are final: a later sync never undoes them (docs/identity.md). Merges and splits
need the `write` scope, are written to the identity log with the API key's id, and queue a
`rescore` job for each person they change (their scores and profile described the records they
had before), so each CRM holding one of their records gets the new scores.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.api.deps import EngineDep, JobQueueDep, ReadKey, WriteKey
from service.api.problems import ProblemError
from service.api.routes.customer_actions import CustomerId
from service.api.schemas.identity import IdentityChangeOut, IdentityOut, LinkIn
from service.jobs import JobQueue, UnknownJobKindError
from service.jobs.customer_jobs import RESCORE
from service.store.erasure import active_job_for
from service.store.identity_links import (
    IdentityConflictError,
    IdentityRepository,
    UnknownPersonError,
    UnknownRecordError,
)
from service.store.keys import KeyInfo

router = APIRouter(prefix="/v1/customers", tags=["customers"])


def _identity(engine: EngineDep, customer_id: str) -> IdentityOut:
    try:
        return IdentityOut.of(IdentityRepository(engine).identity(customer_id))
    except UnknownPersonError:
        raise ProblemError(404, f"no customer with id {customer_id}", kind="not-found") from None


def _rescore(queue: JobQueue, engine: EngineDep, people: list[str]) -> list[str]:
    """A rescore job per changed person (the active one when there is one already); none when
    this installation runs no jobs (the next sync that changes them scores them)."""
    jobs: list[str] = []
    for person in people:
        job = active_job_for(engine, RESCORE, person)
        if job is None:
            try:
                job = queue.submit(RESCORE, params={"customer_id": person})
            except UnknownJobKindError:
                return jobs
        jobs.append(job.id)
    return jobs


def _decided_by(key: KeyInfo) -> str:
    return f"key:{key.id}"


@router.get(
    "/{customer_id}/identity",
    summary="A customer's CRM records and why they are one person",
    description=(
        "Every CRM record linked to this customer (connection, object, id; `link_id` names it "
        "for an unlink) with why it is theirs: the rule (`email+phone`, `email`, `manual`, or "
        "`first_record` for the record that founded the person), its confidence, who decided "
        "(`auto`, `migration`, or `key:<API key id>`) and when; and the identity log of every "
        "decision about them (matched values are never shown or kept: only their hash)."
    ),
    responses={404: {"description": "Unknown or erased customer"}},
)
def get_identity(customer_id: CustomerId, _: ReadKey, engine: EngineDep) -> IdentityOut:
    return _identity(engine, customer_id)


@router.post(
    "/{customer_id}/identity/links",
    summary="Merge another customer or a CRM record into this customer",
    description=(
        'Body: `{"customer_id": …}` merges that customer (all their records, history and '
        'scores) into this one; `{"connection", "crm_object", "crm_id"}` moves one CRM '
        "customer record (with its history in that connection). Final: no sync undoes it. "
        "Queues a `rescore` job for the merged person (`rescore_jobs`). 404 for an unknown "
        "customer or record; 409 when the person would get two records of one connection, for "
        "a link to themselves or a record already theirs. Needs the `write` scope."
    ),
    responses={404: {}, 409: {}},
)
def link(
    customer_id: CustomerId, body: LinkIn, key: WriteKey, engine: EngineDep, queue: JobQueueDep
) -> IdentityChangeOut:
    repository = IdentityRepository(engine)
    try:
        record = body.record()
        if record is not None:
            repository.merge_record(customer_id, *record, _decided_by(key))
        elif body.customer_id is not None:
            repository.merge_person(customer_id, body.customer_id, _decided_by(key))
    except UnknownPersonError as error:
        raise ProblemError(404, f"no customer with id {error}", kind="not-found") from None
    except UnknownRecordError as error:
        raise ProblemError(404, str(error), kind="not-found") from None
    except IdentityConflictError as error:
        raise ProblemError(409, str(error), kind="identity-conflict") from None
    jobs = _rescore(queue, engine, [customer_id])
    return IdentityChangeOut(**_identity(engine, customer_id).model_dump(), rescore_jobs=jobs)


@router.delete(
    "/{customer_id}/identity/links/{link_id}",
    summary="Split one CRM record out of this customer",
    description=(
        "The record `link_id` (from `GET …/identity`) becomes a customer of its own, with its "
        "history in that connection; the new customer's id is `split_customer_id`. Final: no "
        "sync links it back. Queues a `rescore` job for both. 404 for an unknown customer or a "
        "record not theirs; 409 for their only record. Needs the `write` scope."
    ),
    responses={404: {}, 409: {}},
)
def unlink(
    customer_id: CustomerId,
    link_id: Annotated[int, Path(ge=1, le=2**62, description="`link_id` of the record")],
    key: WriteKey,
    engine: EngineDep,
    queue: JobQueueDep,
) -> IdentityChangeOut:
    try:
        fresh = IdentityRepository(engine).split(customer_id, link_id, _decided_by(key))
    except UnknownPersonError:
        raise ProblemError(404, f"no customer with id {customer_id}", kind="not-found") from None
    except UnknownRecordError as error:
        raise ProblemError(404, str(error), kind="not-found") from None
    except IdentityConflictError as error:
        raise ProblemError(409, str(error), kind="identity-conflict") from None
    jobs = _rescore(queue, engine, [customer_id, fresh])
    return IdentityChangeOut(
        **_identity(engine, customer_id).model_dump(), rescore_jobs=jobs, split_customer_id=fresh
    )
