"""Financial years and the periods within them.

A council's budget, the contract sums it pays its trust and the trust's finance reports all run
from 1 April to 31 March, labelled "2018-19". KPI quarters share these edges, so this module is
the one place that knows where a year, a quarter or a budget-monitoring month begins and ends.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from domain.errors import InvalidPeriod

_APRIL = 4

# Four-digit years from 1900 to 2099 keep every derived date inside what `date` can hold.
_LABEL = re.compile(r"((?:19|20)[0-9]{2})-([0-9]{2})")

# Council budget monitoring counts months from April ("M1") and quarters from April ("Q1").
_QUARTER = re.compile(r"Q([1-4])")
_MONTH = re.compile(r"M([1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class FinancialYear:
    """1 April to 31 March, named by the calendar year it starts in."""

    first_year: int

    @classmethod
    def parse(cls, label: str) -> FinancialYear:
        """Read a label such as "2018-19"; the second part must be the year after the first."""
        match = _LABEL.fullmatch(label)
        if match is None or int(match[2]) != (int(match[1]) + 1) % 100:
            raise InvalidPeriod(f"{label!r} is not a financial year: write it as 2018-19")
        return cls(int(match[1]))

    @classmethod
    def containing(cls, day: date) -> FinancialYear:
        return cls(day.year if day.month >= _APRIL else day.year - 1)

    @classmethod
    def spanning(cls, starts: date, ends: date) -> tuple[FinancialYear, ...]:
        """Every financial year with at least one day between `starts` and `ends` inclusive."""
        first, last = cls.containing(starts), cls.containing(ends)
        return tuple(cls(year) for year in range(first.first_year, last.first_year + 1))

    @property
    def label(self) -> str:
        return f"{self.first_year}-{(self.first_year + 1) % 100:02d}"

    @property
    def starts(self) -> date:
        return date(self.first_year, _APRIL, 1)

    @property
    def ends(self) -> date:
        return date(self.first_year + 1, _APRIL - 1, 31)

    def overlaps(self, starts: date, ends: date) -> bool:
        return self.starts <= ends and starts <= self.ends

    def period_ends(self, period: str) -> date:
        """The last day of a reporting period: "Q1" to "Q4", or "M1" (April) to "M12" (March)."""
        if quarter := _QUARTER.fullmatch(period):
            return self._month_ends(3 * int(quarter[1]))
        if month := _MONTH.fullmatch(period):
            return self._month_ends(int(month[1]))
        raise InvalidPeriod(
            f"{period!r} is not a reporting period of {self.label}: use Q1 to Q4, or M1 to M12"
        )

    def _month_ends(self, month_of_year: int) -> date:
        calendar_month = (_APRIL - 1 + month_of_year - 1) % 12 + 1
        year = self.first_year if calendar_month >= _APRIL else self.first_year + 1
        return date(year, calendar_month, calendar.monthrange(year, calendar_month)[1])


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where that day does not exist."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
