"""Reports a commissioner takes to a board: a dashboard or the portfolio as CSV or XLSX.

A `Report` is a title, sections of typed rows and the public sources it draws on; the
dashboard and the portfolio are each turned into one by a small function beside their view,
so this module knows nothing of either. `export_format` picks the representation from
`?format=` or `Accept`, `render` writes the file and `download` answers with it.

What it holds to:
- a text cell that a spreadsheet would run as a formula (one starting with `=`, `+`, `-`,
  `@`, a tab or a carriage return: OWASP's "CSV injection") is written with a leading `'`, in
  CSV and in XLSX alike (DESIGN.md §5). Numbers and dates are never text, so a negative
  number stays a number;
- XLSX strings are written as strings, never as formulas or links, whatever they look like;
- a figure that was not published (DfE's `c`, `x`, `z`, `k`, `u`) is shown as its symbol in
  brackets, as the Government Statistical Service's guidance on symbols in tables writes it,
  and the footer says what each symbol that appears means. It is never a 0 or a blank;
- a report holding public-sector data carries the Open Government Licence attribution and
  names its sources; one that holds none carries no attribution.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Final
from urllib.parse import quote

from starlette.responses import Response
from xlsxwriter import Workbook
from xlsxwriter.format import Format as CellFormat
from xlsxwriter.worksheet import Worksheet

from api.problems import Problem
from api.schemas.published_statistics import ATTRIBUTION
from domain.indicators import Suppression

OGL_V3: Final = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

# `Suppression` comes first: it is a StrEnum, so it is a `str` too, and must not be mistaken
# for text. A bool is an int and a datetime a date to Python; both are refused as cells (a
# bool would be written as 1, and XLSX holds no time zone), and so is a float, whose binary
# fractions would turn a published 22.7 into 22.699999999999999.
Cell = Suppression | str | int | Decimal | date | None


class UnknownExportFormat(Problem):
    """`?format=` names a representation the API does not make."""

    def __init__(self, given: str) -> None:
        super().__init__(
            400,
            "Unknown export format",
            f"format={given!r} is not one of {', '.join(f.value for f in Format)}",
            available=[f.value for f in Format],
        )


class NotAcceptable(Problem):
    """`Accept` admits none of the representations the API makes (RFC 9110 §15.5.7)."""

    def __init__(self, accept: str) -> None:
        super().__init__(
            406,
            "Not acceptable",
            f"Accept: {accept!r} admits none of "
            f"{', '.join(f.media_type for f in _PREFERENCE)}; or ask with ?format=",
            available=[f.media_type for f in _PREFERENCE],
        )


class Format(StrEnum):
    """A representation of a dashboard or the portfolio, named as `?format=` names it."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        """The media type `Accept` asks for."""
        return _MEDIA_TYPES[self]

    @property
    def content_type(self) -> str:
        """The `Content-Type` of a response: CSV says its charset, which RFC 4180 leaves open."""
        return f"{self.media_type}; charset=utf-8" if self is Format.CSV else self.media_type


_MEDIA_TYPES: Final = {
    Format.JSON: "application/json",
    Format.CSV: "text/csv",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# When `Accept` rates two representations alike (`*/*`, or `application/*` for JSON and
# XLSX), the API's own JSON wins, then the smaller file.
_PREFERENCE: Final = (Format.JSON, Format.CSV, Format.XLSX)


@dataclass(frozen=True)
class Column:
    """A column's heading and, for a measure, its unit (`%`, `£`, `per 10,000 children`).

    The unit goes in the heading and the cells hold plain numbers (22.7, not 0.227 shown as a
    percentage), so that the figure in a cell is the figure DfE or the contract gives."""

    heading: str
    unit: str | None = None

    @property
    def label(self) -> str:
        return f"{self.heading} ({self.unit})" if self.unit else self.heading


@dataclass(frozen=True)
class Section:
    """One table of a report: a worksheet in XLSX, a titled block in CSV."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("a section needs a title")
        if not self.columns:
            raise ValueError(f"section {self.title!r} has no columns")
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"section {self.title!r}, row {number}: {len(row)} cells "
                    f"for {len(self.columns)} columns"
                )
            for cell in row:
                _check_cell(cell)


@dataclass(frozen=True)
class Report:
    """What an export holds: a title, its sections, and the public sources they draw on.

    `sources` names each public-sector publication the figures come from (Ofsted's
    inspection outcomes, DfE's statistics); the caller knows which appear, and naming any
    brings in the Open Government Licence attribution."""

    title: str
    sections: tuple[Section, ...]
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("a report needs a title")
        if not self.sections:
            raise ValueError("a report needs at least one section")
        if any(not source.strip() for source in self.sources):
            raise ValueError("a source needs a name")

    def footer(self) -> tuple[str, ...]:
        """The lines below the tables: the OGL attribution with the sources, then the meaning
        of each not-published symbol that appears, in the order they first appear."""
        lines: list[str] = []
        if self.sources:
            lines.append(ATTRIBUTION)
            lines.append(f"Licence: {OGL_V3}")
            lines.extend(f"Source: {source}" for source in self.sources)
        symbols = dict.fromkeys(
            cell
            for section in self.sections
            for row in section.rows
            for cell in row
            if isinstance(cell, Suppression)
        )
        lines.extend(f"{_symbol(s)} {s.meaning}" for s in symbols)
        return tuple(lines)


_MAX_CELL_CHARS = 32_767


def _check_cell(cell: object) -> None:
    if isinstance(cell, bool | float | datetime):
        raise TypeError(f"{cell!r}: a cell is text, a whole number, a Decimal or a date")
    # Excel's limit on a cell: XlsxWriter would cut a longer text short where CSV would not.
    if isinstance(cell, str) and len(neutralise(cell)) > _MAX_CELL_CHARS:
        raise ValueError(f"a cell holds at most {_MAX_CELL_CHARS:,} characters")
    if isinstance(cell, Decimal) and not cell.is_finite():
        raise ValueError(f"{cell!r} is not a figure a report can show")
    if not isinstance(cell, Suppression | str | int | Decimal | date | None):
        raise TypeError(f"{cell!r}: a cell is text, a whole number, a Decimal or a date")


# -- content negotiation ------------------------------------------------------------------------

# RFC 9110 §12.4.2: a weight is 0 to 1 with at most three decimals; it is kept in thousandths
# so that comparing two weights is exact.
_WEIGHT = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")
# An RFC 9110 token without `*`, which no media type's name holds: "*/csv" is no range.
_TCHARS = r"[!#$%&'+.^_`|~0-9A-Za-z-]+"
_MEDIA_RANGE = re.compile(rf"(?:\*/\*|({_TCHARS})/\*|({_TCHARS})/({_TCHARS}))")


@dataclass(frozen=True)
class _Range:
    type: str  # "*" for */*
    subtype: str  # "*" for type/* and */*
    weight: int  # thousandths

    def specificity(self, media_type: str) -> int | None:
        """How closely this range names `media_type` (2 exactly, 1 by type, 0 by `*/*`), or
        None if it does not name it at all."""
        kind, subtype = media_type.split("/")
        if self.type == "*":
            return 0
        if self.type != kind:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == subtype else None


def export_format(accept: str | None, format_param: str | None) -> Format:
    """The representation to answer with: `?format=` if given, otherwise the best `Accept`
    allows (RFC 9110 §12.5.1), otherwise JSON.

    A media range that `Accept` names most closely decides a representation's weight
    (`text/csv;q=0` refuses CSV even beside `*/*`); of two alike weighted, the one named more
    closely wins, then JSON, then CSV. Malformed elements of `Accept` are ignored, as the
    RFC lets a recipient do, and a header with no well-formed element is read as absent.

    Raises `UnknownExportFormat` (400) for a `?format=` that is not json, csv or xlsx, and
    `NotAcceptable` (406) for an `Accept` that admits none of them."""
    if format_param is not None:
        try:
            return Format(format_param.strip().lower())
        except ValueError:
            raise UnknownExportFormat(format_param) from None
    ranges = _parse_accept(accept or "")
    if not ranges:
        return Format.JSON
    best: tuple[int, int, int] | None = None
    chosen: Format | None = None
    for rank, candidate in enumerate(_PREFERENCE):
        matches = [
            (specificity, r.weight)
            for r in ranges
            if (specificity := r.specificity(candidate.media_type)) is not None
        ]
        if not matches:
            continue
        specificity, weight = max(matches)
        score = (weight, specificity, -rank)
        if weight > 0 and (best is None or score > best):
            best, chosen = score, candidate
    if chosen is None:
        raise NotAcceptable(accept or "")
    return chosen


def _parse_accept(accept: str) -> list[_Range]:
    ranges = []
    for element in accept.split(","):
        media_range, *parameters = (part.strip() for part in element.split(";"))
        matched = _MEDIA_RANGE.fullmatch(media_range.lower())
        weight = _weight(parameters)
        if matched is None or weight is None:
            continue
        kind = matched.group(1) or matched.group(2) or "*"
        subtype = matched.group(3) or "*"
        ranges.append(_Range(kind, subtype, weight))
    return ranges


def _weight(parameters: list[str]) -> int | None:
    """A range's weight in thousandths, 1000 if it has none, None if it is malformed. The first
    `q` is the weight: parameters after it extend Accept, not the media type."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return int(Decimal(value) * 1000) if _WEIGHT.fullmatch(value) else None
    return 1000


# -- the download -------------------------------------------------------------------------------

# Typographic punctuation that has a plain ASCII reading; everything else outside ASCII is
# dropped from the fallback filename (accents by way of NFKD: "é" keeps its "e").
_ASCII_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
# What the quoted `filename` keeps: nothing that ends the quoted string (`"`, `\`), splits
# the header (`;`, `,`) or names a folder (`/`, `:`).
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9 ._()'-]+")
_UNSAFE_IN_UNICODE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
# RFC 8187 §3.2.1 attr-char, besides letters and digits: kept as they are in `filename*`.
_ATTR_CHARS = "!#$&+-.^_`|~"
_MAX_STEM = 100


def content_disposition(name: str, export: Format) -> str:
    """`Content-Disposition` for a download of `export` named after `name` (a trust's name
    and the view, say), with the format's extension.

    `filename` is a quoted ASCII fallback for clients that predate RFC 6266; `filename*`
    (RFC 8187) keeps the name as written, percent-encoded UTF-8, and is what current
    browsers use. Neither can carry a path, a quote or a control character."""
    unicode_stem = _tidy(_UNSAFE_IN_UNICODE_FILENAME.sub(" ", unicodedata.normalize("NFC", name)))
    ascii_stem = unicodedata.normalize("NFKD", unicode_stem.translate(_ASCII_PUNCTUATION))
    ascii_stem = _tidy(_UNSAFE_IN_FILENAME.sub("_", ascii_stem.encode("ascii", "ignore").decode()))
    fallback = f"{ascii_stem or 'export'}.{export.value}"
    encoded = quote(f"{unicode_stem or 'export'}.{export.value}", safe=_ATTR_CHARS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _tidy(stem: str) -> str:
    # A leading dot would hide the file on Unix; trailing dots and spaces Windows drops.
    return " ".join(stem.split())[:_MAX_STEM].strip(" ._-")


def render(report: Report, export: Format) -> bytes:
    """The report as a CSV or an XLSX file. JSON is not made here: it is the view's own
    schema, which the report was made from."""
    if export is Format.CSV:
        return to_csv(report)
    if export is Format.XLSX:
        return to_xlsx(report)
    raise ValueError(f"{export.value} is answered with the view's schema, not a report")


def download(report: Report, export: Format, name: str) -> Response:
    """The report as an attachment. `Vary: Accept` because the same URL answers JSON too."""
    return Response(
        render(report, export),
        media_type=export.content_type,
        headers={"Content-Disposition": content_disposition(name, export), "Vary": "Accept"},
    )


# -- cells --------------------------------------------------------------------------------------

# OWASP "CSV injection": a spreadsheet runs a cell starting with these as a formula (a tab
# or carriage return is skipped over first by some). A leading apostrophe makes it text.
_FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet will show, never run."""
    return f"'{text}" if text.startswith(_FORMULA_TRIGGERS) else text


def _symbol(suppression: Suppression) -> str:
    return f"[{suppression.value}]"


def _text(cell: Cell) -> str:
    """A cell as CSV writes it: numbers in full without exponent, dates in ISO 8601 (which
    every spreadsheet reads as a date and no reader takes for day-first or month-first)."""
    if isinstance(cell, Suppression):
        return _symbol(cell)
    if isinstance(cell, str):
        return neutralise(cell)
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if isinstance(cell, date):
        return cell.isoformat()
    if cell is None:
        return ""
    return str(cell)


# -- CSV ----------------------------------------------------------------------------------------


def to_csv(report: Report) -> bytes:
    """The report as one CSV: its title, then each section after a blank line as its title, its
    headings and its rows, then the footer after a blank line.

    UTF-8 with a byte-order mark, without which Excel reads UTF-8 as the machine's legacy code
    page (a curly apostrophe would open as "â€™", Windows-1252's reading of its bytes); CRLF
    line ends and quoting as RFC 4180 gives them, which the csv module's `excel` dialect
    writes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow([neutralise(report.title)])
    for section in report.sections:
        writer.writerow([])
        writer.writerow([neutralise(section.title)])
        writer.writerow([neutralise(column.label) for column in section.columns])
        writer.writerows([_text(cell) for cell in row] for row in section.rows)
    footer = report.footer()
    if footer:
        writer.writerow([])
        writer.writerows([neutralise(line)] for line in footer)
    return buffer.getvalue().encode("utf-8-sig")


# -- XLSX ---------------------------------------------------------------------------------------

# Excel's limits on a worksheet's name.
_SHEET_NAME_LENGTH = 31
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f]+")
# Rows above the data on every sheet: the report's title, the section's, the headings.
_TITLE_ROW, _SECTION_ROW, _HEADING_ROW = 0, 1, 2
_MIN_WIDTH, _MAX_WIDTH = 8, 60
# GOV.UK's style for dates: "1 April 2025".
_DATE_FORMAT = "d mmmm yyyy"


class _Styles:
    """The workbook's formats, each made once: XlsxWriter writes every one it is handed."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.section = workbook.add_format({"bold": True, "font_size": 12})
        self.heading = workbook.add_format({"bold": True, "text_wrap": True, "bottom": 1})
        self.text = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.symbol = workbook.add_format({"align": "right", "valign": "top"})
        self.date = workbook.add_format({"num_format": _DATE_FORMAT, "valign": "top"})
        self.whole = workbook.add_format({"valign": "top"})
        self._decimals: dict[int, CellFormat] = {}

    def decimal(self, places: int) -> CellFormat:
        """Shown with the decimals it was given (a published 22.0 stays 22.0) and thousands
        separators. Whole numbers (int) are not separated: they may be years or DfE codes."""
        if places not in self._decimals:
            pattern = "#,##0" + ("." + "0" * places if places else "")
            self._decimals[places] = self._workbook.add_format(
                {"num_format": pattern, "valign": "top"}
            )
        return self._decimals[places]


def to_xlsx(report: Report) -> bytes:
    """The report as a workbook: one worksheet per section.

    Each sheet starts with the report's and the section's titles (a printed or forwarded sheet
    still says what it is), then a bold heading row that stays in view (frozen) and repeats
    on every printed page, then the rows, with a filter on headings and rows only. The footer,
    OGL attribution included, is repeated below the rows of every sheet rather than kept on a
    sheet of its own: board papers print or paste single sheets, and the licence asks for the
    attribution wherever the information is used."""
    buffer = io.BytesIO()
    # Strings are only ever written with write_string; these options make sure that a write
    # of any other kind could not turn "=..." into a formula or "http..." into a link either.
    workbook = Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties({"title": report.title})
    styles = _Styles(workbook)
    footer = report.footer()
    for section, sheet_name in zip(report.sections, _sheet_names(report.sections), strict=True):
        sheet = workbook.add_worksheet(sheet_name)
        _write_section(sheet, styles, report.title, section, footer)
    workbook.close()
    return buffer.getvalue()


def _write_section(
    sheet: Worksheet, styles: _Styles, title: str, section: Section, footer: tuple[str, ...]
) -> None:
    sheet.write_string(_TITLE_ROW, 0, neutralise(title), styles.title)
    sheet.write_string(_SECTION_ROW, 0, neutralise(section.title), styles.section)
    for column, heading in enumerate(section.columns):
        sheet.write_string(_HEADING_ROW, column, neutralise(heading.label), styles.heading)
    first = _HEADING_ROW + 1
    for offset, row in enumerate(section.rows):
        for column, cell in enumerate(row):
            _write_cell(sheet, styles, first + offset, column, cell)
    last = _HEADING_ROW + len(section.rows)
    for column in range(len(section.columns)):
        sheet.set_column(column, column, _width(section, column))
    sheet.freeze_panes(first, 0)
    sheet.autofilter(_HEADING_ROW, 0, last, len(section.columns) - 1)
    sheet.repeat_rows(_HEADING_ROW)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # as wide as one page, as long as it takes
    for offset, line in enumerate(footer):
        sheet.write_string(last + 2 + offset, 0, neutralise(line))


def _write_cell(sheet: Worksheet, styles: _Styles, row: int, column: int, cell: Cell) -> None:
    if isinstance(cell, Suppression):
        sheet.write_string(row, column, _symbol(cell), styles.symbol)
    elif isinstance(cell, str):
        sheet.write_string(row, column, neutralise(cell), styles.text)
    elif isinstance(cell, Decimal):
        # Excel holds numbers as doubles; a Decimal is written as the double nearest to it,
        # and the format shows the places it was given.
        sheet.write_number(row, column, float(cell), styles.decimal(_places(cell)))
    elif isinstance(cell, date):
        # XlsxWriter writes a date as the midnight starting it; its annotations ask for that.
        sheet.write_datetime(row, column, datetime.combine(cell, time()), styles.date)
    elif isinstance(cell, int):
        sheet.write_number(row, column, cell, styles.whole)
    # None is a blank cell: nothing is written.


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int), "only finite Decimals are cells"
    return max(0, -exponent)


def _width(section: Section, column: int) -> int:
    """Wide enough for the heading's longest word and the longest value shown, within
    bounds: a long text wraps rather than pushing the next column off the page."""
    shown = [len(word) for word in section.columns[column].label.split()]
    shown.extend(_shown_length(row[column]) for row in section.rows)
    return min(_MAX_WIDTH, max(_MIN_WIDTH, *shown) + 2)


def _shown_length(cell: Cell) -> int:
    if isinstance(cell, date):
        return len("30 September 2025")
    if isinstance(cell, Decimal):
        return len(f"{cell:,f}")
    return max((len(line) for line in _text(cell).splitlines()), default=0)


def _sheet_names(sections: tuple[Section, ...]) -> Iterator[str]:
    """Each section's title as a worksheet name Excel accepts: without `[]:*?/\\`, 31
    characters at most, not starting or ending with an apostrophe, not Excel's reserved
    "History", and unique regardless of case (a repeat gets a number)."""
    taken: set[str] = set()
    for section in sections:
        name = _NOT_IN_SHEET_NAME.sub(" ", section.title)
        name = " ".join(name.split()).strip(" '")[:_SHEET_NAME_LENGTH].rstrip(" '") or "Sheet"
        if name.lower() == "history":
            name = "History (report)"
        candidate, number = name, 1
        while candidate.lower() in taken:
            number += 1
            suffix = f" ({number})"
            candidate = name[: _SHEET_NAME_LENGTH - len(suffix)].rstrip(" '") + suffix
        taken.add(candidate.lower())
        yield candidate
