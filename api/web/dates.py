"""GOV.UK date inputs, read the one way for every page, and the instants a day stands for in UK
time.

A day typed by a person is read as the whole of that day in England: "as at 31 March 2022" is
the ledger at the end of it (23:59:59.999999, UK time), and "changes from 1 March" starts at its
first moment. The page then names the exact instant it shows, so nobody has to guess which
moment of the day was meant (the API, which has no page to say so, refuses a date alone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from api.deps import today
from api.web.formats import UK, sentence

PARTS = ("day", "month", "year")

# GOV.UK's date pattern asks services to accept a month's name as well as its number.
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}


@dataclass(frozen=True)
class DateInput:
    """One GOV.UK date input as submitted: the fields as typed (shown back to the reader), the
    date they make, or the message saying what is wrong and which fields to mark."""

    name: str  # the fields are NAME-day, NAME-month and NAME-year
    day: str = ""
    month: str = ""
    year: str = ""
    value: date | None = None
    error: str | None = None
    wrong: frozenset[str] = field(default_factory=frozenset)

    @property
    def blank(self) -> bool:
        return not (self.day or self.month or self.year)

    @property
    def first_wrong(self) -> str:
        """The field the error summary's link takes the reader to."""
        return f"{self.name}-{next(p for p in PARTS if p in self.wrong)}"

    def refused(self, error: str) -> DateInput:
        """The same input, refused for a reason found beyond its fields (a day before the
        contract existed, say)."""
        return DateInput(self.name, self.day, self.month, self.year, None, error, frozenset(PARTS))

    def summary(self) -> list[dict[str, str]]:
        """Its entry in the page's error summary, if it is in error."""
        return [] if self.error is None else [{"field": self.first_wrong, "text": self.error}]

    def query(self) -> dict[str, str]:
        """The fields as a query string names them, for links that keep the reader's dates."""
        return {f"{self.name}-{part}": getattr(self, part) for part in PARTS}

    @classmethod
    def shown(cls, values: Mapping[str, Any], name: str) -> DateInput:
        """The input NAME of a form's `values` to show: as read (with its error) once the form
        was sent, else the fields as the page filled them in (or blank)."""
        found = values.get(name)
        if isinstance(found, DateInput):
            return found
        day, month, year = (str(values.get(f"{name}-{part}", "")) for part in PARTS)
        return cls(name, day, month, year)


def read_date(typed_in: Mapping[str, Any], name: str, what: str, *, past_only: bool) -> DateInput:
    """The date a person typed into the date input NAME of a query or form; `what` names it in
    messages, as GOV.UK words them ("Enter the date", "The date must include a month").

    `past_only` refuses a day after today: right for "as at" and "changes to", which cannot show
    what has not happened, wrong for a date something is due. Blank is not an error here: a page
    decides whether it needs the date."""
    typed = {part: _text(typed_in.get(f"{name}-{part}")) for part in PARTS}
    entered = DateInput(name, typed["day"], typed["month"], typed["year"])
    if entered.blank:
        return entered
    missing = [part for part in PARTS if not typed[part]]
    if missing:
        return _wrong(entered, f"{sentence(what)} must include a {' and '.join(missing)}", missing)
    day_text, month_text, year_text = typed["day"], typed["month"].lower(), typed["year"]
    month = _MONTHS.get(month_text) or (int(month_text) if month_text.isdigit() else None)
    if not day_text.isdigit() or month is None:
        wrong = [p for p, ok in (("day", day_text.isdigit()), ("month", month)) if not ok]
        return _wrong(entered, f"{sentence(what)} must be a real date", wrong)
    if not (year_text.isdigit() and len(year_text) == 4):
        return _wrong(entered, "Year must include 4 numbers", ["year"])
    try:
        value = date(int(year_text), month, int(day_text))
    except ValueError:
        return _wrong(entered, f"{sentence(what)} must be a real date", list(PARTS))
    if past_only and value > today():
        return _wrong(entered, f"{sentence(what)} must be today or in the past", list(PARTS))
    return DateInput(name, entered.day, entered.month, entered.year, value)


def end_of(day: date) -> datetime:
    """The last instant of a day in England."""
    return datetime.combine(day, time.max, UK)


def start_of(day: date) -> datetime:
    """The last instant before a day begins in England: the ledger up to it holds everything
    recorded before the day."""
    return datetime.combine(day, time.min, UK) - timedelta(microseconds=1)


def _wrong(entered: DateInput, error: str, parts: list[str]) -> DateInput:
    return DateInput(
        entered.name, entered.day, entered.month, entered.year, None, error, frozenset(parts)
    )


def _text(value: object) -> str:
    return value.strip()[:20] if isinstance(value, str) else ""
