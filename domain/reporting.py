"""Reporting periods, and the working days in which their returns fall due.

KPI returns cover a month, a quarter or a year of the council's financial year (Q1 is April to
June), and contracts set their deadlines in working days after a period ends. Working days are
England's: Monday to Friday, less England and Wales bank holidays.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache, cached_property, lru_cache
from importlib import resources
from types import MappingProxyType

from domain.errors import InvalidDate, InvalidDeadline, InvalidPeriod
from domain.periods import FinancialYear, add_months

_ONE_DAY = timedelta(days=1)

# Before April 2012 a month's label ("2011-12", December 2011) is also a financial year's label
# ("2011-12"), and four-digit labels stop at 2099. Between the two every label names exactly one
# period. DfE's series begin with the year to 31 March 2013 and the first children's trust with
# 2014, so nothing earlier is reported.
_FIRST_DAY = date(2012, 4, 1)
_LAST_DAY = date(2099, 3, 31)

_QUARTER_LABEL = re.compile(r"([0-9]{4}-[0-9]{2}) Q([1-4])")
_MONTH_LABEL = re.compile(r"((?:19|20)[0-9]{2})-(0[1-9]|1[0-2])")


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


_MONTHS: Mapping[Frequency, int] = MappingProxyType(
    {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.ANNUAL: 12}
)


def _first_day(frequency: Frequency, day: date) -> date:
    """The first day of the period of `frequency` containing `day`; periods tile the financial
    year from 1 April."""
    year_starts = FinancialYear.containing(day).starts
    months_in = (day.month - year_starts.month) % 12
    return add_months(year_starts, months_in - months_in % _MONTHS[frequency])


def _last_day(frequency: Frequency, first_day: date) -> date:
    return add_months(first_day, _MONTHS[frequency]) - _ONE_DAY


@dataclass(frozen=True, order=True)
class ReportingPeriod:
    """A month, a financial quarter or a financial year, from its first day to its last."""

    starts: date
    ends: date
    frequency: Frequency

    def __post_init__(self) -> None:
        first = _first_day(self.frequency, self.starts)
        if (self.starts, self.ends) != (first, _last_day(self.frequency, first)):
            raise InvalidPeriod(
                f"{self.starts} to {self.ends} is not a {self.frequency} reporting period"
            )
        if not _FIRST_DAY <= self.starts <= self.ends <= _LAST_DAY:
            raise InvalidPeriod(
                f"reporting periods run from {_FIRST_DAY} to {_LAST_DAY}, "
                f"not {self.starts} to {self.ends}"
            )

    @classmethod
    def containing(cls, frequency: Frequency, day: date) -> ReportingPeriod:
        first = _first_day(frequency, day)
        return cls(first, _last_day(frequency, first), frequency)

    @classmethod
    def parse(cls, label: str) -> ReportingPeriod:
        """Read "2024-25" (a year), "2024-25 Q1" (April to June 2024) or "2024-04" (a month)."""
        return _parsed(label)

    @classmethod
    def _parse(cls, label: str) -> ReportingPeriod:
        try:
            if quarter := _QUARTER_LABEL.fullmatch(label):
                year_starts = FinancialYear.parse(quarter[1]).starts
                quarter_starts = add_months(year_starts, 3 * (int(quarter[2]) - 1))
                return cls.containing(Frequency.QUARTERLY, quarter_starts)
            if month := _MONTH_LABEL.fullmatch(label):
                return cls.containing(Frequency.MONTHLY, date(int(month[1]), int(month[2]), 1))
            return cls.containing(Frequency.ANNUAL, FinancialYear.parse(label).starts)
        except InvalidPeriod:
            raise InvalidPeriod(
                f"{label!r} is not a reporting period between April 2012 and March 2099: "
                "write a year as 2024-25, a quarter as 2024-25 Q1 or a month as 2024-04"
            ) from None

    @property
    def financial_year(self) -> FinancialYear:
        return FinancialYear.containing(self.starts)

    # Asked for each period of each KPI on every dashboard drawn; a frozen instance's label never
    # changes, so it is worked out once (kept in the instance's __dict__, not a field: equality,
    # hashing and the stored events' fields are untouched).
    @cached_property
    def label(self) -> str:
        if self.frequency is Frequency.ANNUAL:
            return self.financial_year.label
        if self.frequency is Frequency.QUARTERLY:
            months_in = (self.starts.month - self.financial_year.starts.month) % 12
            return f"{self.financial_year.label} Q{months_in // 3 + 1}"
        return f"{self.starts:%Y-%m}"


# Period and due-date arithmetic is pure, and a dashboard repeats it for every period of every
# KPI of a contract's term: on the national dataset a contract's rows made 14,400 periods and
# 40,880 month additions, a third of drawing them. The arguments are few (a contract's terms,
# its KPIs' frequencies and deadlines), so the answers are kept, to a bound.
_MEMO = 4096


@lru_cache(maxsize=_MEMO)
def _parsed(label: str) -> ReportingPeriod:
    return ReportingPeriod._parse(label)


def reporting_periods(frequency: Frequency, starts: date, ends: date) -> list[ReportingPeriod]:
    """Every whole period of `frequency` from `starts` to `ends` inclusive, in order; a period
    the range only partly covers is left out."""
    return list(_periods(frequency, starts, ends))


@lru_cache(maxsize=_MEMO)
def _periods(frequency: Frequency, starts: date, ends: date) -> tuple[ReportingPeriod, ...]:
    if ends < starts:
        raise InvalidPeriod(f"a range cannot end ({ends}) before it starts ({starts})")
    first = _first_day(frequency, starts)
    if first < starts:
        first = _last_day(frequency, first) + _ONE_DAY
    periods = []
    while (last := _last_day(frequency, first)) <= ends:
        periods.append(ReportingPeriod(first, last, frequency))
        first = last + _ONE_DAY
    return tuple(periods)


@dataclass(frozen=True)
class WorkingDays:
    """A calendar of working days: Monday to Friday, less the holidays it holds."""

    holidays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add(self, day: date, n: int) -> date:
        """The n-th working day after `day`. For n = 0, `day` itself if it is a working day,
        else the next one: nothing falls due on a day the office is shut."""
        if n < 0:
            raise InvalidDeadline(f"a deadline is counted in working days after, not {n}")
        if n == 0 and self.is_working_day(day):
            return day
        for _ in range(max(n, 1)):
            day = self._next_working_day(day)
        return day

    def between(self, start: date, end: date) -> int:
        """Working days after `start`, up to and including `end`: how DfE counts an assessment
        completed on `end` for a referral received on `start`."""
        if end < start:
            raise InvalidDate(f"{end} is before {start}")
        return sum(
            self.is_working_day(start + timedelta(days=offset))
            for offset in range(1, (end - start).days + 1)
        )

    def _next_working_day(self, day: date) -> date:
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day


@lru_cache(maxsize=_MEMO)
def due_date(period: ReportingPeriod, working_days_after: int, calendar: WorkingDays) -> date:
    """When a period's return falls due, e.g. 10 working days after the period ends."""
    return calendar.add(period.ends, working_days_after)


# -- England and Wales bank holidays ------------------------------------------------------------

_PUBLISHED = "england_bank_holidays_2022_2027.csv"

# The years the rules fill in where the published file says nothing: every year a reporting
# period can touch, with its due dates.
_RULE_YEARS = range(_FIRST_DAY.year, _LAST_DAY.year + 1)

# Royal proclamations that changed a year's holidays before the published file begins. The file
# already holds later ones (2022's jubilee and state funeral, 2023's coronation).
_MOVED: Mapping[date, date] = MappingProxyType(
    {
        date(2012, 5, 28): date(2012, 6, 4),  # spring holiday, moved for the Diamond Jubilee
        date(2020, 5, 4): date(2020, 5, 8),  # early May holiday, moved to VE Day's 75th
    }
)
_EXTRA = frozenset({date(2012, 6, 5)})  # the Diamond Jubilee


@cache
def england() -> WorkingDays:
    """England's working days. The published file is authoritative for the years it covers;
    the statutory rules and known proclamations fill in 2012 to 2099 around it. Outside those
    years only weekends are closed."""
    published = _published_bank_holidays()
    covered = {day.year for day in published}
    by_rule = (
        _MOVED.get(day, day)
        for year in _RULE_YEARS
        if year not in covered
        for day in statutory_bank_holidays(year)
    )
    extra = (day for day in _EXTRA if day.year not in covered)
    return WorkingDays(published | frozenset(by_rule) | frozenset(extra))


def statutory_bank_holidays(year: int) -> frozenset[date]:
    """A year's England and Wales bank holidays by the standing rules alone, without one-off
    proclamations. Good Friday and Christmas Day are common-law holidays; Easter Monday, the last
    Mondays of May and August and Boxing Day are in Schedule 1 of the Banking and Financial
    Dealings Act 1971; New Year's Day and the first Monday of May are proclaimed each year. A
    fixed-date holiday on a weekend is replaced by the next weekday not already a holiday."""
    easter = _easter_sunday(year)
    holidays = {
        easter - 2 * _ONE_DAY,
        easter + _ONE_DAY,
        _first_monday(year, 5),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    for fixed in (date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)):
        day = fixed
        while day.weekday() >= 5 or day in holidays:
            day += _ONE_DAY
        holidays.add(day)
    return frozenset(holidays)


def _published_bank_holidays() -> frozenset[date]:
    text = (resources.files("domain") / "data" / _PUBLISHED).read_text(encoding="utf-8-sig")
    return frozenset(date.fromisoformat(row["date"]) for row in csv.DictReader(io.StringIO(text)))


def _easter_sunday(year: int) -> date:
    """Gregorian Easter by the anonymous (Meeus/Jones/Butcher) algorithm: the Sunday after the
    ecclesiastical full moon on or after 21 March."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century - (century + 8) // 25 + 1) // 3
    epact = (19 * golden + century - leap_centuries - moon_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    to_sunday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    late = (golden + 11 * epact + 22 * to_sunday) // 451
    month, day = divmod(epact + to_sunday - 7 * late + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=-first.weekday() % 7)


def _last_monday(year: int, month: int) -> date:
    last = add_months(date(year, month, 1), 1) - _ONE_DAY
    return last - timedelta(days=last.weekday())
