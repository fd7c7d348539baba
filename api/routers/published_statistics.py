"""DfE's published statistics: imported by an admin, and read by anyone signed in as a local
authority's benchmarks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from api.benchmarks import benchmark
from api.deps import Caller, Ledger, allowed
from api.dfe_import import import_uploaded
from api.local_authorities import local_authorities
from api.problems import Problem
from api.schemas.published_statistics import BenchmarkView, DfeImportView
from api.uploads import TABLES_REQUEST_BODY, UploadedTables
from domain.errors import NotFound

router = APIRouter(tags=["published statistics"])


@router.get(
    "/benchmarks/{la}/{indicator}",
    summary="A local authority's published value beside England's, its region's and the median "
    "of its statistical neighbours",
)
def benchmark_of(
    la: Annotated[
        str, Path(max_length=20, description="DfE LA number (333) or ONS code (E08000028)")
    ],
    indicator: Annotated[
        str, Path(max_length=60, description="A catalogue code, e.g. sw_caseload")
    ],
    _: Annotated[Caller, Depends(allowed("public_record.read"))],
    ledger: Ledger,
    year: Annotated[
        int | None,
        Query(ge=1000, le=9999, description="DfE's time_period (default: the latest imported)"),
    ] = None,
) -> BenchmarkView:
    authority = local_authorities().find(la)
    if authority is None:
        raise NotFound(f"no local authority has the DfE number or ONS code {la}")
    return BenchmarkView.of(benchmark(ledger.published_figures(), authority, indicator, year))


@router.post(
    "/imports/dfe",
    summary="Import DfE's published tables: nothing is written if any row is wrong",
    openapi_extra=TABLES_REQUEST_BODY,
)
def import_dfe_tables(
    caller: Annotated[Caller, Depends(allowed("public_record.import"))],
    ledger: Ledger,
    tables: UploadedTables,
    response: Response,
) -> DfeImportView:
    report = import_uploaded(ledger, tables, caller.actor)
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
    return DfeImportView.of(report)
