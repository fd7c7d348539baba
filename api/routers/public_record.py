"""The public record: Ofsted's inspections of every local authority and the statutory interventions
in its children's services, read by anyone signed in; an admin imports Ofsted's published tables
and records the interventions from their published sources."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from api.deps import Acting, Caller, Ledger, acting_as, allowed, today
from api.local_authorities import LocalAuthority, local_authorities
from api.ofsted import import_ofsted, read_table
from api.problems import Problem
from api.schemas.public_record import (
    InspectionHistory,
    InspectionView,
    InterventionRecorded,
    InterventionToRecord,
    LatestJudgements,
    LocalAuthorityView,
    OfstedImportView,
    Timeline,
)
from api.uploads import TABLES_REQUEST_BODY, UploadedTables
from domain.errors import NotFound, UnknownReference
from domain.inspection import latest_inspections
from domain.local_authority_record import LocalAuthorityRecord, record_intervention
from domain.timeline import timeline

router = APIRouter(tags=["public record"])

# A file name is kept in every event read from the file: anything but these becomes "_".

LaCode = Annotated[
    str, Path(max_length=20, description="DfE LA number (333) or ONS code (E08000028)")
]


@router.get(
    "/local-authorities/{la}/inspections",
    summary="A local authority's Ofsted inspections and visits, newest first, with corrections",
)
def inspection_history(
    la: Annotated[
        str,
        Path(max_length=20, description="DfE LA number (333) or ONS code (E08000028)"),
    ],
    _: Annotated[Caller, Depends(allowed("public_record.read"))],
    ledger: Ledger,
) -> InspectionHistory:
    authority = local_authorities().find(la)
    if authority is None:
        raise NotFound(f"no local authority has the DfE number or ONS code {la}")
    # A council abolished in a reorganisation has no ONS code, and so no inspection under one.
    found = [] if authority.ons_code is None else ledger.inspections(authority.ons_code)
    newest_first = sorted(found, key=lambda i: (i.starts_on, i.published_on), reverse=True)
    return InspectionHistory(
        local_authority=LocalAuthorityView.of(authority),
        inspections=[InspectionView.of(inspection) for inspection in newest_first],
    )


@router.get(
    "/ofsted/latest",
    summary="Each local authority's latest inspection judgement, as Ofsted's latest-per-LA table",
)
def latest_judgements(
    _: Annotated[Caller, Depends(allowed("public_record.read"))],
    ledger: Ledger,
    inspected_by: Annotated[
        date | None, Query(description="Inspections begun on or before (default today)")
    ] = None,
    published_by: Annotated[
        date | None, Query(description="Published on or before (default today)")
    ] = None,
) -> LatestJudgements:
    inspected_by = inspected_by or today()
    published_by = published_by or today()
    latest = latest_inspections(
        ledger.inspections(), inspected_by=inspected_by, published_by=published_by
    )
    return LatestJudgements.of(inspected_by, published_by, latest)


@router.post(
    "/imports/ofsted",
    summary="Import Ofsted's inspection outcomes tables: nothing is written if any row is wrong",
    openapi_extra=TABLES_REQUEST_BODY,
)
def import_ofsted_tables(
    caller: Annotated[Caller, Depends(allowed("public_record.import"))],
    ledger: Ledger,
    tables: UploadedTables,
    response: Response,
) -> OfstedImportView:
    report = import_ofsted(
        ledger, [read_table(name, content) for name, content in tables], caller.actor
    )
    if not report.imported:
        raise Problem(
            422,
            "Invalid table",
            f"{len(report.problems)} problems in the tables: nothing was imported",
            errors=[
                {"file": problem.file, "line": problem.line, "message": problem.message}
                for problem in report.problems
            ],
        )
    if report.position is not None:
        response.headers["Trustledger-Position"] = str(report.position)
    return OfstedImportView.of(report)


@router.post(
    "/local-authorities/{la}/interventions",
    status_code=201,
    summary="Record a statutory intervention in a local authority's children's services",
)
def record_intervention_on(
    la: LaCode,
    body: InterventionToRecord,
    acting: Annotated[Acting, Depends(acting_as("public_record.record_intervention"))],
) -> InterventionRecorded:
    authority = _listed(la)
    ons_code = authority.ons_code
    if ons_code is None:
        raise UnknownReference(
            f"{authority.name} was abolished in a reorganisation and has no ONS code, by which "
            "the public record is kept"
        )
    outcome = acting.ledger.execute(
        lambda session: record_intervention(
            session,
            ons_code=ons_code,
            la_number=authority.la_number,
            la_name=authority.name,
            intervention=body.intervention(),
            actor=acting.actor,
        ),
        actor=acting.actor,
        write=acting.write,
    )
    acting.report(outcome.version, outcome.position)
    record = acting.ledger.get(outcome.aggregate_id, LocalAuthorityRecord, outcome.version)
    return InterventionRecorded.of(authority, record, outcome.value)


@router.get(
    "/local-authorities/{la}/timeline",
    summary="A local authority's inspections and interventions together, oldest first",
)
def timeline_of(
    la: LaCode,
    _: Annotated[Caller, Depends(allowed("public_record.read"))],
    ledger: Ledger,
) -> Timeline:
    authority = _listed(la)
    ons_code = authority.ons_code
    # A council abolished in a reorganisation has no ONS code, and so nothing kept under one.
    entries = (
        []
        if ons_code is None
        else timeline(ledger.inspections(ons_code), ledger.local_authority_record(ons_code))
    )
    return Timeline(local_authority=LocalAuthorityView.of(authority), entries=entries)


def _listed(la: str) -> LocalAuthority:
    authority = local_authorities().find(la)
    if authority is None:
        raise NotFound(f"no local authority has the DfE number or ONS code {la}")
    return authority
