"""Councils, trusts, audit bodies: registered by an admin, read by anyone signed in."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from api.deps import Caller, Ledger, WriteOptions, allowed, etag, outcome_headers
from api.schemas.directory import OrganisationToRegister, OrganisationView
from domain.organisation import Organisation

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register an organisation")
def register_organisation(
    body: OrganisationToRegister,
    caller: Annotated[Caller, Depends(allowed("organisation.register"))],
    ledger: Ledger,
    write: WriteOptions,
    response: Response,
) -> OrganisationView:
    outcome = ledger.create(
        lambda _: Organisation.register(
            name=body.name,
            kind=body.kind,
            la_number=body.la_number,
            ons_code=body.ons_code,
            actor=caller.actor,
        ),
        actor=caller.actor,
        write=write,
    )
    response.headers.update(outcome_headers(outcome.version, outcome.position))
    response.headers["Location"] = f"/organisations/{outcome.aggregate_id}"
    return OrganisationView.of(ledger.get(outcome.aggregate_id, Organisation, outcome.version))


@router.get("/{organisation_id}", summary="An organisation")
def read_organisation(
    organisation_id: UUID,
    _: Annotated[Caller, Depends(allowed("organisation.read"))],
    ledger: Ledger,
    response: Response,
) -> OrganisationView:
    organisation = ledger.get(organisation_id, Organisation)
    response.headers["ETag"] = etag(organisation.version)
    return OrganisationView.of(organisation)
