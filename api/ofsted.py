"""Ofsted's official statistics on inspections of local authority children's services, read from
the CSV tables of "Local authority inspection outcomes" and imported as `Inspection`s.

An edge module, as api/dfe.py is: it reads files and hands the ledger one command per row.
What it holds to:
- columns are found by header name, in any order, with or without a UTF-8 byte-order mark;
  columns it does not use are ignored. One family of tables, three layouts:
  - latest per LA ("Inspection date", no type column): each row is the authority's latest ILACS
    inspection, and the table does not say whether it was standard or short. It is recorded as
    `InspectionType.ILACS` (sub-type not published) unless a table imported with it gives the
    sub-type for the same authority and first day, as the in-year table does for that year's
    inspections; a later import of such a table records the sub-type as a correction;
  - in-year inspections and visits ("Inspection/Visit date", "Inspection/Visit type", "Visit
    Theme");
  - the ILACS history, by the same names, its type column perhaps "Inspection type".
- for an ILACS inspection begun before 1 January 2023, "children in care" holds the combined
  judgement of children in care and care leavers ("care leavers" is blank) and is recorded as
  that combined area, never split;
- every row of every file is checked before anything is written, against the domain's rules too
  (each row is first recorded in memory). Any problem (a missing column, a grade or type that is
  not Ofsted's, a date that is not one, a code not in the reference list of local authorities,
  a cell a spreadsheet would run as a formula, an over-long cell, text that is not UTF-8) is
  reported with its line and nothing at all is written;
- the rows then go to the group-commit writer many at a time, so that they are committed
  together, each under an idempotency key made of its file's SHA-256 and its line. A row the
  ledger already agrees with, or whose file it has already taken in, is not sent, so importing a
  file again writes nothing; a row that says otherwise records one correction per value it
  changes. A write that fails part way (the database gone) leaves whole rows written: importing
  the file again completes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar
from uuid import UUID

from api import tables
from api.dfe import Problem
from api.local_authorities import local_authorities
from domain.actor import Actor
from domain.application import Session, Trustledger, Write
from domain.errors import DomainError
from domain.inspection import (
    Area,
    Differences,
    Grade,
    Inspection,
    InspectionType,
    PublishedLine,
    judges_care_leavers_apart,
)

T = TypeVar("T")

# The shared tables have under 30 kB; one far beyond is not Ofsted's, and the size is checked
# before a byte is parsed (DESIGN.md §5).
MAX_FILE_BYTES = 4 * 1024 * 1024
# The longest cell in the shared tables has 36 characters (a region's name).
MAX_CELL_CHARS = 200
# Rows handed to the writer at once: enough for it to commit them in a few transactions.
_IN_FLIGHT = 64
# A cell a spreadsheet would run as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UK_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")

# What each column is called, in Ofsted's spelling; matched ignoring case and spacing.
_LA_CODE = "la_code"
_LA_NAME = "la_name"
_STARTS_ON = "starts_on"
_PUBLISHED_ON = "published_on"
_TYPE = "inspection_type"
_THEME = "theme"
_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        _LA_CODE: ("Local authority area code",),
        _LA_NAME: ("Local authority name",),
        _STARTS_ON: ("Inspection date", "Inspection/Visit date", "Inspection start date"),
        _PUBLISHED_ON: ("Publication date",),
        _TYPE: ("Inspection/Visit type", "Inspection type"),
        _THEME: ("Visit Theme",),
        Area.OVERALL_EFFECTIVENESS: ("Overall effectiveness",),
        Area.IMPACT_OF_LEADERS: (
            "The impact of leaders on social work practice with children and families",
        ),
        Area.HELP_AND_PROTECTION: (
            "The experiences and progress of children who need help and protection",
        ),
        Area.CHILDREN_IN_CARE: ("The experiences and progress of children in care",),
        Area.CARE_LEAVERS: ("The experiences and progress of care leavers",),
        Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS: (
            "The experiences and progress of children in care and care leavers",
        ),
    }
)
_REQUIRED = (
    _LA_CODE,
    _LA_NAME,
    _STARTS_ON,
    _PUBLISHED_ON,
    Area.OVERALL_EFFECTIVENESS,
    Area.IMPACT_OF_LEADERS,
    Area.HELP_AND_PROTECTION,
)


def _plain(text: str) -> str:
    """Text as compared: without a stray byte-order mark, single-spaced, case folded."""
    return " ".join(text.replace("\ufeff", "").split()).casefold()


_SPELLINGS: Mapping[str, str] = MappingProxyType(
    {_plain(spelling): name for name, spellings in _COLUMNS.items() for spelling in spellings}
)

# Ofsted's words for its grades: ILACS says "requires improvement to be good", the SIF
# "requires improvement". A blank cell is no judgement.
_GRADES: Mapping[str, Grade] = MappingProxyType(
    {
        "outstanding": Grade.OUTSTANDING,
        "good": Grade.GOOD,
        "requires improvement to be good": Grade.REQUIRES_IMPROVEMENT,
        "requires improvement": Grade.REQUIRES_IMPROVEMENT,
        "inadequate": Grade.INADEQUATE,
        "adequate": Grade.ADEQUATE,
        "not judged": Grade.NOT_JUDGED,
    }
)

_TYPES: Mapping[str, InspectionType] = MappingProxyType(
    {
        "ilacs standard inspection": InspectionType.ILACS_STANDARD,
        "ilacs standard": InspectionType.ILACS_STANDARD,
        "standard inspection": InspectionType.ILACS_STANDARD,
        "ilacs short inspection": InspectionType.ILACS_SHORT,
        "ilacs short": InspectionType.ILACS_SHORT,
        "short inspection": InspectionType.ILACS_SHORT,
        "ilacs inspection": InspectionType.ILACS,
        "ilacs focused visit": InspectionType.FOCUSED_VISIT,
        "focused visit": InspectionType.FOCUSED_VISIT,
        "la monitoring visit": InspectionType.MONITORING_VISIT,
        "monitoring visit": InspectionType.MONITORING_VISIT,
        "sif": InspectionType.SIF,
        "sif inspection": InspectionType.SIF,
        "sif re-inspection": InspectionType.SIF_REINSPECTION,
        "jtai": InspectionType.JTAI,
        "joint targeted area inspection": InspectionType.JTAI,
    }
)


@dataclass(frozen=True)
class OfstedRow:
    """One row of a table, read and checked: what it says of one inspection or visit."""

    source: PublishedLine
    ons_code: str
    la_number: str
    la_name: str  # the reference list's spelling, the same whatever a table's edition prints
    inspection_type: InspectionType
    starts_on: date
    published_on: date
    judgements: Mapping[Area, Grade | None]  # the areas the table states; None: no grade
    theme: str | None

    @property
    def inspection_id(self) -> UUID:
        return Inspection.id_for(self.ons_code, self.inspection_type, self.starts_on)

    def record(self, actor: Actor) -> Inspection:
        return Inspection.record(
            ons_code=self.ons_code,
            la_number=self.la_number,
            la_name=self.la_name,
            inspection_type=self.inspection_type,
            starts_on=self.starts_on,
            published_on=self.published_on,
            judgements=self.judgements,
            theme=self.theme,
            source=self.source,
            actor=actor,
        )

    def differences(self, inspection: Inspection) -> Differences:
        return inspection.differences(
            inspection_type=self.inspection_type,
            published_on=self.published_on,
            judgements=self.judgements,
            theme=self.theme,
            source=self.source,
        )

    def reconcile(self, inspection: Inspection, actor: Actor) -> int:
        return inspection.reconcile(
            inspection_type=self.inspection_type,
            published_on=self.published_on,
            judgements=self.judgements,
            theme=self.theme,
            source=self.source,
            actor=actor,
        )


@dataclass(frozen=True)
class OfstedTable:
    """A file as read: its rows that could be read, and why the others could not."""

    name: str
    sha256: str
    count: int  # data rows, header not counted, read or not
    # "" for a file that could not be read at all
    rows: tuple[OfstedRow, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class FileImported:
    file: str
    sha256: str
    rows: int
    recorded: int
    corrected: int
    unchanged: int


@dataclass(frozen=True)
class OfstedImport:
    """What an import did: per file, what its rows came to; or why nothing was written."""

    files: tuple[FileImported, ...]
    problems: tuple[Problem, ...]
    position: int | None  # the highest log position written, for reading one's own writes

    @property
    def imported(self) -> bool:
        return not self.problems


def read_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> OfstedTable:
    """A table from a file, its size checked before it is read."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return _unread(name, f"has {size} bytes, more than the {max_bytes} allowed")
        content = path.read_bytes()
    except OSError as error:
        return _unread(name, f"cannot be read: {error.strerror}")
    return read_table(name, content, max_bytes=max_bytes)


def read_table(name: str, content: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> OfstedTable:
    """A table from its bytes. Never raises for what the bytes hold: each thing wrong is a
    `Problem` with its line (0 the file as a whole, 1 the header)."""
    if len(content) > max_bytes:
        return _unread(name, f"has {len(content)} bytes, more than the {max_bytes} allowed")
    sha256 = hashlib.sha256(content).hexdigest()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        lines = content.split(b"\n")
        return OfstedTable(
            name,
            sha256,
            max(0, len(lines) - 1),
            (),
            tuple(
                Problem(name, number, "is not UTF-8 text: save the table as UTF-8 and try again")
                for number, line in enumerate(lines, start=1)
                if not _decodes(line)
            ),
        )
    reading = _Reading(name, sha256)
    reading.read(text)
    return OfstedTable(name, sha256, reading.count, tuple(reading.rows), tuple(reading.problems))


def import_ofsted(ledger: Trustledger, tables: Sequence[OfstedTable], actor: Actor) -> OfstedImport:
    """Record what the tables say, in their order; nothing at all if any row has a problem."""
    tables = _with_named_sub_types(tables)
    problems = [problem for table in tables for problem in _problems(table, actor)]
    if problems:
        return OfstedImport((), tuple(problems), None)
    imported = [_import_table(ledger, table, actor) for table in tables]
    positions = [position for _, position in imported if position is not None]
    return OfstedImport(tuple(done for done, _ in imported), (), max(positions, default=None))


# -- importing ---------------------------------------------------------------------------------

_RECORDED = "recorded"
_CORRECTED = "corrected"
_UNCHANGED = "unchanged"


def _import_table(
    ledger: Trustledger, table: OfstedTable, actor: Actor
) -> tuple[FileImported, int | None]:
    # Read for each table: an earlier one of the same import may have recorded its inspections.
    known = {inspection.id: inspection for inspection in ledger.inspections()}

    def take(row: OfstedRow) -> tuple[str, int | None]:
        return _take(ledger, row, known.get(row.inspection_id), actor)

    with ThreadPoolExecutor(max_workers=_IN_FLIGHT, thread_name_prefix="ofsted") as pool:
        outcomes = list(pool.map(take, table.rows))
    said = [outcome for outcome, _ in outcomes]
    done = FileImported(
        file=table.name,
        sha256=table.sha256,
        rows=table.count,
        recorded=said.count(_RECORDED),
        corrected=said.count(_CORRECTED),
        unchanged=said.count(_UNCHANGED),
    )
    return done, max((p for _, p in outcomes if p is not None), default=None)


def _problems(table: OfstedTable, actor: Actor) -> Iterator[Problem]:
    """The table's own problems, then each row the domain would refuse or that repeats one."""
    yield from table.problems
    first_line: dict[UUID, int] = {}
    for row in table.rows:
        line = row.source.line
        try:
            row.record(actor)
        except DomainError as error:
            yield Problem(table.name, line, error.detail)
            continue
        seen = first_line.setdefault(row.inspection_id, line)
        if seen != line:
            yield Problem(table.name, line, f"is the same inspection as line {seen}")


def _take(
    ledger: Trustledger, row: OfstedRow, known: Inspection | None, actor: Actor
) -> tuple[str, int | None]:
    """Record or correct the row's inspection; what that came to and the log position."""
    if known is not None and not row.differences(known):
        return _UNCHANGED, None

    def run(session: Session) -> tuple[Inspection, str]:
        inspection = session.find(row.inspection_id, Inspection)
        if inspection is None:
            return session.add(row.record(actor)), _RECORDED
        return inspection, _CORRECTED if row.reconcile(inspection, actor) else _UNCHANGED

    key = f"ofsted:{row.source.sha256}:{row.source.line}"
    outcome = ledger.execute(run, actor=actor, write=Write(idempotency_key=key, fingerprint=key))
    return (_UNCHANGED if outcome.replayed else outcome.value), outcome.position


def _with_named_sub_types(tables: Sequence[OfstedTable]) -> list[OfstedTable]:
    """The tables, with each ILACS inspection of unknown sub-type given the sub-type another of
    the tables names for the same authority and first day."""
    named = {
        (row.ons_code, row.starts_on): row.inspection_type
        for table in tables
        for row in table.rows
        if row.inspection_type in (InspectionType.ILACS_STANDARD, InspectionType.ILACS_SHORT)
    }

    def named_type(row: OfstedRow) -> OfstedRow:
        sub_type = named.get((row.ons_code, row.starts_on))
        if row.inspection_type is not InspectionType.ILACS or sub_type is None:
            return row
        return dataclasses.replace(row, inspection_type=sub_type)

    return [
        dataclasses.replace(table, rows=tuple(named_type(row) for row in table.rows))
        for table in tables
    ]


# -- reading -----------------------------------------------------------------------------------


def _unread(name: str, message: str) -> OfstedTable:
    return OfstedTable(name, "", 0, (), (Problem(name, 0, message),))


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


class _RowProblem(Exception):
    """A cell that cannot be read; the row contributes nothing."""


@dataclass
class _Reading:
    name: str
    sha256: str
    count: int = 0
    rows: list[OfstedRow] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.name, line, message))

    def read(self, text: str) -> None:
        records = tables.records(text)
        try:
            _, header = next(records, (1, []))
            if not header:
                self.problem(1, "has no header: it is empty")
                return
            columns = self._columns(header)
            for line, record in records:
                if not any(cell.strip() for cell in record):
                    continue  # a blank line, or one of bare commas as spreadsheets leave
                self.count += 1
                if columns is not None:
                    self._row(line, header, columns, record)
        except tables.NotCsv as error:
            self.problem(error.line, f"stops being CSV: {error.reason}")

    def _columns(self, header: list[str]) -> dict[str, int] | None:
        """Where each known column is; None (and the problems) if one needed is missing."""
        columns: dict[str, int] = {}
        if any(len(title) > MAX_CELL_CHARS for title in header):
            self.problem(1, f"has a column name longer than {MAX_CELL_CHARS} characters")
            return None
        trusted = True
        for index, title in enumerate(header):
            name = _SPELLINGS.get(_plain(title))
            if name is None:
                continue
            if name in columns:
                first = header[columns[name]]
                self.problem(1, f"has two columns for {_title(name)}: {first!r} and {title!r}")
                trusted = False
            columns[name] = index
        missing = [_title(name) for name in _REQUIRED if name not in columns]
        if Area.CHILDREN_IN_CARE not in columns and (
            Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS not in columns
        ):
            missing.append(_title(Area.CHILDREN_IN_CARE))
        if missing:
            self.problem(1, f"has no column {', '.join(repr(name) for name in missing)}")
            trusted = False
        return columns if trusted else None

    def _row(
        self, line: int, header: list[str], columns: dict[str, int], record: list[str]
    ) -> None:
        if len(record) != len(header):
            self.problem(line, f"has {len(record)} fields, the header {len(header)}")
            return
        for title, cell in zip(header, record, strict=True):
            if len(cell) > MAX_CELL_CHARS:
                self.problem(
                    line, f"{title!r} has {len(cell)} characters, more than {MAX_CELL_CHARS}"
                )
                return
        row = self._checked(line, {name: record[i].strip() for name, i in columns.items()})
        if row is not None:
            self.rows.append(row)

    def _checked(self, line: int, cells: Mapping[str, str]) -> OfstedRow | None:
        """The row, or None once every unreadable cell of it is a problem."""
        read = _Cells(cells)
        ons_code, la_number, la_name = read(_LA_CODE, _authority, ("", "", ""))
        read(_LA_NAME, _name, "")
        starts_on = read(_STARTS_ON, _date, date.min)
        published_on = read(_PUBLISHED_ON, _date, date.min)
        # The latest-per-LA table has no type column: each of its rows is an ILACS inspection.
        inspection_type = read(_TYPE, _type, InspectionType.ILACS)
        theme = read(_THEME, _text, "")
        grades = {area: read(area, _grade, None) for area in Area if area in cells}
        apart = judges_care_leavers_apart(inspection_type, starts_on)
        judgements: dict[Area, Grade | None] = {}
        for area, grade in grades.items():
            # The tables print ILACS's combined judgement before 2023 as "children in care".
            stated = area if area is not Area.CHILDREN_IN_CARE or apart else _COMBINED
            given = judgements.get(stated)
            if given is not None and grade is not None and grade is not given:
                read.errors.append(f"gives {stated} as both {given} and {grade}")
            judgements[stated] = given or grade
        for error in read.errors:
            self.problem(line, error)
        if read.errors:
            return None
        return OfstedRow(
            source=PublishedLine(self.name, self.sha256, line),
            ons_code=ons_code,
            la_number=la_number,
            la_name=la_name,
            inspection_type=inspection_type,
            starts_on=starts_on,
            published_on=published_on,
            judgements=judgements,
            theme=theme or None,
        )


class _Cells:
    """A row's cells by column, read one by one; what could not be read is kept in `errors`."""

    def __init__(self, cells: Mapping[str, str]) -> None:
        self.cells = cells
        self.errors: list[str] = []

    def __call__(self, name: str, parse: Callable[[str], T], absent: T) -> T:
        """The cell read by `parse`; `absent` if the table has no such column or it is
        unreadable (then the row is refused, so that value is never used)."""
        if name not in self.cells:
            return absent
        try:
            return parse(self.cells[name])
        except _RowProblem as error:
            self.errors.append(f"{_title(name)}: {error}")
            return absent


_COMBINED = Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS


def _title(name: str) -> str:
    return _COLUMNS[name][0]


def _authority(code: str) -> tuple[str, str, str]:
    found = local_authorities().find(code)
    if found is None or found.ons_code is None:
        raise _RowProblem(f"{code!r} is not a local authority in the reference list")
    return found.ons_code, found.la_number, found.name


def _text(text: str) -> str:
    if text.startswith(_FORMULA_START):
        raise _RowProblem(f"starts with {text[0]!r}, as a spreadsheet formula does")
    if any(unicodedata.category(character) == "Cc" for character in text):
        raise _RowProblem("holds a control character")
    return text


def _name(text: str) -> str:
    if not text:
        raise _RowProblem("is empty")
    return _text(text)


def _date(text: str) -> date:
    uk = _UK_DATE.fullmatch(text)
    try:
        if uk is not None:
            return date(int(uk[3]), int(uk[2]), int(uk[1]))
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise _RowProblem(f"{text!r} is not a date (2025-03-31 or 31/03/2025)")


def _grade(text: str) -> Grade | None:
    if not text:
        return None
    grade = _GRADES.get(_plain(text))
    if grade is None:
        raise _RowProblem(f"{text!r} is not one of Ofsted's grades")
    return grade


def _type(text: str) -> InspectionType:
    found = _TYPES.get(_plain(text))
    if found is None:
        raise _RowProblem(f"{text!r} is not a type of inspection or visit this reader knows")
    return found
