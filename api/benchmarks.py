"""A local authority's benchmarks for one indicator and year, from the DfE figures imported: its
own published value beside England's, its region's and its statistical neighbours' median.

Each value says whether its published counts, divided and rounded half up as DfE rounds, give
it: a mismatch is shown, not hidden. Neighbours' values are DfE's published figures, as DfE's
dashboard takes them; a suppressed or unpublished one is listed, marked, and left out of the
median, and the count used is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from api.dfe import SOURCES
from api.local_authorities import LocalAuthority, local_authorities
from api.statistical_neighbours import statistical_neighbours
from domain.benchmark import PublishedFigure, PublishedFigures, neighbour_median
from domain.errors import NotFound
from domain.indicators import Indicator, national_indicator


class Recomputation(StrEnum):
    """What the value's own published counts give."""

    MATCHES = "matches"
    # Counts DfE rounded before publishing them (to the nearest 10 above LA level, to 0.1 of
    # an FTE) could give the published value: expected, not an error.
    WITHIN_COUNT_ROUNDING = "within_count_rounding"
    DIFFERS = "differs"
    # DfE publishes the counts and not the figure (children in need per 10,000): the value is
    # the catalogue's figure for them.
    DERIVED = "derived"
    NOT_RECOMPUTED = "not_recomputed"  # the value or a count is suppressed or not published


@dataclass(frozen=True)
class Benchmarked:
    """A published figure, with what its counts give."""

    published: PublishedFigure
    recomputation: Recomputation

    @classmethod
    def of(cls, published: PublishedFigure | None) -> Benchmarked | None:
        if published is None:
            return None
        return cls(published, _recomputation(published))

    @property
    def recomputed(self) -> Decimal | None:
        """The value its counts give, where that is not the published value."""
        found = self.published.discrepancy
        return None if found is None else Decimal(found.recomputed)


@dataclass(frozen=True)
class NeighbourValue:
    authority: LocalAuthority
    closeness: str
    published: PublishedFigure | None  # None: no figure for that year (e.g. not yet formed)

    @property
    def value(self) -> Decimal | None:
        """The value the median takes; None for a suppressed or absent one, left out."""
        if self.published is None:
            return None
        value = self.published.figure.published
        return value if isinstance(value, Decimal) else None


@dataclass(frozen=True)
class Benchmark:
    authority: LocalAuthority
    indicator: Indicator
    year: int
    value: Benchmarked | None  # None where DfE publishes nothing for the LA alone that year
    england: Benchmarked | None
    region_code: str | None
    region_name: str | None
    region: Benchmarked | None
    neighbours: tuple[NeighbourValue, ...]
    median: Decimal | None

    @property
    def neighbours_used(self) -> int:
        return sum(neighbour.value is not None for neighbour in self.neighbours)


def benchmark(
    figures: PublishedFigures, authority: LocalAuthority, code: str, year: int | None
) -> Benchmark:
    """The benchmarks of `authority` on indicator `code` in DfE's `year` (its time_period), or
    in the latest year imported."""
    indicator = national_indicator(code)
    years = figures.years(code)
    if not years:
        raise NotFound(f"no DfE figures of {code} have been imported")
    year = max(years) if year is None else year
    if year not in years:
        raise NotFound(
            f"no DfE figures of {code} for {year} have been imported: {min(years)} to "
            f"{max(years)} have"
        )
    own = figures.local_authority(code, year, authority.la_number)
    region_code = (
        own.figure.region_code if own is not None else figures.region_of(authority.la_number)
    )
    neighbours = tuple(
        NeighbourValue(
            authority=_listed(neighbour.la_number),
            closeness=neighbour.closeness,
            published=figures.local_authority(code, year, neighbour.la_number),
        )
        for neighbour in statistical_neighbours().get(authority.la_number, ())
    )
    values = [n.value for n in neighbours if n.value is not None]
    return Benchmark(
        authority=authority,
        indicator=indicator,
        year=year,
        value=Benchmarked.of(own),
        england=Benchmarked.of(figures.england(code, year)),
        region_code=region_code,
        region_name=None if region_code is None else figures.name_of(region_code),
        region=(
            None if region_code is None else Benchmarked.of(figures.region(code, year, region_code))
        ),
        neighbours=neighbours,
        median=neighbour_median(values, indicator.decimals),
    )


def benchmark_for_period(
    figures: PublishedFigures, la_number: str, code: str, period_ends: date
) -> Benchmark | None:
    """DfE's figures for the reporting year that ends last by `period_ends` (a KPI period's last
    day), so that a contract's 2024-25 return sits beside DfE's year to 31 March 2025; None for
    a local indicator or when no such year is imported."""
    if code not in SOURCES or local_authorities().find(la_number) is None:
        return None
    source = SOURCES[code]
    years = [year for year in figures.years(code) if source.period_end(year) <= period_ends]
    if not years:
        return None
    return benchmark(figures, _listed(la_number), code, max(years))


def _listed(la_number: str) -> LocalAuthority:
    found = local_authorities().find(la_number)
    # Every neighbour of the model is in the reference list: a spec holds the two files to it.
    assert found is not None, f"statistical neighbour {la_number} is not a listed authority"
    return found


def _recomputation(published: PublishedFigure) -> Recomputation:
    figure = published.figure
    if SOURCES[figure.indicator].value is None:
        return Recomputation.DERIVED
    if published.discrepancy is not None:
        if published.discrepancy.within_count_rounding:
            return Recomputation.WITHIN_COUNT_ROUNDING
        return Recomputation.DIFFERS
    numerator, denominator = figure.counts
    counted = isinstance(numerator, int | Decimal) and isinstance(denominator, int | Decimal)
    if isinstance(figure.published, Decimal) and counted:
        return Recomputation.MATCHES
    return Recomputation.NOT_RECOMPUTED
