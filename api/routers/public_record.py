"""The public record: Ofsted's inspections of every local authority, read by anyone signed in and
imported from Ofsted's published tables by an admin."""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.datastructures import UploadFile

from api.deps import Caller, Ledger, allowed, today
from api.local_authorities import local_authorities
from api.ofsted import import_ofsted, read_table
from api.problems import Problem
from api.schemas.public_record import (
    InspectionHistory,
    InspectionView,
    LatestJudgements,
    LocalAuthorityView,
    OfstedImportView,
)
from domain.errors import NotFound
from domain.inspection import latest_inspections

router = APIRouter(tags=["public record"])

# A file name is kept in every event read from the file: anything but these becomes "_".
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9 ._()-]")
_MAX_FILES = 10


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


async def _uploaded_tables(request: Request) -> list[tuple[str, bytes]]:
    """The tables sent: each file of a multipart form, or the body itself as one CSV file. The
    body's size was limited before anything parsed it (api/app.py)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return [(_file_name(request.query_params.get("name")), await request.body())]
    form = await request.form(max_files=_MAX_FILES, max_fields=_MAX_FILES)
    files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    if not files:
        raise Problem(422, "Invalid request", "the form holds no file: send the table as a file")
    return [(_file_name(file.filename), await file.read()) for file in files]


@router.post(
    "/imports/ofsted",
    summary="Import Ofsted's inspection outcomes tables: nothing is written if any row is wrong",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
def import_ofsted_tables(
    caller: Annotated[Caller, Depends(allowed("public_record.import"))],
    ledger: Ledger,
    tables: Annotated[list[tuple[str, bytes]], Depends(_uploaded_tables)],
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


def _file_name(offered: str | None) -> str:
    """The name a file is recorded under: its last part, in safe characters, not too long."""
    name = PurePosixPath((offered or "").replace("\\", "/")).name
    return _UNSAFE_IN_NAME.sub("_", name)[:200] or "upload.csv"
