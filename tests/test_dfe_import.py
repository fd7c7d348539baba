"""Specifications of `trustledger import dfe` (api/dfe_import.py) and of the benchmarks read from
what it records, on both stores: DfE's own files (../shared/data/dfe) become one publication
per table, importing again writes nothing, a new edition records exactly what it changed, a bad
or hostile file is refused whole with every problem by its line, and Sandwell's 2025 figures
stand beside England's, the West Midlands' and its statistical neighbours' median.

The expected neighbour medians are worked out here from the files themselves (the 2025 model
and the DfE tables, read with the csv module), not by the code under test.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from api.benchmarks import Recomputation, benchmark
from api.cli import main
from api.dfe import file_stem
from api.dfe_import import Outcome, import_dfe
from api.directory import SYSTEM, add_admin
from api.local_authorities import LocalAuthority, local_authorities
from api.routers.dashboards import KpiBenchmarks
from api.settings import Settings
from api.statistical_neighbours import MODEL_FILE, NEIGHBOURS, statistical_neighbours
from domain.actor import Actor, Role
from domain.application import Trustledger
from domain.publication import Change, Figure, Level, Publication
from tests.conftest import STORES, settings_for

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED_DFE = SHARED / "dfe"
EVERY_FILE = sorted(SHARED_DFE.glob("*.csv"))
C1 = SHARED_DFE / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
C1_2026 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2026.csv"
D3 = SHARED_DFE / "d3_cpps_subsequent_plan_2013_to_2025.csv"
B1 = SHARED_DFE / "b1_children_in_need_2013_to_2025.csv"
ADOPTION = "national_cla_adopted_average_time_between_adoption_process_stages.csv"
ADMIN = Actor(user_id="admin-1", organisation_id="operator", role=Role.ADMIN)
OTHER_ADMIN = Actor(user_id="admin-2", organisation_id="operator", role=Role.ADMIN)
SANDWELL_2025_LINE = 79  # of c1: "2025,Reporting year,Local authority,...,333,E08000028,Sandwell"
WEST_MIDLANDS = "E12000005"

# Per file, the catalogue values it holds and its mismatches (beyond the counts' rounding).
EXPECTED = {
    "b1_children_in_need_2013_to_2025.csv": (821, 0, 0),
    C1.name: (2132, 6, 0),
    "cla_number_and_rate_per_10k_children.csv": (835, 2, 0),
    "csww_indicators_2017_to_2025.csv": (5852, 249, 9),
    D3.name: (2132, 66, 2),
    "d5_cpps_at31march_by_duration_2013_to_2025.csv": (2132, 86, 0),
    "la_care_leavers_accommodation_suitability.csv": (835, 8, 0),
    "la_care_leavers_activity.csv": (835, 3, 0),
    "la_cla_placement_stability.csv": (1670, 7, 0),
}


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    yield ledger
    ledger.close()


@pytest.fixture(scope="module", params=STORES)
def everything(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Trustledger]:
    """A ledger per store with every shared DfE file imported once, for the specs that read."""
    for settings in settings_for(request.param, tmp_path_factory.mktemp(request.param)):
        ledger = Trustledger(settings.ledger_env())
        try:
            assert import_dfe(ledger, EVERY_FILE, SYSTEM).imported
            yield ledger
        finally:
            ledger.close()


def table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        header, *rows = csv.reader(file)
    return header, rows


def written(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    return path


def c1_edited(directory: Path, edit: Callable[[list[str], list[list[str]]], None]) -> Path:
    """c1 after `edit` changed its header or rows in place, under c1's own name."""
    header, rows = table(C1)
    edit(header, rows)
    return written(directory / C1.name, header, rows)


def sandwell_2025(header: list[str], rows: list[list[str]]) -> list[str]:
    row = rows[SANDWELL_2025_LINE - 2]
    assert (row[0], row[header.index("old_la_code")]) == ("2025", "333")
    return row


# -- DfE's own files ---------------------------------------------------------------------------


def test_the_shipped_neighbour_model_is_the_shared_one_byte_for_byte() -> None:
    shared = SHARED / "reference" / "sn_model_2025_wide.csv"

    assert MODEL_FILE.read_bytes() == shared.read_bytes()
    model = statistical_neighbours()
    assert len(model) == 153
    assert all(len(neighbours) == NEIGHBOURS for neighbours in model.values())
    listed = {n.la_number for neighbours in model.values() for n in neighbours} | set(model)
    assert all(local_authorities().find(number) is not None for number in listed)
    assert [n.la_number for n in model["333"]] == [
        "336", "810", "861", "335", "354", "380", "806", "331", "353", "821",
    ]  # fmt: skip
    assert model["333"][0].closeness == "Very close"


def test_every_dfe_file_is_imported_as_one_publication_per_table(ledger: Trustledger) -> None:
    report = import_dfe(ledger, EVERY_FILE, ADMIN)

    assert report.imported
    found = {
        done.file: (done.values, done.mismatches, done.beyond_count_rounding)
        for done in report.files
        if done.outcome is Outcome.RECORDED
    }
    assert found == EXPECTED
    [skipped] = [done for done in report.files if done.outcome is Outcome.SKIPPED]
    assert (skipped.file, skipped.rows, skipped.values) == (ADOPTION, 315, 0)
    assert ledger.recorder.max_notification_id() == report.position == len(EXPECTED)
    c1 = ledger.get(Publication.id_for(file_stem(C1.name)), Publication)
    [imported] = ledger.repository.event_store.get(c1.id)
    assert isinstance(imported, Publication.Imported)
    assert (imported.file, imported.rows, imported.actor) == (C1.name, 2132, ADMIN)
    assert imported.sha256 == next(d.sha256 for d in report.files if d.file == C1.name)
    assert len(ledger.published_figures()) == sum(values for values, _, _ in EXPECTED.values())


def test_importing_the_same_files_again_writes_nothing_whoever_does_it(
    ledger: Trustledger,
) -> None:
    import_dfe(ledger, EVERY_FILE, ADMIN)
    head = ledger.recorder.max_notification_id()

    by_the_same = import_dfe(ledger, EVERY_FILE, ADMIN)
    by_another = import_dfe(ledger, EVERY_FILE, OTHER_ADMIN)

    for report in (by_the_same, by_another):
        assert {done.outcome for done in report.files} == {Outcome.UNCHANGED, Outcome.SKIPPED}
        assert report.position is None
    assert ledger.recorder.max_notification_id() == head


def test_a_new_edition_records_exactly_the_value_it_changed_and_the_row_it_added(
    ledger: Trustledger, tmp_path: Path
) -> None:
    import_dfe(ledger, [C1], ADMIN)
    head = ledger.recorder.max_notification_id()
    assert head is not None
    header, rows = table(C1)
    sandwell = sandwell_2025(header, rows)
    percent = header.index("rereferral_percent")
    rows.append(["2026", *sandwell[1:]])
    # A misprint: the counts still give 22.7.
    sandwell[percent] = "23.0"
    edition = written(tmp_path / C1_2026, header, rows)

    report = import_dfe(ledger, [edition], ADMIN)

    [done] = report.files
    assert (done.outcome, done.added, done.removed, done.changed) == (Outcome.RESTATED, 1, 0, 1)
    assert (done.rows, done.values) == (2133, 2133)
    assert ledger.recorder.max_notification_id() == head + 1
    publication = ledger.get(Publication.id_for(file_stem(C1_2026)), Publication)
    _, restated = ledger.repository.event_store.get(publication.id)
    assert isinstance(restated, Publication.Restated)
    was = Figure(
        "rereferrals_12m", 2025, Level.LOCAL_AUTHORITY, "E08000028", "333", WEST_MIDLANDS, "22.7",
        "844", "3723",
    )  # fmt: skip
    assert [Change.restored(change) for change in restated.changed] == [
        Change(was, was._replace(value="23.0"))
    ]
    assert [Figure.restored(figure) for figure in restated.added] == [was._replace(year=2026)]
    assert restated.removed == []
    assert (restated.file, restated.actor) == (C1_2026, ADMIN)
    # The misprint is reported beside the value, not hidden and not corrected.
    found = benchmark(ledger.published_figures(), sandwell_la(), "rereferrals_12m", 2025)
    assert found.value is not None
    assert found.value.published.figure.value == "23.0"
    assert found.value.recomputation is Recomputation.DIFFERS
    assert found.value.recomputed == Decimal("22.7")
    assert (
        benchmark(ledger.published_figures(), sandwell_la(), "rereferrals_12m", None).year == 2026
    )


def test_the_figures_are_read_again_only_after_an_import(
    ledger: Trustledger, tmp_path: Path
) -> None:
    import_dfe(ledger, [C1], ADMIN)
    first = ledger.published_figures()

    add_admin(ledger, "admin@operator.test", "Operator", "a long passphrase")
    assert ledger.published_figures() is first

    folded_by = ledger.recorder.max_notification_id()
    import_dfe(ledger, [D3], ADMIN)
    # A read showing the log before the import needs nothing the import brought.
    assert ledger.published_figures(known_by=folded_by) is first
    again = ledger.published_figures(known_by=ledger.recorder.max_notification_id())
    assert again is not first
    assert len(again) == len(first) + EXPECTED[D3.name][0]
    assert ledger.published_figures() is again


def test_a_contracts_benchmarks_are_kept_until_an_import_changes_the_figures(
    ledger: Trustledger, tmp_path: Path
) -> None:
    import_dfe(ledger, [C1], ADMIN)
    benchmarks = KpiBenchmarks(size=8)
    latest = (("rereferrals_12m", date(2025, 3, 31)),)

    first = benchmarks.of(ledger.published_figures(), "333", latest)
    again = benchmarks.of(ledger.published_figures(), "333", latest)

    assert first["rereferrals_12m"].authority == Decimal("22.7")
    assert again["rereferrals_12m"] is first["rereferrals_12m"]
    header, rows = table(C1)
    sandwell_2025(header, rows)[header.index("rereferral_percent")] = "23.0"
    import_dfe(ledger, [written(tmp_path / C1_2026, header, rows)], ADMIN)
    restated = benchmarks.of(ledger.published_figures(), "333", latest)
    assert restated["rereferrals_12m"].authority == Decimal("23.0")


# -- bad and hostile files -------------------------------------------------------------------------


def set_cell(column: str, value: str) -> Callable[[list[str], list[list[str]]], None]:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        sandwell_2025(header, rows)[header.index(column)] = value

    return edit


def drop_column(column: str) -> Callable[[list[str], list[list[str]]], None]:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        index = header.index(column)
        for row in [header, *rows]:
            del row[index]

    return edit


HOSTILE: dict[str, tuple[Callable[[Path], list[Path]], list[tuple[str, int, str]]]] = {
    "a year that is not one": (
        lambda tmp: [c1_edited(tmp, set_cell("time_period", "2O25"))],
        [(C1.name, SANDWELL_2025_LINE, "time_period '2O25' ('Reporting year') is not a report")],
    ),
    "a missing column": (
        lambda tmp: [c1_edited(tmp, drop_column("rereferral_count"))],
        [(C1.name, 1, "has no column rereferral_count")],
    ),
    "a formula in a name": (
        lambda tmp: [c1_edited(tmp, set_cell("la_name", "=cmd|' /C calc'!A0"))],
        [(C1.name, SANDWELL_2025_LINE, "la_name starts with '=', as a spreadsheet formula does")],
    ),
    "a count that is not one": (
        lambda tmp: [c1_edited(tmp, set_cell("referral_count", "3,723"))],
        [(C1.name, SANDWELL_2025_LINE, "referral_count '3,723' is neither a whole count")],
    ),
    "a bad file stops a good one": (
        lambda tmp: [D3, c1_edited(tmp, set_cell("region_code", "West Midlands"))],
        [(C1.name, SANDWELL_2025_LINE, "region_code 'West Midlands' is not a region's ONS code")],
    ),
    "a table whose rate needs another not given": (
        lambda _: [B1],
        [(B1.name, 0, "cin_rate_per_10k needs cla_number_and_rate_per_10k_children, not given")],
    ),
    "two editions of one table": (
        lambda tmp: [C1, written(tmp / C1_2026, *table(C1))],
        [(C1_2026, 0, f"is an edition of the same table as {C1.name}")],
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_bad_file_is_refused_whole_with_every_problem_by_its_line(
    ledger: Trustledger, tmp_path: Path, case: str
) -> None:
    make, expected = HOSTILE[case]

    report = import_dfe(ledger, make(tmp_path), ADMIN)

    assert not report.imported
    assert report.files == ()
    found = [(p.file, p.line, p.message) for p in report.problems]
    assert len(found) == len(expected), found
    for (file, line, message), (wanted_file, wanted_line, wanted) in zip(
        found, expected, strict=True
    ):
        assert (file, line) == (wanted_file, wanted_line), found
        assert wanted in message, found
    assert ledger.recorder.max_notification_id() is None


# -- benchmarks ----------------------------------------------------------------------------------

# Where each of the README's Sandwell 2025 examples is published: file, the rows' filters, the
# value column; and the figure with its counts.
README_EXAMPLES = {
    "rereferrals_12m": (
        C1.name,
        {"category": "Referrals and Re-referrals"},
        "rereferral_percent",
        ("22.7", 844, 3723),
    ),
    "cpp_second_or_subsequent": (
        D3.name,
        {"category": "Child Protection Plans which are a second or subsequent plan"},
        "CPP_subsequent_percent",
        ("30.9", 129, 418),
    ),
    "cpp_2_years_plus": (
        "d5_cpps_at31march_by_duration_2013_to_2025.csv",
        {"category": "Child Protection Plans by length of time"},
        "2_years_or_more_percent",
        ("3.4", 12, 357),
    ),
    "cla_long_term_stability": (
        "la_cla_placement_stability.csv",
        {
            "cla_group": "Children looked after continuously for at least 2.5 years on 31 March "
            "aged under 16 years",
            "placement_stability": "Living with the same carer for at least 2 years",
        },
        "children_percent",
        ("63", 240, 380),
    ),
}


def sandwell_la() -> LocalAuthority:
    found = local_authorities().find("333")
    assert found is not None
    return found


def published_2025(indicator: str) -> dict[str, str]:
    """The 2025 values of the indicator as the file prints them, by LA number, and by ONS code
    for England and the regions."""
    name, filters, column, _ = README_EXAMPLES[indicator]
    with (SHARED_DFE / name).open(encoding="utf-8-sig", newline="") as file:
        rows = [
            row
            for row in csv.DictReader(file)
            if row["time_period"] == "2025" and all(row[k] == v for k, v in filters.items())
        ]
    by_place = {}
    for row in rows:
        level = row["geographic_level"]
        place = {
            "National": row["country_code"],
            "Regional": row["region_code"],
            "Local authority": row["old_la_code"],
        }[level]
        by_place[place] = row[column]
    return by_place


def median_by_hand(values: list[str], decimals: int) -> Decimal:
    numbers = sorted(Decimal(value) for value in values)
    middle = len(numbers) // 2
    if len(numbers) % 2:
        return numbers[middle]
    mean = (numbers[middle - 1] + numbers[middle]) / 2
    return mean.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("indicator", list(README_EXAMPLES))
def test_sandwell_2025_beside_england_its_region_and_its_neighbours_median(
    everything: Trustledger, indicator: str
) -> None:
    published = published_2025(indicator)
    value, numerator, denominator = README_EXAMPLES[indicator][3]
    with MODEL_FILE.open(encoding="utf-8-sig", newline="") as file:
        [model] = [row for row in csv.DictReader(file) if row["old_la_code"] == "333"]
    neighbours = [model[f"SN_{rank}"] for rank in range(1, 11)]
    # Suppressed values ("c", Sutton's in cpp_2_years_plus) are left out of the median.
    numbers = [published[n] for n in neighbours if published[n][0].isdigit()]

    found = benchmark(everything.published_figures(), sandwell_la(), indicator, 2025)

    assert found.value is not None
    figure = found.value.published.figure
    assert (figure.value, figure.counts) == (value, (numerator, denominator))
    assert found.value.recomputation is Recomputation.MATCHES
    assert found.england is not None
    assert found.england.published.figure.published == Decimal(published["E92000001"])
    assert found.region_code == WEST_MIDLANDS
    assert found.region_name == "West Midlands"
    assert found.region is not None
    assert found.region.published.figure.published == Decimal(published[WEST_MIDLANDS])
    assert [n.authority.la_number for n in found.neighbours] == neighbours
    assert found.neighbours_used == len(numbers)
    assert found.median == median_by_hand(numbers, found.indicator.decimals)


def test_the_four_examples_give_these_medians(everything: Trustledger) -> None:
    figures = everything.published_figures()

    medians = {code: benchmark(figures, sandwell_la(), code, None) for code in README_EXAMPLES}

    assert {code: (b.year, b.median, b.neighbours_used) for code, b in medians.items()} == {
        "rereferrals_12m": (2025, Decimal("20.9"), 10),
        # (24.9 + 26.2) / 2 = 25.55, half up.
        "cpp_second_or_subsequent": (2025, Decimal("25.6"), 10),
        "cpp_2_years_plus": (2025, Decimal("3.5"), 9),
        "cla_long_term_stability": (2025, Decimal("68"), 10),
    }


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger under tmp_path for `main`."""
    monkeypatch.setenv("TRUSTLEDGER_VAR_DIR", str(tmp_path))
    return tmp_path


def test_the_command_reports_each_file_its_mismatches_and_what_became_of_it(
    command_line: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["import", "dfe", str(C1), str(D3), str(SHARED_DFE / ADOPTION)])

    assert status == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{C1.name}: recorded, 2132 values, 6 mismatches (0 beyond the counts' rounding)",
        f"{D3.name}: recorded, 2132 values, 66 mismatches (2 beyond the counts' rounding)",
        "  line 496: cpp_second_or_subsequent 2022 England: published 22.7, its counts give 22.6",
        "  line 499: cpp_second_or_subsequent 2022 Yorkshire and The Humber: published 23.6, "
        "its counts give 22.2",
        f"{ADOPTION}: skipped, no catalogue indicator is read from it",
    ]

    assert main(["import", "dfe", str(C1)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{C1.name}: unchanged, 2132 values, 6 mismatches (0 beyond the counts' rounding)"
    ]


def test_the_command_lists_every_problem_and_exits_1_having_written_nothing(
    command_line: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = c1_edited(command_line, set_cell("time_period", "2O25"))

    status = main(["import", "dfe", str(D3), str(bad)])

    assert status == 1
    assert capsys.readouterr().out.splitlines() == [
        "nothing imported, because of these problems:",
        f"{C1.name} line {SANDWELL_2025_LINE}: time_period '2O25' ('Reporting year') is not a "
        "reporting year",
    ]
    ledger = Trustledger(Settings().ledger_env())
    try:
        assert ledger.recorder.max_notification_id() is None
    finally:
        ledger.close()
