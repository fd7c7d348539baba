"""Reporting periods tile the financial year, and returns fall due in England's working days."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from importlib import resources
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidCommand, InvalidDate, InvalidDeadline, InvalidPeriod
from domain.periods import FinancialYear
from domain.reporting import (
    Frequency,
    ReportingPeriod,
    WorkingDays,
    due_date,
    england,
    reporting_periods,
    statutory_bank_holidays,
)
from tests.domain.transcoded import transcoded

MONTHLY, QUARTERLY, ANNUAL = Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.ANNUAL


def published_bank_holidays() -> set[date]:
    text = (resources.files("domain") / "data" / "england_bank_holidays_2022_2027.csv").read_text()
    return {date.fromisoformat(row["date"]) for row in csv.DictReader(text.splitlines())}


# -- periods --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "starts", "ends", "frequency"),
    [
        ("2024-25", date(2024, 4, 1), date(2025, 3, 31), ANNUAL),
        ("2024-25 Q1", date(2024, 4, 1), date(2024, 6, 30), QUARTERLY),
        ("2024-25 Q2", date(2024, 7, 1), date(2024, 9, 30), QUARTERLY),
        ("2024-25 Q3", date(2024, 10, 1), date(2024, 12, 31), QUARTERLY),
        ("2024-25 Q4", date(2025, 1, 1), date(2025, 3, 31), QUARTERLY),
        ("2024-04", date(2024, 4, 1), date(2024, 4, 30), MONTHLY),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), MONTHLY),
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28), MONTHLY),
        ("2025-03", date(2025, 3, 1), date(2025, 3, 31), MONTHLY),
        ("2012-13", date(2012, 4, 1), date(2013, 3, 31), ANNUAL),
        ("2012-04", date(2012, 4, 1), date(2012, 4, 30), MONTHLY),
        ("2098-99 Q4", date(2099, 1, 1), date(2099, 3, 31), QUARTERLY),
        ("2099-03", date(2099, 3, 1), date(2099, 3, 31), MONTHLY),
    ],
)
def test_a_label_names_one_period_and_reads_back_as_written(
    label: str, starts: date, ends: date, frequency: Frequency
) -> None:
    period = ReportingPeriod.parse(label)
    assert period == ReportingPeriod(starts, ends, frequency)
    assert period.label == label


@pytest.mark.parametrize(
    "label",
    [
        "",
        "2024/25",
        "2024-26",
        "2024-25 Q0",
        "2024-25 Q5",
        "2024-25 q1",
        "2024-25Q1",
        "Q1 2024-25",
        "2024-4",
        "2024-13",
        "2024-00",
        "2024-04 ",
        "\uff12\uff10\uff12\uff14-04",
        "0000-04",
        "2011-12",  # December 2011 and the year 2011-12: before reporting began, and ambiguous
        "2005-06",
        "2011-12 Q4",
        "2012-03",
        "2099-04",
        "2099-00",
    ],
)
def test_a_label_that_is_not_a_reporting_period_is_refused(label: str) -> None:
    with pytest.raises(InvalidPeriod):
        ReportingPeriod.parse(label)
    assert issubclass(InvalidPeriod, InvalidCommand)


@pytest.mark.parametrize(
    ("starts", "ends", "frequency"),
    [
        (date(2024, 4, 2), date(2024, 4, 30), MONTHLY),
        (date(2024, 4, 1), date(2024, 5, 31), MONTHLY),
        (date(2024, 5, 1), date(2024, 7, 31), QUARTERLY),
        (date(2024, 1, 1), date(2024, 12, 31), ANNUAL),
        (date(2024, 4, 1), date(2024, 6, 30), ANNUAL),
        (date(2012, 1, 1), date(2012, 3, 31), QUARTERLY),
        (date(2099, 4, 1), date(2099, 4, 30), MONTHLY),
    ],
)
def test_a_period_is_a_whole_month_quarter_or_financial_year_in_range(
    starts: date, ends: date, frequency: Frequency
) -> None:
    with pytest.raises(InvalidPeriod):
        ReportingPeriod(starts, ends, frequency)


@pytest.mark.parametrize(
    ("day", "frequency", "label"),
    [
        (date(2025, 3, 31), ANNUAL, "2024-25"),
        (date(2025, 4, 1), ANNUAL, "2025-26"),
        (date(2024, 6, 30), QUARTERLY, "2024-25 Q1"),
        (date(2024, 7, 1), QUARTERLY, "2024-25 Q2"),
        (date(2024, 12, 31), QUARTERLY, "2024-25 Q3"),
        (date(2025, 1, 1), QUARTERLY, "2024-25 Q4"),
        (date(2025, 3, 31), QUARTERLY, "2024-25 Q4"),
        (date(2024, 12, 31), MONTHLY, "2024-12"),
    ],
)
def test_a_day_lies_in_one_period_of_each_frequency(
    day: date, frequency: Frequency, label: str
) -> None:
    assert ReportingPeriod.containing(frequency, day).label == label


@pytest.mark.parametrize(
    ("label", "year"),
    [
        ("2024-25", "2024-25"),
        ("2024-25 Q4", "2024-25"),
        ("2025-03", "2024-25"),
        ("2025-04", "2025-26"),
    ],
)
def test_a_period_belongs_to_its_financial_year(label: str, year: str) -> None:
    assert ReportingPeriod.parse(label).financial_year == FinancialYear.parse(year)


def test_periods_are_ordered_by_when_they_start() -> None:
    labels = ["2025-26 Q1", "2024-25 Q4", "2024-25 Q1"]
    ordered = sorted(ReportingPeriod.parse(label) for label in labels)
    assert [period.label for period in ordered] == ["2024-25 Q1", "2024-25 Q4", "2025-26 Q1"]


@pytest.mark.parametrize(
    ("frequency", "starts", "ends", "labels"),
    [
        (QUARTERLY, date(2018, 4, 1), date(2019, 3, 31),
         ["2018-19 Q1", "2018-19 Q2", "2018-19 Q3", "2018-19 Q4"]),
        (QUARTERLY, date(2018, 4, 2), date(2019, 3, 30), ["2018-19 Q2", "2018-19 Q3"]),
        (ANNUAL, date(2018, 4, 1), date(2028, 3, 31),
         [f"{year}-{(year + 1) % 100:02d}" for year in range(2018, 2028)]),
        (ANNUAL, date(2018, 5, 1), date(2020, 3, 31), ["2019-20"]),
        (MONTHLY, date(2024, 12, 15), date(2025, 3, 31), ["2025-01", "2025-02", "2025-03"]),
        (MONTHLY, date(2024, 4, 1), date(2024, 4, 30), ["2024-04"]),
        (MONTHLY, date(2024, 4, 1), date(2024, 4, 29), []),
        (QUARTERLY, date(2024, 4, 1), date(2024, 4, 1), []),
    ],
)  # fmt: skip
def test_a_range_holds_every_whole_period_within_it(
    frequency: Frequency, starts: date, ends: date, labels: list[str]
) -> None:
    assert [period.label for period in reporting_periods(frequency, starts, ends)] == labels


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidPeriod):
        reporting_periods(QUARTERLY, date(2024, 4, 1), date(2024, 3, 31))


def test_a_ten_year_contract_has_forty_quarters() -> None:
    quarters = reporting_periods(QUARTERLY, date(2018, 4, 1), date(2028, 3, 31))
    assert len(quarters) == 40
    assert all(
        later.starts == earlier.ends + timedelta(days=1) for earlier, later in pairwise(quarters)
    )


@pytest.mark.parametrize("label", ["2024-25", "2024-25 Q3", "2024-02"])
def test_a_period_is_stored_and_read_back_exactly(label: str) -> None:
    period = ReportingPeriod.parse(label)
    restored = transcoded(period)
    assert restored == period
    assert isinstance(restored.frequency, Frequency)


# -- bank holidays --------------------------------------------------------------------------------

# The published file's one-off changes: the Platinum Jubilee (spring holiday moved from Monday 30
# May to Thursday 2 June, and Friday 3 June added), the Queen's state funeral, the coronation.
ONE_OFFS_ADDED = {date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19), date(2023, 5, 8)}
ONE_OFFS_REMOVED = {date(2022, 5, 30)}


@pytest.mark.parametrize("year", range(2022, 2028))
def test_the_statutory_rules_reproduce_the_published_holidays_but_for_one_offs(year: int) -> None:
    published = {day for day in published_bank_holidays() if day.year == year}
    expected = (published - ONE_OFFS_ADDED) | {d for d in ONE_OFFS_REMOVED if d.year == year}
    assert statutory_bank_holidays(year) == expected


def test_the_published_file_is_authoritative_for_the_years_it_covers() -> None:
    published = published_bank_holidays()
    assert {day for day in england().holidays if 2022 <= day.year <= 2027} == published
    assert england().is_working_day(date(2022, 5, 30))
    assert not england().is_working_day(date(2022, 9, 19))


@pytest.mark.parametrize(
    ("year", "holidays"),
    [
        # gov.uk's published lists for the years before the file begins.
        (2012, ["01-02", "04-06", "04-09", "05-07", "06-04", "06-05", "08-27", "12-25", "12-26"]),
        (2018, ["01-01", "03-30", "04-02", "05-07", "05-28", "08-27", "12-25", "12-26"]),
        (2019, ["01-01", "04-19", "04-22", "05-06", "05-27", "08-26", "12-25", "12-26"]),
        (2020, ["01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28"]),
        (2021, ["01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28"]),
    ],
)
def test_before_the_file_the_rules_and_known_proclamations_give_englands_holidays(
    year: int, holidays: list[str]
) -> None:
    expected = {date.fromisoformat(f"{year}-{month_day}") for month_day in holidays}
    assert {day for day in england().holidays if day.year == year} == expected


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2020, 5, 4), True),  # the early May Monday, moved in 2020
        (date(2020, 5, 8), False),  # to VE Day
        (date(2012, 5, 28), True),  # the spring Monday, moved in 2012
        (date(2012, 6, 5), False),  # for the Diamond Jubilee
        (date(2024, 3, 29), False),  # Good Friday
        (date(2024, 4, 1), False),  # Easter Monday
        (date(2024, 4, 2), True),
        (date(2024, 3, 30), False),  # Saturday
        (date(2024, 3, 31), False),  # Sunday
    ],
)
def test_a_working_day_is_a_weekday_that_is_not_a_bank_holiday(day: date, working: bool) -> None:
    assert england().is_working_day(day) is working


@pytest.mark.parametrize(
    ("year", "christmas", "boxing_day"),
    [
        (2021, date(2021, 12, 27), date(2021, 12, 28)),  # Saturday and Sunday
        (2022, date(2022, 12, 27), date(2022, 12, 26)),  # Sunday and Monday
        (2026, date(2026, 12, 25), date(2026, 12, 28)),  # Friday and Saturday
        (2030, date(2030, 12, 25), date(2030, 12, 26)),  # Wednesday and Thursday
    ],
)
def test_christmas_and_boxing_day_at_a_weekend_move_to_the_next_free_weekdays(
    year: int, christmas: date, boxing_day: date
) -> None:
    assert {christmas, boxing_day} <= statutory_bank_holidays(year)


@pytest.mark.parametrize(
    ("year", "good_friday"),
    [(2019, date(2019, 4, 19)), (2025, date(2025, 4, 18)), (2038, date(2038, 4, 23)),
     (2035, date(2035, 3, 23)), (2008, date(2008, 3, 21)), (2011, date(2011, 4, 22))],
)  # fmt: skip
def test_easter_moves_good_friday_and_easter_monday_together(year: int, good_friday: date) -> None:
    holidays = statutory_bank_holidays(year)
    assert {good_friday, good_friday + timedelta(days=3)} <= holidays


def test_every_year_has_eight_holidays_by_the_rules() -> None:
    assert all(len(statutory_bank_holidays(year)) == 8 for year in range(2012, 2100))


# -- working days and due dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "working_days_after", "due"),
    [
        # 2023-24 Q4 ends on Sunday 31 March 2024, between Good Friday and Easter Monday.
        ("2023-24 Q4", 10, date(2024, 4, 15)),
        ("2023-24 Q4", 1, date(2024, 4, 2)),
        ("2023-24 Q4", 0, date(2024, 4, 2)),
        # 2024-25 Q4 ends on Monday 31 March 2025, a working day; Easter came later.
        ("2024-25 Q4", 0, date(2025, 3, 31)),
        ("2024-25 Q4", 10, date(2025, 4, 14)),
        ("2024-25 Q4", 15, date(2025, 4, 23)),  # over Good Friday 18 and Easter Monday 21 April
        # December 2024 ends on Tuesday 31 December; New Year's Day is a holiday.
        ("2024-12", 5, date(2025, 1, 8)),
        # November 2026 ends on a Monday; Christmas falls on a Friday and Boxing Day's
        # substitute is Monday 28 December.
        ("2026-11", 20, date(2026, 12, 30)),
        ("2024-25", 20, date(2025, 4, 30)),
        # 2019-20 Q4: the moved early May holiday (Friday 8 May 2020) is skipped.
        ("2019-20 Q4", 25, date(2020, 5, 7)),
        ("2019-20 Q4", 26, date(2020, 5, 11)),
    ],
)
def test_a_return_falls_due_the_given_working_days_after_its_period_ends(
    label: str, working_days_after: int, due: date
) -> None:
    assert due_date(ReportingPeriod.parse(label), working_days_after, england()) == due


def test_a_deadline_of_negative_working_days_is_refused() -> None:
    with pytest.raises(InvalidDeadline):
        due_date(ReportingPeriod.parse("2024-25 Q1"), -1, england())
    assert issubclass(InvalidDeadline, InvalidCommand)


@pytest.mark.parametrize(
    ("start", "end", "working_days"),
    [
        (date(2025, 4, 14), date(2025, 4, 14), 0),
        (date(2025, 4, 14), date(2025, 4, 15), 1),
        (date(2025, 4, 17), date(2025, 4, 22), 1),  # Good Friday, the weekend, Easter Monday
        (date(2025, 4, 19), date(2025, 4, 21), 0),
        (date(2024, 12, 20), date(2025, 1, 3), 7),
        # A referral on 1 April 2025 and its assessment on the 45th working day.
        (date(2025, 4, 1), date(2025, 6, 9), 45),
    ],
)
def test_working_days_between_count_after_the_start_up_to_the_end(
    start: date, end: date, working_days: int
) -> None:
    assert england().between(start, end) == working_days


def test_an_end_before_its_start_is_refused() -> None:
    with pytest.raises(InvalidDate):
        england().between(date(2025, 4, 2), date(2025, 4, 1))


def test_a_calendar_without_holidays_closes_only_at_weekends() -> None:
    weekdays = WorkingDays(frozenset())
    assert weekdays.add(date(2024, 12, 24), 1) == date(2024, 12, 25)
    assert weekdays.add(date(2024, 12, 27), 1) == date(2024, 12, 30)


days = st.dates(min_value=date(2012, 1, 1), max_value=date(2098, 12, 31))
working_day_counts = st.integers(min_value=0, max_value=300)


@settings(max_examples=300, deadline=None)
@given(day=days, n=working_day_counts)
def test_adding_working_days_always_lands_on_a_working_day(day: date, n: int) -> None:
    assert england().is_working_day(england().add(day, n))


@settings(max_examples=300, deadline=None)
@given(day=days, n=working_day_counts)
def test_between_counts_back_the_working_days_added_to_a_working_day(day: date, n: int) -> None:
    calendar = england()
    start = calendar.add(day, 0)
    assert calendar.between(start, calendar.add(start, n)) == n


@settings(max_examples=300, deadline=None)
@given(day=days, n=st.integers(min_value=1, max_value=300))
def test_each_further_working_day_is_later(day: date, n: int) -> None:
    calendar = england()
    assert day < calendar.add(day, n) < calendar.add(day, n + 1)


@pytest.mark.parametrize("closed", [date(2024, 3, 29), date(2024, 3, 30), date(2024, 4, 1)])
def test_no_working_days_after_a_closed_day_is_the_next_working_day(closed: date) -> None:
    assert england().add(closed, 0) == england().add(closed, 1) == date(2024, 4, 2)
