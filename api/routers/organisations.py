"""Councils, trusts, audit bodies: registered by an admin, read by anyone signed in."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from api.deps import Acting, Caller, Ledger, acting_as, allowed, etag
from api.schemas.directory import OrganisationToRegister, OrganisationView
from domain.organisation import Organisation

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register an organisation")
def register_organisation(
    body: OrganisationToRegister,
    acting: Annotated[Acting, Depends(acting_as("organisation.register"))],
) -> OrganisationView:
    organisation = acting.create(
        Organisation,
        lambda _: Organisation.register(
            name=body.name,
            kind=body.kind,
            la_number=body.la_number,
            ons_code=body.ons_code,
            actor=acting.actor,
        ),
        "/organisations",
    )
    return OrganisationView.of(organisation)


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
