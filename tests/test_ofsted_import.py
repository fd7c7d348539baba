"""Specifications of `trustledger import ofsted` (api/ofsted.py) on both stores: Ofsted's own
tables (../shared/data/ofsted) reproduce its latest-per-LA table, importing again writes
nothing, a newer edition records only what it changes, and a bad or hostile file is refused
whole, every bad row reported by its line.

Expected figures are Ofsted's, "Local authority inspection outcomes as at 31 March 2025": 153
authorities, 67 good, 36 outstanding, 31 requiring improvement, 19 inadequate.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from api.cli import main
from api.directory import SYSTEM, add_admin
from api.local_authorities import REFERENCE_FILE, local_authorities
from api.ofsted import OfstedImport, OfstedTable, import_ofsted, read_file, read_table
from api.settings import Settings
from domain.actor import Actor, Role
from domain.application import Trustledger
from domain.inspection import Area, Grade, Inspection, InspectionType, latest_inspections

SHARED_OFSTED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ofsted"
LATEST = SHARED_OFSTED / "la_inspection_outcomes_2025_latest_per_la.csv"
IN_YEAR = SHARED_OFSTED / "la_inspection_outcomes_2025_in_year_2024_25_visits.csv"
ADMIN = Actor(user_id="admin-1", organisation_id="operator", role=Role.ADMIN)
# A change to a table's header and rows, made in place.
Edit = Callable[[list[str], list[list[str]]], None]

# Lines of the latest-per-LA table (the header is line 1).
BIRMINGHAM_LINE = 8
SANDWELL_LINE = 108
STAFFORDSHIRE_LINE = 121
CARE_LEAVERS = "The experiences and progress of care leavers"
OVERALL = "Overall effectiveness"


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    yield ledger
    ledger.close()


def imported(ledger: Trustledger, *tables: OfstedTable, actor: Actor = SYSTEM) -> OfstedImport:
    return import_ofsted(ledger, list(tables), actor)


def as_at_31_march_2025(ledger: Trustledger) -> list[Inspection]:
    return latest_inspections(
        ledger.inspections(), inspected_by=date(2025, 3, 31), published_by=date(2025, 6, 30)
    )


def table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        header, *rows = csv.reader(file)
    return header, rows


def csv_bytes(header: list[str], rows: list[list[str]], *, bom: bool = False) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def latest_edited(edit: Edit) -> OfstedTable:
    """The latest-per-LA table after `edit` has changed its header or rows in place."""
    header, rows = table(LATEST)
    edit(header, rows)
    return read_table("edited.csv", csv_bytes(header, rows))


def set_cell(line: int, column: str, value: str) -> Edit:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        rows[line - 2][header.index(column)] = value

    return edit


# -- the reference list of local authorities -----------------------------------------------------


def test_the_shipped_reference_list_is_the_shared_one_byte_for_byte() -> None:
    shared = SHARED_OFSTED.parent / "reference" / "provider_data_lookup.csv"

    assert REFERENCE_FILE.read_bytes() == shared.read_bytes()


def test_an_authority_is_found_by_dfe_number_or_ons_code() -> None:
    authorities = local_authorities()
    sandwell = authorities.find("333")

    assert sandwell is not None
    assert authorities.find("E08000028") is sandwell
    assert (sandwell.name, sandwell.region, sandwell.ofsted_urn) == (
        "Sandwell",
        "West Midlands",
        "80549",
    )
    assert len(authorities) == 156  # 153 today, and Cumbria, Northamptonshire and Poole
    cumbria = authorities.find("909")
    assert cumbria is not None
    assert cumbria.ons_code is None
    assert authorities.find("E09999999") is None


# -- Ofsted's own tables -------------------------------------------------------------------------


def test_ofsteds_tables_reproduce_its_latest_judgement_per_local_authority(
    ledger: Trustledger,
) -> None:
    report = imported(ledger, read_file(LATEST), read_file(IN_YEAR))

    assert report.imported
    latest, in_year = report.files
    assert (latest.rows, latest.recorded, latest.corrected, latest.unchanged) == (153, 153, 0, 0)
    # The year's 52 inspections are the latest table's too: only the 60 visits are new.
    assert (in_year.rows, in_year.recorded, in_year.corrected, in_year.unchanged) == (
        112,
        60,
        0,
        52,
    )
    as_at = as_at_31_march_2025(ledger)
    assert len(as_at) == 153
    assert Counter(i.judgements[Area.OVERALL_EFFECTIVENESS] for i in as_at) == {
        Grade.GOOD: 67,
        Grade.OUTSTANDING: 36,
        Grade.REQUIRES_IMPROVEMENT: 31,
        Grade.INADEQUATE: 19,
    }


def test_the_in_year_table_names_the_ilacs_sub_type_the_latest_table_cannot(
    ledger: Trustledger,
) -> None:
    imported(ledger, read_file(LATEST), read_file(IN_YEAR))
    kinds = Counter(i.inspection_type for i in ledger.inspections())

    assert kinds == {
        InspectionType.ILACS: 101,  # inspected before April 2024: the sub-type is not published
        InspectionType.ILACS_SHORT: 30,
        InspectionType.ILACS_STANDARD: 22,
        InspectionType.FOCUSED_VISIT: 36,
        InspectionType.MONITORING_VISIT: 24,
    }


def test_a_sub_type_learnt_from_a_later_import_is_a_correction(ledger: Trustledger) -> None:
    imported(ledger, read_file(LATEST))

    report = imported(ledger, read_file(IN_YEAR))

    [in_year] = report.files
    assert (in_year.recorded, in_year.corrected, in_year.unchanged) == (60, 52, 0)
    corrected = [i for i in ledger.inspections() if i.corrections]
    assert len(corrected) == 52
    assert {c.subject for i in corrected for c in i.corrections} == {"inspection_type"}


def test_sandwell_and_birmingham_as_ofsted_published_them(ledger: Trustledger) -> None:
    imported(ledger, read_file(LATEST), read_file(IN_YEAR))

    sandwell = ledger.inspections("E08000028")
    birmingham = ledger.inspections("E08000025")

    ilacs_2022, visit = sandwell
    assert ilacs_2022.starts_on == date(2022, 5, 9)
    assert ilacs_2022.published_on == date(2022, 7, 5)
    # Before 2023: one judgement of children in care and care leavers, kept as such.
    assert ilacs_2022.judgements == {
        Area.OVERALL_EFFECTIVENESS: Grade.REQUIRES_IMPROVEMENT,
        Area.IMPACT_OF_LEADERS: Grade.REQUIRES_IMPROVEMENT,
        Area.HELP_AND_PROTECTION: Grade.REQUIRES_IMPROVEMENT,
        Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS: Grade.REQUIRES_IMPROVEMENT,
    }
    assert ilacs_2022.source.line == SANDWELL_LINE
    assert ilacs_2022.la_number == "333"
    assert (visit.inspection_type, visit.theme, visit.judgements) == (
        InspectionType.FOCUSED_VISIT,
        "Front door",
        {},
    )
    ilacs_2023 = birmingham[0]
    assert ilacs_2023.starts_on == date(2023, 2, 20)
    assert set(ilacs_2023.judgements) == set(Area) - {Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS}
    assert set(ilacs_2023.judgements.values()) == {Grade.GOOD}


def test_importing_the_same_files_again_writes_nothing(ledger: Trustledger) -> None:
    imported(ledger, read_file(LATEST), read_file(IN_YEAR))
    head = ledger.recorder.max_notification_id()

    report = imported(ledger, read_file(LATEST), read_file(IN_YEAR), actor=ADMIN)

    assert [f.unchanged for f in report.files] == [153, 112]
    assert [f.recorded + f.corrected for f in report.files] == [0, 0]
    assert report.position is None
    assert ledger.recorder.max_notification_id() == head


def test_a_newer_edition_records_only_the_judgement_it_changed_and_keeps_both(
    ledger: Trustledger,
) -> None:
    # The earlier edition gave Staffordshire's care leavers good; Ofsted's 2025 table says
    # requires improvement to be good.
    earlier = latest_edited(set_cell(STAFFORDSHIRE_LINE, CARE_LEAVERS, "Good"))
    imported(ledger, earlier, actor=ADMIN)
    head = ledger.recorder.max_notification_id()
    assert head is not None

    report = imported(ledger, read_file(LATEST), actor=ADMIN)

    [newer] = report.files
    assert (newer.recorded, newer.corrected, newer.unchanged) == (0, 1, 152)
    assert ledger.recorder.max_notification_id() == head + 1
    [staffordshire] = ledger.inspections("E10000028")
    assert staffordshire.judgements[Area.CARE_LEAVERS] is Grade.REQUIRES_IMPROVEMENT
    [correction] = staffordshire.corrections
    assert (correction.subject, correction.previous, correction.value) == (
        "care_leavers",
        "good",
        "requires_improvement",
    )
    assert correction.source.file == LATEST.name
    assert correction.source.line == STAFFORDSHIRE_LINE
    assert correction.actor == ADMIN
    assert staffordshire.source.file == "edited.csv"
    first = ledger.get(staffordshire.id, Inspection, version=1)
    assert first.judgements[Area.CARE_LEAVERS] is Grade.GOOD

    # Reading the earlier edition again does not bring its value back.
    again = imported(ledger, earlier)
    assert again.files[0].unchanged == 153
    assert ledger.recorder.max_notification_id() == head + 1


def test_columns_are_read_by_name_in_any_order_with_or_without_a_byte_order_mark(
    ledger: Trustledger,
) -> None:
    header, rows = table(LATEST)
    order = list(reversed(range(len(header))))
    reordered = read_table(
        "reordered.csv",
        csv_bytes([header[i] for i in order], [[row[i] for i in order] for row in rows], bom=True),
    )

    report = imported(ledger, reordered)

    assert report.imported
    assert report.files[0].recorded == 153
    assert imported(ledger, read_file(LATEST)).files[0].unchanged == 153
    assert len(as_at_31_march_2025(ledger)) == 153


# -- bad and hostile files -------------------------------------------------------------------------


def drop_column(name: str) -> Edit:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        index = header.index(name)
        del header[index]
        for row in rows:
            del row[index]

    return edit


def rename_column(name: str, new_name: str) -> Edit:
    def edit(header: list[str], _: list[list[str]]) -> None:
        header[header.index(name)] = new_name

    return edit


def add_column(name: str) -> Edit:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        header.append(name)
        for row in rows:
            row.append("")

    return edit


def several(
    *edits: Edit,
) -> Edit:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        for each in edits:
            each(header, rows)

    return edit


def truncated() -> OfstedTable:
    """The file cut off part way through its last row, as an interrupted download is."""
    content = LATEST.read_bytes()
    # York's, the last row, stops after its overall effectiveness.
    cut = content.rindex(b",Outstanding" * 4)
    return read_table("truncated.csv", content[:cut])


def latin_1() -> OfstedTable:
    """Two names with an accent, saved as Latin-1 rather than UTF-8."""
    header, rows = table(LATEST)
    rows[BIRMINGHAM_LINE - 2][2] = "Birmingham Cité"
    rows[SANDWELL_LINE - 2][2] = "Sandwell Métropole"
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return read_table("latin-1.csv", out.getvalue().encode("latin-1"))


def in_year_edited(line: int, column: str, value: str) -> OfstedTable:
    header, rows = table(IN_YEAR)
    rows[line - 2][header.index(column)] = value
    return read_table("in-year-edited.csv", csv_bytes(header, rows))


HOSTILE: dict[str, tuple[Callable[[], OfstedTable], list[tuple[int, str]]]] = {
    "a truncated row": (truncated, [(154, "has 7 fields, the header 11")]),
    "a missing column": (
        lambda: latest_edited(drop_column("Publication date")),
        [(1, "has no column 'Publication date'")],
    ),
    "a grade outside Ofsted's": (
        lambda: latest_edited(set_cell(SANDWELL_LINE, OVERALL, "Excellent")),
        [(SANDWELL_LINE, "Overall effectiveness: 'Excellent' is not one of Ofsted's grades")],
    ),
    "a date that is not one": (
        lambda: latest_edited(set_cell(SANDWELL_LINE, "Inspection date", "2022-02-30")),
        [(SANDWELL_LINE, "Inspection date: '2022-02-30' is not a date")],
    ),
    "an unknown local authority": (
        lambda: latest_edited(set_cell(SANDWELL_LINE, "Local authority area code", "E08999999")),
        [(SANDWELL_LINE, "'E08999999' is not a local authority in the reference list")],
    ),
    "a formula in a name": (
        lambda: latest_edited(
            set_cell(SANDWELL_LINE, "Local authority name", "=cmd|' /C calc'!A0")
        ),
        [(SANDWELL_LINE, "Local authority name: starts with '=', as a spreadsheet formula does")],
    ),
    "a 10,000-character cell": (
        lambda: latest_edited(set_cell(BIRMINGHAM_LINE, "Ofsted region", "W" * 10_000)),
        [(BIRMINGHAM_LINE, "'Ofsted region' has 10000 characters, more than 200")],
    ),
    "a file in Latin-1": (
        latin_1,
        [(BIRMINGHAM_LINE, "is not UTF-8 text"), (SANDWELL_LINE, "is not UTF-8 text")],
    ),
    "every bad row of several": (
        lambda: latest_edited(
            several(
                set_cell(BIRMINGHAM_LINE, OVERALL, "Satisfactory"),
                set_cell(SANDWELL_LINE, "Publication date", "5 July 2022"),
                set_cell(STAFFORDSHIRE_LINE, "Local authority area code", ""),
            )
        ),
        [
            (BIRMINGHAM_LINE, "'Satisfactory' is not one of Ofsted's grades"),
            (SANDWELL_LINE, "Publication date: '5 July 2022' is not a date"),
            (STAFFORDSHIRE_LINE, "'' is not a local authority in the reference list"),
        ],
    ),
    "a care leavers judgement apart before 2023": (
        lambda: latest_edited(set_cell(SANDWELL_LINE, CARE_LEAVERS, "Good")),
        [(SANDWELL_LINE, "care_leavers is judged apart only by inspections begun from 1 Jan")],
    ),
    "a grade on a visit": (
        # Sandwell's focused visit of 30 October 2024 is line 77 of the in-year table.
        lambda: in_year_edited(77, OVERALL, "Good"),
        [(77, "a focused_visit grades nothing")],
    ),
    "a visit without its theme": (
        lambda: in_year_edited(77, "Visit Theme", ""),
        [(77, "a focused_visit is recorded with its theme")],
    ),
    "a control character in a theme": (
        lambda: in_year_edited(77, "Visit Theme", "Front\x00door"),
        [(77, "Visit Theme: holds a control character")],
    ),
    "a type this reader does not know": (
        lambda: in_year_edited(77, "Inspection/Visit type", "Inspection of SEND"),
        [(77, "'Inspection of SEND' is not a type of inspection or visit")],
    ),
    "the same inspection twice": (
        lambda: latest_edited(lambda _, rows: rows.append(list(rows[SANDWELL_LINE - 2]))),
        [(155, f"is the same inspection as line {SANDWELL_LINE}")],
    ),
    "published before it began": (
        lambda: latest_edited(set_cell(SANDWELL_LINE, "Publication date", "2022-05-01")),
        [(SANDWELL_LINE, "cannot be published before, on 2022-05-01")],
    ),
    "a repeated column": (
        lambda: latest_edited(add_column(OVERALL.upper())),
        [(1, "has two columns for Overall effectiveness")],
    ),
    "a 10,000-character column name": (
        lambda: latest_edited(rename_column("Web link", "W" * 10_000)),
        [(1, "has a column name longer than 200 characters")],
    ),
    "an empty file": (lambda: read_table("empty.csv", b""), [(1, "has no header")]),
    "a file too large": (
        lambda: read_table("large.csv", LATEST.read_bytes(), max_bytes=1_000),
        [(0, "more than the 1000 allowed")],
    ),
    "text that stops being CSV": (
        lambda: read_table("quote.csv", LATEST.read_bytes() + b'x,"unclosed\n'),
        [(155, "stops being CSV")],
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_bad_file_is_refused_whole_with_every_bad_row_by_its_line(
    ledger: Trustledger, case: str
) -> None:
    make, expected = HOSTILE[case]

    report = imported(ledger, make())

    assert not report.imported
    assert report.files == ()
    found = [(problem.line, problem.message) for problem in report.problems]
    assert len(found) == len(expected), found
    for (line, message), (wanted_line, wanted) in zip(found, expected, strict=True):
        assert line == wanted_line, found
        assert wanted in message, found
    assert ledger.recorder.max_notification_id() is None


def test_a_bad_file_stops_the_good_ones_imported_with_it(ledger: Trustledger) -> None:
    bad = latest_edited(set_cell(SANDWELL_LINE, OVERALL, "Excellent"))

    report = imported(ledger, read_file(IN_YEAR), bad)

    assert [(p.file, p.line) for p in report.problems] == [("edited.csv", SANDWELL_LINE)]
    assert ledger.recorder.max_notification_id() is None


def test_a_file_that_cannot_be_read_is_a_problem_not_an_error(tmp_path: Path) -> None:
    absent = read_file(tmp_path / "absent.csv")

    [problem] = absent.problems
    assert (problem.file, problem.line) == ("absent.csv", 0)
    assert "cannot be read" in problem.message


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger under tmp_path for `main`."""
    monkeypatch.setenv("TRUSTLEDGER_VAR_DIR", str(tmp_path))
    return tmp_path


def test_the_command_imports_as_an_admin_and_reports_each_file(
    command_line: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = Trustledger(Settings().ledger_env())
    try:
        admin_id = add_admin(ledger, "admin@operator.test", "Operator", "a long passphrase")
    finally:
        ledger.close()

    status = main(["import", "ofsted", str(LATEST), str(IN_YEAR), "--as", "admin@operator.test"])

    assert status == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{LATEST.name}: 153 rows, 153 recorded, 0 corrected, 0 unchanged",
        f"{IN_YEAR.name}: 112 rows, 60 recorded, 0 corrected, 52 unchanged",
    ]
    ledger = Trustledger(Settings().ledger_env())
    try:
        [sandwell, _] = ledger.inspections("E08000028")
        first = ledger.get(sandwell.id, Inspection, version=1)
        recorded = ledger.repository.event_store.get(sandwell.id)
        assert first.source.line == SANDWELL_LINE
        assert [event.actor.user_id for event in recorded] == [str(admin_id)]
    finally:
        ledger.close()


def test_the_command_lists_every_problem_and_exits_1_having_written_nothing(
    command_line: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = command_line / "bad.csv"
    header, rows = table(LATEST)
    rows[SANDWELL_LINE - 2][header.index(OVERALL)] = "Excellent"
    bad.write_bytes(csv_bytes(header, rows))

    status = main(["import", "ofsted", str(IN_YEAR), str(bad)])

    assert status == 1
    assert capsys.readouterr().out.splitlines() == [
        "nothing imported, because of these problems:",
        f"bad.csv line {SANDWELL_LINE}: Overall effectiveness: 'Excellent' is not one of "
        "Ofsted's grades",
    ]
    ledger = Trustledger(Settings().ledger_env())
    try:
        assert ledger.inspections() == []
    finally:
        ledger.close()
