"""Properties of England's working days, over every day a contract can touch (2012 to 2099).

Adding working days lands on a working day, never goes backwards, and is undone by counting
them; the fixed and Easter bank holidays are never working days, whatever the year.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.reporting import _easter_sunday, england, statutory_bank_holidays

EXAMPLES = settings(max_examples=300, deadline=None)

days = st.dates(min_value=date(2012, 1, 1), max_value=date(2098, 12, 31))
counts = st.integers(min_value=0, max_value=60)
years = st.integers(min_value=2012, max_value=2099)


@EXAMPLES
@given(days, counts)
def test_adding_working_days_lands_on_a_working_day_on_or_after_the_start(
    day: date, n: int
) -> None:
    landed = england().add(day, n)

    assert england().is_working_day(landed)
    assert landed >= day
    assert (landed > day) is (n > 0 or not england().is_working_day(day))


@EXAMPLES
@given(days, counts, counts)
def test_more_working_days_never_land_earlier(day: date, n: int, m: int) -> None:
    fewer, more = sorted((n, m))

    assert england().add(day, fewer) <= england().add(day, more)
    if 1 <= fewer < more:
        assert england().add(day, fewer) < england().add(day, more)


@EXAMPLES
@given(days, days, counts)
def test_a_later_start_never_lands_earlier(a: date, b: date, n: int) -> None:
    earlier, later = sorted((a, b))

    assert england().add(earlier, n) <= england().add(later, n)


@EXAMPLES
@given(days, st.integers(min_value=1, max_value=60))
def test_counting_the_working_days_undoes_adding_them(day: date, n: int) -> None:
    landed = england().add(day, n)

    assert england().between(day, landed) == n
    # ...and it is the first day to have that many: the day before has one fewer.
    assert england().between(day, landed - timedelta(days=1)) == n - 1


@EXAMPLES
@given(days, st.integers(min_value=0, max_value=120))
def test_working_days_counted_across_a_span_add_up(day: date, span: int) -> None:
    end = day + timedelta(days=span)
    middle = day + timedelta(days=span // 2)

    assert england().between(day, end) == england().between(day, middle) + england().between(
        middle, end
    )
    assert england().between(day, end) <= span


@EXAMPLES
@given(years)
def test_the_fixed_and_easter_holidays_are_never_working_days(year: int) -> None:
    easter = _easter_sunday(year)
    closed = [
        date(year, 1, 1),
        date(year, 12, 25),
        date(year, 12, 26),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
    ]

    assert [day for day in closed if england().is_working_day(day)] == []
    assert easter.weekday() == 6
    assert date(year, 3, 22) <= easter <= date(year, 4, 25)


@EXAMPLES
@given(years)
def test_the_rules_give_eight_weekday_holidays_every_year(year: int) -> None:
    holidays = statutory_bank_holidays(year)

    assert len(holidays) == 8
    assert all(day.weekday() < 5 and day.year == year for day in holidays)
