"""DfE's published statistics: what an import did, and a local authority's benchmarks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from api.benchmarks import Benchmark, Benchmarked, NeighbourValue, Recomputation
from api.dfe import SOURCES, Mismatch
from api.dfe_import import DfeImport, PublicationImported
from api.schemas.public_record import LocalAuthorityView
from api.statistical_neighbours import MODEL
from domain.indicators import Indicator, Suppression
from domain.publication import Level

ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
MEDIAN_METHOD = (
    "The median of the statistical neighbours' published values, as DfE's dashboard takes "
    "them; suppressed or unpublished values are left out. Of an even count it is the mean of "
    "the middle two, rounded half up to the indicator's decimals."
)

Count = int | Decimal | Suppression


class MismatchView(BaseModel):
    """A published value that its own published counts, divided and rounded, do not give."""

    file: str
    line: int
    indicator: str
    year: int
    level: Level
    geography_code: str
    name: str
    published: Decimal
    recomputed: Decimal
    within_count_rounding: bool

    @classmethod
    def of(cls, mismatch: Mismatch) -> MismatchView:
        value = mismatch.value
        assert isinstance(value.value, Decimal), "only a published number can mismatch"
        return cls(
            file=value.file,
            line=value.line,
            indicator=value.indicator,
            year=value.year,
            level=value.level,
            geography_code=value.geography_code,
            name=value.name,
            published=value.value,
            recomputed=mismatch.recomputed,
            within_count_rounding=mismatch.within_count_rounding,
        )


class DfeImportView(BaseModel):
    files: list[PublicationImported]
    mismatches: list[MismatchView] = Field(
        description="The mismatches no rounding of the published counts explains; each file "
        "gives how many mismatches it has in all"
    )
    position: int | None = Field(description="The highest log position written, if any")

    @classmethod
    def of(cls, report: DfeImport) -> DfeImportView:
        return cls(
            files=list(report.files),
            mismatches=[
                MismatchView.of(m) for m in report.mismatches if not m.within_count_rounding
            ],
            position=report.position,
        )


class SourceView(BaseModel):
    file: str
    sha256: str


class FigureView(BaseModel):
    geography_code: str
    name: str | None
    value: Decimal | None = Field(description="None where suppressed")
    suppression: Suppression | None = Field(description="DfE's symbol, where suppressed")
    numerator: Count | None
    denominator: Count | None
    recomputation: Recomputation
    recomputed: Decimal | None = Field(description="What the counts give, where it differs")
    source: SourceView

    @classmethod
    def of(cls, benchmarked: Benchmarked | None, name: str | None) -> FigureView | None:
        if benchmarked is None:
            return None
        published = benchmarked.published
        figure = published.figure
        value = figure.published
        numerator, denominator = figure.counts
        return cls(
            geography_code=figure.geography_code,
            name=name,
            value=value if isinstance(value, Decimal) else None,
            suppression=value if isinstance(value, Suppression) else None,
            numerator=numerator,
            denominator=denominator,
            recomputation=benchmarked.recomputation,
            recomputed=benchmarked.recomputed,
            source=SourceView(file=published.file, sha256=published.sha256),
        )


class NeighbourView(BaseModel):
    la_number: str
    name: str
    closeness: str
    value: Decimal | None
    suppression: Suppression | None
    used: bool = Field(description="False for a suppressed or unpublished value: left out")

    @classmethod
    def of(cls, neighbour: NeighbourValue) -> NeighbourView:
        published = None if neighbour.published is None else neighbour.published.figure.published
        return cls(
            la_number=neighbour.authority.la_number,
            name=neighbour.authority.name,
            closeness=neighbour.closeness,
            value=neighbour.value,
            suppression=published if isinstance(published, Suppression) else None,
            used=neighbour.value is not None,
        )


class StatisticalNeighboursView(BaseModel):
    model: str = Field(description="DfE's statistical neighbour model")
    median: Decimal | None = Field(description="None when no neighbour's value is published")
    neighbours_used: int
    method: str
    neighbours: list[NeighbourView] = Field(description="Closest first, as the model orders them")


class BenchmarkView(BaseModel):
    local_authority: LocalAuthorityView
    indicator: Indicator
    year: int = Field(description="DfE's time_period: the reporting year ending in it")
    period_end: date
    value: FigureView | None = Field(
        description="The LA's own; None where DfE publishes nothing for it alone that year"
    )
    england: FigureView | None
    region: FigureView | None
    statistical_neighbours: StatisticalNeighboursView
    attribution: str

    @classmethod
    def of(cls, benchmark: Benchmark) -> BenchmarkView:
        authority = benchmark.authority
        return cls(
            local_authority=LocalAuthorityView.of(authority),
            indicator=benchmark.indicator,
            year=benchmark.year,
            period_end=SOURCES[benchmark.indicator.code].period_end(benchmark.year),
            value=FigureView.of(benchmark.value, authority.name),
            england=FigureView.of(benchmark.england, "England"),
            region=FigureView.of(benchmark.region, benchmark.region_name),
            statistical_neighbours=StatisticalNeighboursView(
                model=MODEL,
                median=benchmark.median,
                neighbours_used=benchmark.neighbours_used,
                method=MEDIAN_METHOD,
                neighbours=[NeighbourView.of(n) for n in benchmark.neighbours],
            ),
            attribution=ATTRIBUTION,
        )
