"""Acting on one customer: `DELETE /v1/customers/{id}` (erasure) and `POST …/rescore`.

Both run as jobs (202 + `Location` of the job; follow it at `GET /v1/jobs/{id}`) because they
write to CRMs, which may be slow or down: the job pauses and resumes instead of failing the
request. A request for a customer that already has such a job queued, running or paused answers
with that job (a paused one is resumed at once), so repeating a request is harmless.

Erasure needs the `admin` scope: it cannot be undone and it writes to every connected CRM.
Scopes are one ladder (read ⊂ write ⊂ admin), so a dedicated "erase" scope would either have to
sit above admin or break the ladder; an admin key is the one already meant for irreversible acts.
An erased id is unknown afterwards: a second DELETE answers 404, like an id that never existed,
because nothing about the customer is kept that could tell the two apart (only an opaque hash).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from service.api.deps import AdminKey, ServicesDep, WriteKey
from service.api.problems import ProblemError
from service.api.routes.jobs import JobOut
from service.api.services import Services
from service.jobs import UnknownJobKindError
from service.jobs.customer_jobs import ERASE, RESCORE
from service.store.erasure import active_job_for
from service.store.tables import Job, JobState

router = APIRouter(prefix="/v1/customers", tags=["customers"])

CustomerId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Our customer id")]


def _known_or_404(services: Services, customer_id: str) -> None:
    if services.erasure.footprint(customer_id) is None:
        raise ProblemError(404, f"no customer with id {customer_id}", kind="not-found")


def _submit(services: Services, kind: str, customer_id: str) -> Job:
    """The active job of `kind` for the customer (resumed when paused), or a new one."""
    queue = services.jobs
    existing = active_job_for(services.engine, kind, customer_id)
    if existing is not None:
        if existing.state == JobState.PAUSED.value:
            return queue.repository.resume(existing.id) or existing
        return existing
    try:
        return queue.submit(kind, params={"customer_id": customer_id})
    except UnknownJobKindError as error:
        raise ProblemError(501, str(error), kind="job-kind-not-registered") from None


def _accepted(response: Response, job: Job) -> JobOut:
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobOut.of(job)


@router.delete(
    "/{customer_id}",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Erase a customer",
    description=(
        "Queues an `erase` job: the fields cem-bridge owns are emptied (and its external id "
        "removed) on the customer's records in every connected CRM, our open tasks are closed "
        "(not deleted), then every row about the customer is deleted from our database; an "
        "audit entry without personal data (an opaque hash, counts, the time) is kept, and the "
        "customer's CRM records are suppressed so a later sync does not import them again. "
        "Progress counts `records_cleared`, `tasks_closed`, `rows_deleted`. If a CRM fails, "
        "the job pauses with nothing deleted yet and resumes later (or now, with another "
        "DELETE). Needs the `admin` scope. 404 for an unknown or already erased id."
    ),
    responses={404: {"description": "Unknown or already erased customer"}, 501: {}},
)
def erase_customer(
    customer_id: CustomerId,
    _: AdminKey,
    services: ServicesDep,
    response: Response,
) -> JobOut:
    _known_or_404(services, customer_id)
    return _accepted(response, _submit(services, ERASE, customer_id))


@router.post(
    "/{customer_id}/rescore",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Rescore a customer now",
    description=(
        "Queues a `rescore` job: the customer is scored from their stored history and the "
        "result pushed to every CRM they are linked on (only fields whose value changed; tasks "
        "are never duplicated), so a second rescore with nothing new writes nothing. 404 for an "
        "unknown customer; 409 while the customer is being erased."
    ),
    responses={404: {}, 409: {}, 501: {}},
)
def rescore_customer(
    customer_id: CustomerId,
    _: WriteKey,
    services: ServicesDep,
    response: Response,
) -> JobOut:
    _known_or_404(services, customer_id)
    erasing = active_job_for(services.engine, ERASE, customer_id)
    if erasing is not None:
        raise ProblemError(
            409, "the customer is being erased", kind="job-conflict", job_id=erasing.id
        )
    return _accepted(response, _submit(services, RESCORE, customer_id))
