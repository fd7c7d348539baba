"""Financial years run from 1 April to 31 March; the edges are where mistakes hide."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidPeriod
from domain.periods import FinancialYear, add_months


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2018, 3, 31), "2017-18"),
        (date(2018, 4, 1), "2018-19"),
        (date(2018, 12, 31), "2018-19"),
        (date(2019, 1, 1), "2018-19"),
        (date(2019, 3, 31), "2018-19"),
        (date(1999, 4, 1), "1999-00"),
    ],
)
def test_a_day_belongs_to_the_financial_year_that_started_on_the_last_1_april(
    day: date, label: str
) -> None:
    assert FinancialYear.containing(day).label == label


def test_a_financial_year_runs_from_1_april_to_31_march() -> None:
    year = FinancialYear.parse("2018-19")
    assert (year.starts, year.ends) == (date(2018, 4, 1), date(2019, 3, 31))


@pytest.mark.parametrize("label", ["2018-19", "1999-00", "2099-00"])
def test_a_label_reads_back_as_written(label: str) -> None:
    assert FinancialYear.parse(label).label == label


@pytest.mark.parametrize(
    "label",
    [
        "2018/19",
        "2018-20",
        "18-19",
        "2018-2019",
        "2018-19 ",
        "\uff12\uff10\uff11\uff18-19",
        "0999-00",
        "",
    ],
)
def test_a_label_that_is_not_a_financial_year_is_refused(label: str) -> None:
    with pytest.raises(InvalidPeriod):
        FinancialYear.parse(label)


def test_financial_years_are_ordered_by_the_year_they_start() -> None:
    labels = ["2020-21", "2018-19", "2019-20"]
    ordered = sorted(FinancialYear.parse(label) for label in labels)
    assert [year.label for year in ordered] == ["2018-19", "2019-20", "2020-21"]


def test_a_term_spans_every_financial_year_it_touches() -> None:
    years = FinancialYear.spanning(date(2018, 10, 1), date(2020, 4, 1))
    assert [year.label for year in years] == ["2018-19", "2019-20", "2020-21"]


@pytest.mark.parametrize(
    ("starts", "ends", "overlaps"),
    [
        (date(2017, 4, 1), date(2018, 3, 31), False),
        (date(2017, 4, 1), date(2018, 4, 1), True),
        (date(2019, 3, 31), date(2020, 3, 31), True),
        (date(2019, 4, 1), date(2020, 3, 31), False),
    ],
)
def test_a_year_overlaps_a_range_sharing_at_least_one_day(
    starts: date, ends: date, overlaps: bool
) -> None:
    assert FinancialYear.parse("2018-19").overlaps(starts, ends) is overlaps


@pytest.mark.parametrize(
    ("period", "ends"),
    [
        ("Q1", date(2019, 6, 30)),
        ("Q2", date(2019, 9, 30)),
        ("Q3", date(2019, 12, 31)),
        ("Q4", date(2020, 3, 31)),
        ("M1", date(2019, 4, 30)),
        ("M9", date(2019, 12, 31)),
        ("M11", date(2020, 2, 29)),
        ("M12", date(2020, 3, 31)),
    ],
)
def test_quarters_and_months_count_from_april(period: str, ends: date) -> None:
    assert FinancialYear.parse("2019-20").period_ends(period) == ends


@pytest.mark.parametrize("period", ["Q0", "Q5", "M0", "M13", "q1", "September", "P6", ""])
def test_a_period_that_is_not_a_quarter_or_month_of_the_year_is_refused(period: str) -> None:
    with pytest.raises(InvalidPeriod):
        FinancialYear.parse("2019-20").period_ends(period)


@pytest.mark.parametrize(
    ("day", "months", "later"),
    [
        (date(2028, 4, 1), 24, date(2030, 4, 1)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),
    ],
)
def test_adding_months_keeps_the_day_or_falls_back_to_the_months_last(
    day: date, months: int, later: date
) -> None:
    assert add_months(day, months) == later
