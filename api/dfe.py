"""DfE's published children's social care statistics, read from Explore Education Statistics CSVs.

An edge module: it reads files and hands on `PublishedValue`s, one per indicator, year and
geography, for the demo's annual returns, `trustledger import dfe` and benchmarks. Nothing in
`domain` imports it.

What it holds to, because the files hold to it (../shared/data/README.md):
- columns are read by header name: releases differ in column order (`la_name` comes before
  `new_la_code` in the CLA files, after it in the CIN files), and some start with a UTF-8
  byte-order mark;
- a suppression symbol is a `Suppression`, never 0 and never an error;
- the published value is what DfE published. It is also recomputed from the published counts
  with the catalogue's rounding, and a difference is returned as a `Mismatch`, not hidden;
- a row that cannot be trusted (wrong number of fields, unknown geographic level, a year that
  is not a year, malformed codes, a name that is a spreadsheet formula) contributes nothing
  and is returned as a `Problem` with its line number, so an import can refuse the file
  before anything is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from api import tables
from domain.errors import InvalidFraction, InvalidOrganisation
from domain.indicators import CATALOGUE, Indicator, Suppression
from domain.local_authority import check_council_codes
from domain.publication import ENGLAND, Level

# The largest shipped file has 3.3 MB; one far beyond that is not a DfE release, and the
# limit is checked before a byte is parsed (DESIGN.md §5).
MAX_FILE_BYTES = 64 * 1024 * 1024
# The longest cell in any shipped file has 113 characters (an adoption-stage label).
MAX_CELL_CHARS = 500

DEMO_DIRECTORY = Path(__file__).resolve().parent / "demo_data" / "dfe"


_LEVELS: Mapping[str, Level] = MappingProxyType(
    {
        "National": Level.NATIONAL,
        "Regional": Level.REGIONAL,
        "Local authority": Level.LOCAL_AUTHORITY,
    }
)

# ASCII digits only: Decimal() would also take "NaN", "1E9", "-0" and non-ASCII digits.
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_YEAR = re.compile(r"[0-9]{4}")
_COUNTRY_CODE = re.compile(r"E92[0-9]{6}")
# E12 for the nine regions, E13 for Inner and Outer London, which DfE publishes beside London.
_REGION_CODE = re.compile(r"E1[23][0-9]{6}")
_LA_NUMBER = re.compile(r"[0-9]{3}")
# The workforce census publishes councils that share one children's services provider as one
# row: "940 / 941", "E06000061 / E06000062" (North and West Northamptonshire, served by
# Northamptonshire Children's Trust), "314 / 318" (Kingston and Richmond). Such a value is the
# pair's, under the joint codes as published, and neither council's alone.
_JOINT = " / "
_YEARS_IN_NAME = re.compile(r"_[0-9]{4}_to_[0-9]{4}$")
# A cell a spreadsheet would run as a formula (OWASP "CSV injection"); no DfE name starts so.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Count = int | Decimal
Filters = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Cell:
    """Where a count sits: a column of the value's own row, or of the row of the same year and
    geography that matches every `row` filter, in the same file or in `file`."""

    column: str
    row: Filters = ()
    file: str | None = None
    # Full-time equivalents are published to one decimal place, so they are Decimals and may
    # be 0.05 away from the figure DfE divided.
    fte: bool = False
    # DfE rounds national and regional counts of its children's social care collections to
    # the nearest 10 and computes their percentages from the unrounded counts.
    rounded_above_la: int | None = None

    def half_width(self, level: Level) -> Decimal:
        """How far the figure DfE divided may be from the one it published."""
        if self.rounded_above_la is not None and level is not Level.LOCAL_AUTHORITY:
            return Decimal(self.rounded_above_la) / 2
        return Decimal("0.05") if self.fte else Decimal(0)


@dataclass(frozen=True)
class Source:
    """Which file publishes an indicator, which rows carry it and which columns hold it."""

    file: str  # the file's name without ".csv" and without a "_2013_to_2025" year range
    row: Filters
    # None where DfE publishes the counts but not the figure: the value is then derived.
    value: str | None
    numerator: Cell
    denominator: tuple[Cell, ...]  # summed: the agency rate divides by agency + in-post FTE
    # The month and day DfE's reporting year ends. The CIN and CLA collections run to 31 March,
    # so time_period 2025 is contract year 2024-25; the workforce census runs to 30 September,
    # so its 2025 falls in contract year 2025-26.
    year_ends: tuple[int, int] = (3, 31)

    def cells(self) -> tuple[Cell, ...]:
        return (self.numerator, *self.denominator)

    def period_end(self, year: int) -> date:
        """The last day of the reporting year DfE labels `year` (its time_period)."""
        month, day = self.year_ends
        return date(year, month, day)


def _cin(column: str) -> Cell:
    return Cell(column, rounded_above_la=10)


def _other_row(column: str, *row: tuple[str, str]) -> Cell:
    return Cell(column, row=row, rounded_above_la=10)


_STABLE_GROUP = (
    "Children looked after continuously for at least 2.5 years on 31 March aged under 16 years"
)
_LOOKED_AFTER_AT_31_MARCH = "Children looked after on 31 March each year"
_WORKFORCE_CENSUS = (9, 30)  # each reporting year runs from 1 October to 30 September

# Per catalogue indicator, where DfE publishes it. Filters and column names are the
# publisher's own spelling, copied from the 2025 releases.
SOURCES: Mapping[str, Source] = MappingProxyType(
    {
        "rereferrals_12m": Source(
            file="c1_children_in_need_referrals_and_rereferrals",
            row=(("category", "Referrals and Re-referrals"),),
            value="rereferral_percent",
            numerator=_cin("rereferral_count"),
            denominator=(_cin("referral_count"),),
        ),
        "cpp_second_or_subsequent": Source(
            file="d3_cpps_subsequent_plan",
            row=(("category", "Child Protection Plans which are a second or subsequent plan"),),
            value="CPP_subsequent_percent",
            numerator=_cin("CPP_subsequent"),
            denominator=(_cin("CPP_start"),),
        ),
        "cpp_2_years_plus": Source(
            file="d5_cpps_at31march_by_duration",
            row=(("category", "Child Protection Plans by length of time"),),
            value="2_years_or_more_percent",
            numerator=_cin("2_years_or_more"),
            denominator=(_cin("CPP_At31"),),
        ),
        "cla_3_plus_placements": Source(
            file="la_cla_placement_stability",
            row=(
                ("cla_group", "CLA on 31 March"),
                ("placement_stability", "With 3 or more placements during the year"),
            ),
            value="children_percent",
            numerator=_cin("children_count"),
            denominator=(
                _other_row(
                    "children_count",
                    ("cla_group", "CLA on 31 March"),
                    ("placement_stability", "Total children"),
                ),
            ),
        ),
        "cla_long_term_stability": Source(
            file="la_cla_placement_stability",
            row=(
                ("cla_group", _STABLE_GROUP),
                ("placement_stability", "Living with the same carer for at least 2 years"),
            ),
            value="children_percent",
            numerator=_cin("children_count"),
            denominator=(
                _other_row(
                    "children_count",
                    ("cla_group", _STABLE_GROUP),
                    ("placement_stability", "Total children"),
                ),
            ),
        ),
        "care_leavers_19_21_eet": Source(
            file="la_care_leavers_activity",
            row=(
                ("care_leaver_age", "19 to 21 years"),
                ("breakdown", "Total in education, employment or training"),
            ),
            value="care_leaver_percent",
            numerator=_cin("care_leaver_count"),
            # "Total" includes the care leavers the authority had no information on.
            denominator=(
                _other_row(
                    "care_leaver_count",
                    ("care_leaver_age", "19 to 21 years"),
                    ("breakdown", "Total"),
                ),
            ),
        ),
        "care_leavers_19_21_suitable_accommodation": Source(
            file="la_care_leavers_accommodation_suitability",
            row=(
                ("care_leaver_age", "19 to 21 years"),
                ("breakdown", "Accommodation considered suitable"),
            ),
            value="care_leaver_percent",
            numerator=_cin("care_leaver_count"),
            denominator=(
                _other_row(
                    "care_leaver_count",
                    ("care_leaver_age", "19 to 21 years"),
                    ("breakdown", "Suitability total"),
                ),
            ),
        ),
        # b1 publishes the count at 31 March but no rate; the catalogue derives the rate with
        # the population estimate printed beside the looked-after rate, which DfE starts in
        # the year to 31 March 2021. So the rate exists from 2021 only.
        "cin_rate_per_10k": Source(
            file="b1_children_in_need",
            row=(("category", "Children in Need"),),
            value=None,
            numerator=_cin("At31_episodes"),
            denominator=(
                Cell(
                    "population_estimate",
                    row=(("population_type", _LOOKED_AFTER_AT_31_MARCH),),
                    file="cla_number_and_rate_per_10k_children",
                ),
            ),
        ),
        "cla_rate_per_10k": Source(
            file="cla_number_and_rate_per_10k_children",
            row=(("population_type", _LOOKED_AFTER_AT_31_MARCH),),
            value="rate_per_10000",
            numerator=_cin("children_count"),
            # ONS mid-year estimates of children under 18, published unrounded.
            denominator=(Cell("population_estimate"),),
        ),
        # Turnover is FTE leavers over FTE social workers in post at 30 September.
        "sw_turnover_rate": Source(
            file="csww_indicators",
            row=(),
            value="turnover_rate_fte",
            numerator=Cell("leavers_fte", fte=True),
            denominator=(Cell("inpost_fte", fte=True),),
            year_ends=_WORKFORCE_CENSUS,
        ),
        # Agency and vacancy rates are shares of all posts: in post plus agency (or vacant).
        "sw_agency_rate": Source(
            file="csww_indicators",
            row=(),
            value="agency_rate_fte",
            numerator=Cell("agency_fte", fte=True),
            denominator=(Cell("agency_fte", fte=True), Cell("inpost_fte", fte=True)),
            year_ends=_WORKFORCE_CENSUS,
        ),
        "sw_vacancy_rate": Source(
            file="csww_indicators",
            row=(),
            value="vacancy_rate_fte",
            numerator=Cell("vacancy_fte", fte=True),
            denominator=(Cell("vacancy_fte", fte=True), Cell("inpost_fte", fte=True)),
            year_ends=_WORKFORCE_CENSUS,
        ),
        "sw_caseload": Source(
            file="csww_indicators",
            row=(),
            value="caseload_fte",
            numerator=Cell("cases"),
            denominator=(Cell("case_holders_fte", fte=True),),
            year_ends=_WORKFORCE_CENSUS,
        ),
    }
)

# Columns every row needs to say when and where it is about.
_PLACE_COLUMNS = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
)


def file_stem(file_name: str) -> str:
    """A DfE file's name without ".csv" and the year range a new release moves on."""
    return _YEARS_IN_NAME.sub("", file_name.removesuffix(".csv"))


def _columns_by_file() -> Mapping[str, frozenset[str]]:
    """The columns each file must have for every indicator read from it."""
    columns: dict[str, set[str]] = {}
    for source in SOURCES.values():
        own = columns.setdefault(source.file, set(_PLACE_COLUMNS))
        own.update(name for name, _ in source.row)
        if source.value is not None:
            own.add(source.value)
        for cell in source.cells():
            needed = columns.setdefault(cell.file or source.file, set(_PLACE_COLUMNS))
            needed.add(cell.column)
            needed.update(name for name, _ in cell.row)
    return MappingProxyType({stem: frozenset(names) for stem, names in columns.items()})


_COLUMNS_BY_FILE = _columns_by_file()
USED_FILES: frozenset[str] = frozenset(_COLUMNS_BY_FILE)


@dataclass(frozen=True)
class PublishedValue:
    indicator: str
    year: int  # DfE's time_period; `SOURCES[indicator].period_end(year)` is its last day
    level: Level
    geography_code: str  # E92000001, a region's code or the LA's ONS code
    la_number: str | None  # DfE's three-digit old_la_code; None above LA level
    region_code: str | None  # the region the row puts the LA in; None above LA level
    name: str
    value: Decimal | Suppression
    numerator: Count | Suppression | None
    denominator: Count | Suppression | None
    file: str
    line: int
    # True where DfE publishes the counts but not the figure (cin_rate_per_10k): the value is
    # the catalogue's value_of the counts, and file and line are the numerator's.
    derived: bool = False


@dataclass(frozen=True)
class Problem:
    """Why a file, a row or a cell was not read. Line 0 is the file as a whole, 1 its header."""

    file: str
    line: int
    message: str


@dataclass(frozen=True)
class Mismatch:
    """A published value that its published counts, divided and rounded, do not give."""

    value: PublishedValue
    recomputed: Decimal
    # True when counts within the rounding DfE applied before publishing them (nearest 10
    # above LA level, 0.1 of an FTE) give the published value: expected, not an error.
    within_count_rounding: bool


@dataclass(frozen=True)
class FileFacts:
    name: str
    sha256: str
    rows: int  # data rows, header not counted, trusted or not
    years: frozenset[int]  # the years of the rows it was trusted for
    indicators: frozenset[str]  # the catalogue codes with a value on one of its rows


@dataclass(frozen=True)
class PublishedStatistics:
    values: tuple[PublishedValue, ...]
    files: tuple[FileFacts, ...]
    problems: tuple[Problem, ...]
    mismatches: tuple[Mismatch, ...]
    _by_code: Mapping[tuple[str, int, Level, str], PublishedValue] = field(
        init=False, repr=False, compare=False
    )
    _by_la_number: Mapping[tuple[str, int, str], PublishedValue] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # read_published keeps one value per indicator, year and place, so these lose nothing.
        by_code = {(v.indicator, v.year, v.level, v.geography_code): v for v in self.values}
        by_la_number = {
            (v.indicator, v.year, v.la_number): v for v in self.values if v.la_number is not None
        }
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))
        object.__setattr__(self, "_by_la_number", MappingProxyType(by_la_number))

    def values_for(self, authority: str, indicator: str, year: int) -> PublishedValue | None:
        """A local authority's value, by DfE LA number ("333") or ONS code ("E08000028"), or
        by the joint codes of councils published together ("940 / 941").

        The LA number is the key to prefer: an ONS code finds a value only under the code the
        file printed, and files differ on that after a reorganisation (see `_Row.place`).
        """
        if all(_LA_NUMBER.fullmatch(part) for part in authority.split(_JOINT)):
            return self._by_la_number.get((indicator, year, authority))
        return self._by_code.get((indicator, year, Level.LOCAL_AUTHORITY, authority))

    def england(self, indicator: str, year: int) -> PublishedValue | None:
        return self._by_code.get((indicator, year, Level.NATIONAL, ENGLAND))

    def region(self, region_code: str, indicator: str, year: int) -> PublishedValue | None:
        return self._by_code.get((indicator, year, Level.REGIONAL, region_code))


def read_published(
    paths: Iterable[Path], *, max_bytes: int = MAX_FILE_BYTES
) -> PublishedStatistics:
    """Every catalogue indicator's values in the given files, with what could not be read.

    Never raises for what a file holds: an unreadable file, row or cell is a `Problem`. The
    first value for an indicator, year and place wins; a second is a `Problem`.
    """
    reading = _Reading()
    files = [
        (path.name, content)
        for path in paths
        if (content := reading.content(path, max_bytes)) is not None
    ]
    return reading.statistics(files, max_bytes)


def read_published_content(
    files: Iterable[tuple[str, bytes]], *, max_bytes: int = MAX_FILE_BYTES
) -> PublishedStatistics:
    """As `read_published`, for files given as their names and bytes (an upload)."""
    return _Reading().statistics(files, max_bytes)


def read_demo_statistics() -> PublishedStatistics:
    """The copies of the published files shipped for the demo (demo_data/README.md)."""
    return read_published(sorted(DEMO_DIRECTORY.glob("*.csv")))


# -- reading ----------------------------------------------------------------------------------

_Place = tuple[int, Level, str]


@dataclass(frozen=True)
class _Row:
    line: int
    cells: Mapping[str, str]
    year: int
    level: Level
    geography_code: str
    la_number: str | None
    region_code: str | None
    name: str

    @property
    def place(self) -> _Place:
        """What joins rows of one place and year, across files too. For a local authority that
        is DfE's LA number: the CLA files restate earlier years under today's ONS codes, the CIN
        files do not (North Yorkshire, 815, is E10000023 in b1 for 2021 and E06000065 in the
        CLA files)."""
        return (self.year, self.level, self.la_number or self.geography_code)

    def matches(self, filters: Filters) -> bool:
        return all(self.cells[column] == wanted for column, wanted in filters)


@dataclass(frozen=True)
class _Table:
    name: str
    sha256: str
    count: int
    rows: tuple[_Row, ...]
    years: frozenset[int] = field(init=False)
    # Indexed once: a count on another row is looked up for every value, and
    # la_care_leavers_activity alone has 20,040 rows.
    places: Mapping[_Place, tuple[_Row, ...]] = field(init=False)

    def __post_init__(self) -> None:
        places: dict[_Place, list[_Row]] = {}
        for row in self.rows:
            places.setdefault(row.place, []).append(row)
        object.__setattr__(self, "years", frozenset(row.year for row in self.rows))
        object.__setattr__(
            self, "places", MappingProxyType({key: tuple(at) for key, at in places.items()})
        )

    @property
    def stem(self) -> str:
        return file_stem(self.name)

    def facts(self, values: Iterable[PublishedValue]) -> FileFacts:
        return FileFacts(
            name=self.name,
            sha256=self.sha256,
            rows=self.count,
            years=self.years,
            indicators=frozenset(v.indicator for v in values if v.file == self.name),
        )


class _Unusable(Exception):
    """A cell, or a row a value needs, that cannot be trusted."""


@dataclass
class _Reading:
    values: dict[tuple[str, int, Level, str], PublishedValue] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    _by_la_number: dict[tuple[str, int, str | None], PublishedValue] = field(default_factory=dict)

    def problem(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    # -- files --------------------------------------------------------------------------------

    def statistics(self, files: Iterable[tuple[str, bytes]], max_bytes: int) -> PublishedStatistics:
        tables = [
            table
            for name, content in files
            if (table := self.table(name, content, max_bytes)) is not None
        ]
        for code, source in SOURCES.items():
            self.read_indicator(CATALOGUE[code], source, tables)
        return PublishedStatistics(
            values=tuple(self.values.values()),
            files=tuple(table.facts(self.values.values()) for table in tables),
            problems=tuple(self.problems),
            mismatches=tuple(self.mismatches),
        )

    def content(self, path: Path, max_bytes: int) -> bytes | None:
        """A file's bytes, its size checked before it is read."""
        try:
            size = path.stat().st_size
            if size > max_bytes:
                self.problem(path.name, 0, f"has {size} bytes, more than the {max_bytes} allowed")
                return None
            return path.read_bytes()
        except OSError as error:
            self.problem(path.name, 0, f"cannot be read: {error.strerror}")
            return None

    def table(self, name: str, content: bytes, max_bytes: int) -> _Table | None:
        if len(content) > max_bytes:
            self.problem(name, 0, f"has {len(content)} bytes, more than the {max_bytes} allowed")
            return None
        sha256 = hashlib.sha256(content).hexdigest()
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            self.problem(name, content.count(b"\n", 0, error.start) + 1, "is not UTF-8 text")
            return _Table(name, sha256, 0, ())
        count = 0
        rows: list[_Row] = []
        records = tables.records(text)
        try:
            _, header = next(records, (1, []))
            needed = _COLUMNS_BY_FILE.get(file_stem(name))
            trusted = needed is not None and self._header_fits(name, header, needed)
            for line, record in records:
                count += 1
                row = self._row(name, line, header, record) if trusted else None
                if row is not None:
                    rows.append(row)
        except tables.NotCsv as error:
            self.problem(name, error.line, f"stops being CSV: {error.reason}")
        return _Table(name, sha256, count, tuple(rows))

    def _header_fits(self, name: str, header: list[str], needed: frozenset[str]) -> bool:
        missing = sorted(needed.difference(header))
        if missing:
            self.problem(name, 1, f"has no column {', '.join(missing)}")
        repeated = sorted({column for column in header if header.count(column) > 1})
        if repeated:
            self.problem(name, 1, f"repeats column {', '.join(repeated)}")
        return not missing and not repeated

    def _row(self, name: str, line: int, header: list[str], record: list[str]) -> _Row | None:
        if len(record) != len(header):
            self.problem(name, line, f"has {len(record)} fields, the header {len(header)}")
            return None
        cells = dict(zip(header, record, strict=True))
        for column, cell in cells.items():
            if len(cell) > MAX_CELL_CHARS:
                self.problem(name, line, f"{column} has {len(cell)} characters")
                return None
        try:
            return _row(line, cells)
        except _Unusable as error:
            self.problem(name, line, str(error))
            return None

    # -- values -------------------------------------------------------------------------------

    def read_indicator(self, indicator: Indicator, source: Source, tables: list[_Table]) -> None:
        given = {table.stem for table in tables}
        for table in tables:
            if table.stem != source.file:
                continue
            absent = sorted({c.file for c in source.cells() if c.file and c.file not in given})
            if absent:
                self.problem(
                    table.name, 0, f"{indicator.code} needs {', '.join(absent)}, not given"
                )
                continue
            for row in table.rows:
                if row.matches(source.row):
                    self._read_value(indicator, source, table, row, tables)

    def _read_value(
        self,
        indicator: Indicator,
        source: Source,
        table: _Table,
        row: _Row,
        tables: list[_Table],
    ) -> None:
        try:
            numerator = _count(source.numerator, row.cells)
            found = [self._cell_row(cell, table, row, tables) for cell in source.denominator]
            rows = [part for part in found if part is not None]
            if len(rows) < len(found):
                return  # a file it needs does not cover this year: no value, not a fault
            denominator = _sum(
                _count(cell, part.cells)
                for cell, part in zip(source.denominator, rows, strict=True)
            )
            if source.value is None:
                value = _derive(indicator, numerator, denominator)
            else:
                value = _published(row.cells[source.value], indicator.decimals)
        except _Unusable as error:
            self.problem(table.name, row.line, f"{indicator.code}: {error}")
            return
        key = (indicator.code, row.year, row.level, row.geography_code)
        first = self.values.get(key) or self._by_la_number.get(
            (indicator.code, row.year, row.la_number)
        )
        if first is not None:
            self.problem(
                table.name,
                row.line,
                f"{indicator.code}: a second value for {row.name} in {row.year}; "
                f"the first is line {first.line} of {first.file}",
            )
            return
        published = PublishedValue(
            indicator=indicator.code,
            year=row.year,
            level=row.level,
            geography_code=row.geography_code,
            la_number=row.la_number,
            region_code=row.region_code,
            name=row.name,
            value=value,
            numerator=numerator,
            denominator=denominator,
            file=table.name,
            line=row.line,
            derived=source.value is None,
        )
        self.values[key] = published
        if row.la_number is not None:
            self._by_la_number[(indicator.code, row.year, row.la_number)] = published
        if not published.derived:
            self._recompute(indicator, source, published)

    def _cell_row(self, cell: Cell, table: _Table, row: _Row, tables: list[_Table]) -> _Row | None:
        """The row a count sits on; None if the file it sits in has nothing for that year."""
        if not cell.row and cell.file is None:
            return row
        candidates = [t for t in tables if t.stem == (cell.file or table.stem)]
        if cell.file is not None and not any(row.year in t.years for t in candidates):
            return None
        found = [
            other
            for candidate in candidates
            for other in candidate.places.get(row.place, ())
            if other.matches(cell.row)
        ]
        if len(found) != 1:
            wanted = " and ".join(f"{column} {value!r}" for column, value in cell.row)
            raise _Unusable(f"{len(found)} rows with {wanted} for {row.name} in {row.year}, not 1")
        return found[0]

    def _recompute(self, indicator: Indicator, source: Source, published: PublishedValue) -> None:
        value, numerator, denominator = published.value, published.numerator, published.denominator
        if not (
            isinstance(value, Decimal)
            and isinstance(numerator, int | Decimal)
            and isinstance(denominator, int | Decimal)
        ):
            return
        try:
            recomputed = _value_of(indicator, numerator, denominator)
        except InvalidFraction as error:
            self.problem(published.file, published.line, f"{indicator.code}: {error.detail}")
            return
        if recomputed == value:
            return
        level = published.level
        numerator_width = source.numerator.half_width(level)
        denominator_width = sum((cell.half_width(level) for cell in source.denominator), Decimal(0))
        # Rounding half up never decreases as the ratio grows, so the published value is
        # reachable if it lies between the roundings of the lowest and highest ratios that
        # counts within their own rounding could make.
        lowest = _value_of(
            indicator, max(numerator - numerator_width, Decimal(0)), denominator + denominator_width
        )
        try:
            highest: Decimal | None = _value_of(
                indicator, numerator + numerator_width, denominator - denominator_width
            )
        except InvalidFraction:
            highest = None  # the denominator could be 0 or below the numerator: no upper bound
        self.mismatches.append(
            Mismatch(
                value=published,
                recomputed=recomputed,
                within_count_rounding=lowest <= value and (highest is None or value <= highest),
            )
        )


def _row(line: int, cells: Mapping[str, str]) -> _Row:
    """When and where a row is about, or _Unusable saying why that cannot be trusted."""
    period, identifier = cells["time_period"], cells["time_identifier"]
    if not _YEAR.fullmatch(period) or identifier != "Reporting year":
        raise _Unusable(f"time_period {period!r} ({identifier!r}) is not a reporting year")
    published_level = cells["geographic_level"]
    level = _LEVELS.get(published_level)
    if level is None:
        raise _Unusable(f"geographic_level {published_level!r} is not one this reader knows")
    la_number: str | None = None
    region_code: str | None = None
    if level is Level.NATIONAL:
        code, name_column = cells["country_code"], "country_name"
        if not _COUNTRY_CODE.fullmatch(code):
            raise _Unusable(f"country_code {code!r} is not a country's ONS code")
    elif level is Level.REGIONAL:
        code, name_column = cells["region_code"], "region_name"
        if not _REGION_CODE.fullmatch(code):
            raise _Unusable(f"region_code {code!r} is not a region's ONS code")
    else:
        la_number, code, name_column = cells["old_la_code"], cells["new_la_code"], "la_name"
        region_code = cells["region_code"]
        if not _REGION_CODE.fullmatch(region_code):
            raise _Unusable(f"region_code {region_code!r} is not a region's ONS code")
        numbers, codes = la_number.split(_JOINT), code.split(_JOINT)
        if len(numbers) != len(codes):
            raise _Unusable(f"old_la_code {la_number!r} and new_la_code {code!r} do not pair up")
        try:
            for number, ons_code in zip(numbers, codes, strict=True):
                check_council_codes(number, ons_code)
        except InvalidOrganisation as error:
            raise _Unusable(error.detail) from None
    name = cells[name_column]
    if not name.strip():
        raise _Unusable(f"{name_column} is empty")
    if name.startswith(_FORMULA_START):
        raise _Unusable(f"{name_column} starts with {name[0]!r}, as a spreadsheet formula does")
    return _Row(line, cells, int(period), level, code, la_number, region_code, name)


def _symbol(text: str) -> Suppression | None:
    try:
        return Suppression(text)
    except ValueError:
        return None


def _published(text: str, decimals: int) -> Decimal | Suppression:
    symbol = _symbol(text)
    if symbol is not None:
        return symbol
    if not _DECIMAL.fullmatch(text):
        raise _Unusable(f"published value {text!r} is neither a number nor a DfE symbol")
    value = Decimal(text)
    # DfE drops trailing zeros ("21" for 21.0). More places than the catalogue's are kept as
    # published, for the recomputation to report.
    places = -int(value.as_tuple().exponent)
    return value.quantize(Decimal(1).scaleb(-decimals)) if places < decimals else value


def _count(cell: Cell, cells: Mapping[str, str]) -> Count | Suppression:
    text = cells[cell.column]
    symbol = _symbol(text)
    if symbol is not None:
        return symbol
    if cell.fte and _DECIMAL.fullmatch(text):
        return Decimal(text)
    if not cell.fte and _WHOLE.fullmatch(text):
        return int(text)
    kind = "a full-time equivalent" if cell.fte else "a whole count"
    raise _Unusable(f"{cell.column} {text!r} is neither {kind} nor a DfE symbol")


def _sum(parts: Iterable[Count | Suppression]) -> Count | Suppression:
    """A sum with a suppressed part is suppressed: the first part's symbol stands for it."""
    total: Count = 0
    for part in parts:
        if isinstance(part, Suppression):
            return part
        total += part
    return total


def _derive(
    indicator: Indicator, numerator: Count | Suppression, denominator: Count | Suppression
) -> Decimal | Suppression:
    """A figure DfE does not publish, from counts it does; suppressed if either count is."""
    if isinstance(numerator, Suppression):
        return numerator
    if isinstance(denominator, Suppression):
        return denominator
    try:
        return _value_of(indicator, numerator, denominator)
    except InvalidFraction as error:
        raise _Unusable(error.detail) from None


def _value_of(indicator: Indicator, numerator: Count, denominator: Count) -> Decimal:
    """The catalogue's figure for counts that may carry decimals.

    `Indicator.value_of` takes whole counts, and refuses workforce rates because a return
    cannot carry a fraction of FTEs. Scaling both counts by the same power of ten leaves the
    ratio unchanged, and DfE rounds these rates the same way, so the recomputation uses the
    catalogue's own rounding rather than a second copy of it.
    """
    places = max(_places(numerator), _places(denominator))
    scale = 10**places
    if not indicator.has_fraction:
        indicator = dataclasses.replace(indicator, has_fraction=True)
    return indicator.value_of(int(numerator * scale), int(denominator * scale))


def _places(count: Count) -> int:
    if isinstance(count, int):
        return 0
    return max(0, -int(count.as_tuple().exponent))
