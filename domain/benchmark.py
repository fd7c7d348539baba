"""Benchmarks from DfE's published figures: the index they are read from and the median rule.

The statistical-neighbour benchmark, as DfE's own dashboard shows it, is the median of the ten
neighbours' published values, not a figure recomputed from their counts (shared/data/README).
A suppressed or unpublished value is left out, so the median may rest on fewer than ten: the
count used is always shown beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from domain.indicators import round_half_up
from domain.publication import ENGLAND, Discrepancy, Figure, FigureKey, Level, Publication


@dataclass(frozen=True)
class PublishedFigure:
    """A figure with the edition it was read from, and its mismatch if its counts disagree."""

    figure: Figure
    file: str
    sha256: str
    discrepancy: Discrepancy | None


class PublishedFigures:
    """Every imported figure by indicator, year and place: what the benchmarks read."""

    def __init__(self, publications: Iterable[Publication]) -> None:
        self._figures: dict[FigureKey, PublishedFigure] = {}
        self._by_la_number: dict[tuple[str, int, str], FigureKey] = {}
        self._years: dict[str, set[int]] = {}
        # The region an LA's latest figure gives, for the years it has no figure of its own.
        self._regions: dict[str, tuple[int, str]] = {}
        self._names: dict[str, str] = {}
        for publication in publications:
            self._names.update(publication.places)
            for key, figure in publication.figures.items():
                self._figures[key] = PublishedFigure(
                    figure,
                    publication.file,
                    publication.sha256,
                    publication.discrepancies.get(key),
                )
                self._years.setdefault(figure.indicator, set()).add(figure.year)
                if figure.la_number is not None and figure.region_code is not None:
                    self._by_la_number[(figure.indicator, figure.year, figure.la_number)] = key
                    known = self._regions.get(figure.la_number)
                    if known is None or known[0] < figure.year:
                        self._regions[figure.la_number] = (figure.year, figure.region_code)

    def __len__(self) -> int:
        return len(self._figures)

    def local_authority(self, indicator: str, year: int, la_number: str) -> PublishedFigure | None:
        """An LA's figure by its DfE number: the key DfE keeps when ONS codes change."""
        key = self._by_la_number.get((indicator, year, la_number))
        return None if key is None else self._figures[key]

    def england(self, indicator: str, year: int) -> PublishedFigure | None:
        return self._figures.get((indicator, year, Level.NATIONAL.value, ENGLAND))

    def region(self, indicator: str, year: int, region_code: str) -> PublishedFigure | None:
        return self._figures.get((indicator, year, Level.REGIONAL.value, region_code))

    def region_of(self, la_number: str) -> str | None:
        """The region DfE's own rows put the LA in (the latest year's): Inner or Outer London
        for a London borough, as the files publish them."""
        known = self._regions.get(la_number)
        return None if known is None else known[1]

    def years(self, indicator: str) -> frozenset[int]:
        """The years with a figure of the indicator for some place."""
        return frozenset(self._years.get(indicator, ()))

    def name_of(self, geography_code: str) -> str | None:
        return self._names.get(geography_code)


def neighbour_median(values: Sequence[Decimal], decimals: int) -> Decimal | None:
    """The median of the values given; None for none. Of an even count it is the mean of the
    middle two, rounded half up to the indicator's decimals as DfE rounds (22.65 to 22.7)."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return round_half_up((ordered[middle - 1] + ordered[middle]) / 2, decimals)
