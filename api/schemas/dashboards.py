"""The dashboard, the portfolio and the activity feed as the API answers them, and as the
reports a commissioner takes to a board (CSV, XLSX)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from api.benchmarks import Benchmark
from api.exports import Cell, Column, Report, Section
from api.schemas.published_statistics import ATTRIBUTION
from domain.indicators import Suppression
from domain.inspection import Area
from domain.rag import Rag
from projections.activity import ActivityEntry
from projections.dashboard import FinancialPositionLine, KpiLine
from projections.dashboard_view import Dashboard, PortfolioLine

OFSTED_SOURCE = "Ofsted, Local authority inspection outcomes (children's services)"
DFE_SOURCE = "Department for Education, Children's social care statistics"


class KpiBenchmark(BaseModel):
    """A KPI's latest period beside DfE's published figures for the same year."""

    year: int = Field(description="DfE's time_period compared: the latest ending by the KPI's")
    authority: Decimal | Suppression | None
    england: Decimal | Suppression | None
    region: Decimal | Suppression | None
    region_name: str | None
    statistical_neighbour_median: Decimal | None
    neighbours_used: int

    @classmethod
    def of(cls, benchmark: Benchmark) -> KpiBenchmark:
        return cls(
            year=benchmark.year,
            authority=None
            if benchmark.value is None
            else benchmark.value.published.figure.published,
            england=None
            if benchmark.england is None
            else benchmark.england.published.figure.published,
            region=None
            if benchmark.region is None
            else benchmark.region.published.figure.published,
            region_name=benchmark.region_name,
            statistical_neighbour_median=benchmark.median,
            neighbours_used=benchmark.neighbours_used,
        )


class DashboardView(BaseModel):
    dashboard: Dashboard
    benchmarks: dict[str, KpiBenchmark] = Field(
        description="By KPI code: DfE's figures for the year of the KPI's latest period"
    )
    position: int = Field(description="The log position the dashboard shows")
    attribution: str | None

    def to_json(self, contract_json: bytes | None) -> bytes:
        """The view as the API answers it, with the contract's JSON made earlier spliced in
        where given (`DashboardReader.contract_json`): the contract is nearly all of it."""
        if contract_json is None:
            return self.__pydantic_serializer__.to_json(self)
        board = self.dashboard.model_copy(update={"contract": _PLACEHOLDER})
        return _spliced(self.model_copy(update={"dashboard": board}), contract_json)

    def report(self) -> Report:
        board = self.dashboard
        contract = board.contract
        kpis = Section(
            "KPIs",
            (
                Column("Ref"),
                Column("Indicator"),
                Column("Unit"),
                Column("Latest period"),
                Column("Latest value"),
                Column("Target"),
                Column("Tolerance"),
                Column("RAG"),
                Column("Direction"),
                Column("Overdue returns"),
                Column("Open queries"),
                Column("Restatements"),
                Column("DfE year"),
                Column("England"),
                Column("Region"),
                Column("Statistical neighbours' median"),
            ),
            tuple(self._kpi_row(kpi, board.today) for kpi in contract.kpis),
        )
        notices = Section(
            "Open performance notices",
            (Column("Issued"), Column("Response due"), Column("Status"), Column("Grounds")),
            tuple(
                (n.issued_on, n.response_due, n.status.value, n.grounds)
                for n in contract.open_notices
            ),
        )
        finances = Section(
            "Finances",
            (
                Column("Financial year"),
                Column("Contract sum", "£"),
                Column("Forecast outturn", "£"),
                Column("Variance", "£"),
                Column("Paid", "£"),
            ),
            tuple(
                (
                    year,
                    _pounds(total),
                    _pounds(position.forecast_outturn) if position else None,
                    _pounds(position.variance) if position else None,
                    _pounds(contract.finances.paid_by_year.get(year)),
                )
                for year, total in contract.finances.contract_sums.items()
                for position in [_position_for(contract.finances.latest_positions, year)]
            ),
        )
        ofsted = Section(
            "Ofsted",
            (Column("Inspection"), Column("Began"), Column("Published"), Column("Overall")),
            tuple(
                (
                    line.inspection_type.value,
                    line.starts_on,
                    line.published_on,
                    None
                    if (grade := line.judgements.get(Area.OVERALL_EFFECTIVENESS)) is None
                    else grade.value,
                )
                for line in (board.ofsted.history if board.ofsted else [])
            ),
        )
        sources = (DFE_SOURCE,) * bool(self.benchmarks) + (OFSTED_SOURCE,) * bool(board.ofsted)
        return Report(
            title=f"{contract.title}: {contract.council.name} and {contract.trust.name}, "
            f"dashboard on {board.today.isoformat()} (log position {self.position})",
            sections=(kpis, notices, finances, ofsted),
            sources=sources,
        )

    def _kpi_row(self, kpi: KpiLine, today: date) -> tuple[Cell, ...]:
        latest = kpi.latest
        benchmark = self.benchmarks.get(kpi.code)
        return (
            kpi.reference,
            kpi.title,
            kpi.unit,
            None if latest is None else latest.period,
            None if latest is None else latest.value,
            kpi.target,
            kpi.tolerance,
            kpi.rag.value,
            kpi.direction.value,
            len(kpi.overdue(today)),
            kpi.open_queries,
            kpi.restatements,
            None if benchmark is None else benchmark.year,
            None if benchmark is None else benchmark.england,
            None if benchmark is None else benchmark.region,
            None if benchmark is None else benchmark.statistical_neighbour_median,
        )


class PortfolioView(BaseModel):
    contracts: list[PortfolioLine]
    today: date
    position: int
    attribution: str | None

    def to_json(self, lines_json: Sequence[bytes | None]) -> bytes:
        """The view as the API answers it, with each line's JSON made earlier spliced in where
        all are given (`DashboardReader.line_json`, in the order of `contracts`)."""
        made = [each for each in lines_json if each is not None]
        if len(made) != len(self.contracts):
            return self.__pydantic_serializer__.to_json(self)
        shell = self.model_copy(update={"contracts": [_PLACEHOLDER]})
        return _spliced(shell, b",".join(made))

    def report(self) -> Report:
        section = Section(
            "Contracts",
            (
                Column("Contract"),
                Column("Council"),
                Column("Trust"),
                Column("Status"),
                Column("Red"),
                Column("Amber"),
                Column("Green"),
                Column("Overdue returns"),
                Column("Open notices"),
                Column("Overdue notices"),
                Column("Latest Ofsted grade"),
                Column("Variance year"),
                Column("Financial variance", "£"),
            ),
            tuple(
                (
                    line.row.title,
                    line.row.council,
                    line.row.trust,
                    line.status.value,
                    line.row.rag.get(Rag.RED, 0),
                    line.row.rag.get(Rag.AMBER, 0),
                    line.row.rag.get(Rag.GREEN, 0),
                    line.overdue_returns,
                    line.row.open_notices,
                    line.overdue_notices,
                    None if line.latest_ofsted_grade is None else line.latest_ofsted_grade.value,
                    line.row.variance_year,
                    _pounds(line.row.variance),
                )
                for line in self.contracts
            ),
        )
        return Report(
            title=f"Portfolio on {self.today.isoformat()} (log position {self.position})",
            sections=(section,),
            sources=(OFSTED_SOURCE,) if self.attribution else (),
        )


class ActivityView(BaseModel):
    entries: list[ActivityEntry] = Field(description="Newest first")
    page: int
    size: int
    total: int
    position: int


# Where a part serialised earlier goes: the shell of a view, with this string in the part's place,
# is serialised and the string's JSON replaced by the part's. The part is the first thing in its
# view that is not a date or a number, so the first occurrence is its place, whatever the text of
# the rest. Pydantic warns of a string where the schema wants a model; that is the point here.
_PLACEHOLDER = "\x00spliced\x00"
_PLACEHOLDER_JSON = b'"\\u0000spliced\\u0000"'


def _spliced(shell: BaseModel, part: bytes) -> bytes:
    made = shell.__pydantic_serializer__.to_json(shell, warnings=False)
    before, found, after = made.partition(_PLACEHOLDER_JSON)
    assert found, "the placeholder is in the shell"
    return before + part + after


def attribution(public_data: bool) -> str | None:
    return ATTRIBUTION if public_data else None


def _pounds(pence: int | None) -> Decimal | None:
    # Integer pence in the ledger; pounds with pence in a board paper.
    return None if pence is None else Decimal(pence) / 100


def _position_for(
    positions: list[FinancialPositionLine], year: str
) -> FinancialPositionLine | None:
    return next((p for p in positions if p.financial_year == year), None)
