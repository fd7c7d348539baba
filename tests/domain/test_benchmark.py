"""Specifications of the statistical-neighbour median and of the index benchmarks read: the
median of an even count is the mean of the middle two rounded half up as DfE rounds, and an
LA's figure is found by its DfE number and its region by the region its rows give."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.benchmark import PublishedFigures, neighbour_median
from domain.publication import Level, Publication
from tests.domain.specs import ADMIN, fact, given
from tests.domain.test_publication import ENGLAND, FIRST, SANDWELL, WEST_MIDLANDS


def numbers(*texts: str) -> list[Decimal]:
    return [Decimal(text) for text in texts]


@pytest.mark.parametrize(
    ("values", "decimals", "median"),
    [
        (numbers("21.0", "17.2", "25.3"), 1, Decimal("21.0")),  # odd: the middle one
        # Even: the mean of the middle two, 22.65, rounded half up (half to even gives 22.6).
        (numbers("22.6", "22.7"), 1, Decimal("22.7")),
        # Sandwell's neighbours' second or subsequent child protection plans, 2025.
        (
            numbers("22.9", "24.9", "28.4", "24.5", "20.1", "27.2", "26.2", "27.3", "31.5", "23.6"),
            1,
            Decimal("25.6"),
        ),
        (numbers("67", "69"), 0, Decimal("68")),
        (numbers("66", "69"), 0, Decimal("68")),  # 67.5, half up
        ([], 1, None),
    ],
)
def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two_rounded_half_up(
    values: list[Decimal], decimals: int, median: Decimal | None
) -> None:
    assert neighbour_median(values, decimals) == median


def test_the_index_finds_an_las_figure_by_its_number_with_england_and_its_region() -> None:
    publication = given(
        fact(Publication.Imported, **{**FIRST, "figures": (SANDWELL, ENGLAND, WEST_MIDLANDS)}),
        actor=ADMIN,
    )

    figures = PublishedFigures([publication])

    sandwell = figures.local_authority("rereferrals_12m", 2025, "333")
    assert sandwell is not None
    assert sandwell.figure == SANDWELL
    assert (sandwell.file, sandwell.sha256) == (FIRST["file"], FIRST["sha256"])
    assert sandwell.discrepancy is None
    england = figures.england("rereferrals_12m", 2025)
    assert england is not None
    assert england.figure.level is Level.NATIONAL
    assert figures.region_of("333") == "E12000005"
    region = figures.region("rereferrals_12m", 2025, "E12000005")
    assert region is not None
    assert region.discrepancy == FIRST["discrepancies"][0]
    assert figures.name_of("E12000005") == "West Midlands"
    assert figures.years("rereferrals_12m") == {2025}
    assert figures.local_authority("rereferrals_12m", 2024, "333") is None
    assert figures.local_authority("rereferrals_12m", 2025, "857") is None
    assert len(figures) == 3
