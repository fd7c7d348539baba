"""Specifications of the reader of DfE's published statistics (api/dfe.py) and of the copies
shipped for the demo (api/demo_data/).

The full files are the shared ones (../shared/data/dfe, beside the repository in CI too); the
examples Sandwell must give are those ../shared/data/README.md says must come out exactly.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.dfe import (
    DEMO_DIRECTORY,
    SOURCES,
    Level,
    Problem,
    PublishedStatistics,
    PublishedValue,
    file_stem,
    read_demo_statistics,
    read_published,
)
from domain.indicators import CATALOGUE, Suppression

SHARED_DFE = Path(__file__).resolve().parents[2] / "shared" / "data" / "dfe"
C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
PLACEMENTS = "la_cla_placement_stability.csv"
BOM = b"\xef\xbb\xbf"
CONTRACT_YEARS = range(2019, 2026)  # 2018-19 to 2024-25
DEMO_PLACES = ("333", "330")  # Sandwell, Birmingham
WEST_MIDLANDS = "E12000005"


@pytest.fixture(scope="module")
def published() -> PublishedStatistics:
    return read_published(sorted(SHARED_DFE.glob("*.csv")))


@pytest.fixture(scope="module")
def shipped() -> PublishedStatistics:
    return read_demo_statistics()


def sandwell(statistics: PublishedStatistics, indicator: str, year: int) -> PublishedValue:
    value = statistics.values_for("333", indicator, year)
    assert value is not None, f"no {indicator} for Sandwell in {year}"
    return value


def shared_lines(name: str) -> list[bytes]:
    return (SHARED_DFE / name).read_bytes().splitlines(keepends=True)


def write_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> Path:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(text.getvalue(), encoding="utf-8", newline="")
    return path


def c1_sandwell_2025() -> tuple[list[str], list[str]]:
    header, *rows = csv.reader(io.StringIO((SHARED_DFE / C1).read_text("utf-8-sig")))
    [row] = [r for r in rows if r[0] == "2025" and r[header.index("old_la_code")] == "333"]
    return header, row


# -- the published values --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indicator", "numerator", "denominator", "value"),
    [
        ("rereferrals_12m", 844, 3723, "22.7"),
        ("cpp_second_or_subsequent", 129, 418, "30.9"),
        ("cpp_2_years_plus", 12, 357, "3.4"),
        ("cla_long_term_stability", 240, 380, "63"),
    ],
)
def test_sandwell_2025_comes_out_exactly_as_published_and_as_its_counts_make_it(
    published: PublishedStatistics, indicator: str, numerator: int, denominator: int, value: str
) -> None:
    found = sandwell(published, indicator, 2025)

    assert (found.numerator, found.denominator) == (numerator, denominator)
    assert str(found.value) == value
    assert CATALOGUE[indicator].value_of(numerator, denominator) == Decimal(value)
    assert (found.level, found.geography_code, found.name) == (
        Level.LOCAL_AUTHORITY,
        "E08000028",
        "Sandwell",
    )
    assert not [m for m in published.mismatches if m.value == found]


def test_a_value_says_which_line_of_which_file_it_came_from(published: PublishedStatistics) -> None:
    found = sandwell(published, "rereferrals_12m", 2025)

    line = shared_lines(found.file)[found.line - 1]
    assert found.file == C1
    assert line.startswith(b"2025,Reporting year,Local authority,")
    assert b",Sandwell," in line


@pytest.mark.parametrize(
    ("authority", "indicator", "year", "value", "numerator", "denominator"),
    [
        # Sandwell's CP plans open 2 years or more at 31 March 2019: suppressed, of 582 plans.
        ("333", "cpp_2_years_plus", 2019, Suppression.SUPPRESSED, Suppression.SUPPRESSED, 582),
        # City of London's re-referrals in 2023-24, of 63 referrals.
        ("201", "rereferrals_12m", 2024, Suppression.SUPPRESSED, Suppression.SUPPRESSED, 63),
        # Cumbria no longer exists in 2025: not applicable, not nought.
        (
            "909",
            "cla_long_term_stability",
            2025,
            Suppression.NOT_APPLICABLE,
            Suppression.NOT_APPLICABLE,
            Suppression.NOT_APPLICABLE,
        ),
        # Sunderland's leavers in 2024 are of low reliability.
        (
            "394",
            "sw_turnover_rate",
            2024,
            Suppression.LOW_RELIABILITY,
            Suppression.LOW_RELIABILITY,
            Decimal("227.4"),
        ),
        # The workforce file writes "low" for agency FTE that rounds to 0 (headcount 1).
        (
            "394",
            "sw_agency_rate",
            2025,
            Suppression.ROUNDS_TO_ZERO,
            Suppression.ROUNDS_TO_ZERO,
            Suppression.ROUNDS_TO_ZERO,
        ),
    ],
)
def test_suppression_symbols_are_kept_as_published_never_as_zero(
    published: PublishedStatistics,
    authority: str,
    indicator: str,
    year: int,
    value: Suppression,
    numerator: Suppression,
    denominator: int | Decimal | Suppression,
) -> None:
    found = published.values_for(authority, indicator, year)

    assert found is not None
    assert (found.value, found.numerator, found.denominator) == (value, numerator, denominator)


def test_files_with_and_without_a_byte_order_mark_read_alike(tmp_path: Path) -> None:
    assert shared_lines(PLACEMENTS)[0].startswith(BOM)
    assert not shared_lines(C1)[0].startswith(BOM)
    for name in (C1, PLACEMENTS):
        lines = (DEMO_DIRECTORY / name).read_bytes()
        bare = lines.removeprefix(BOM)
        (tmp_path / "bom").mkdir(exist_ok=True)
        (tmp_path / "bare").mkdir(exist_ok=True)
        (tmp_path / "bom" / name).write_bytes(BOM + bare)
        (tmp_path / "bare" / name).write_bytes(bare)

    with_bom = read_published(sorted((tmp_path / "bom").glob("*.csv")))
    without = read_published(sorted((tmp_path / "bare").glob("*.csv")))

    assert with_bom.problems == without.problems == ()
    assert with_bom.values == without.values
    assert str(sandwell(with_bom, "rereferrals_12m", 2025).value) == "22.7"
    assert str(sandwell(with_bom, "cla_long_term_stability", 2025).value) == "63"


def test_every_catalogue_indicator_from_dfe_has_sandwell_values_for_the_contract_years(
    published: PublishedStatistics,
) -> None:
    from_dfe = {
        code
        for code, indicator in CATALOGUE.items()
        if indicator.national and indicator.source.endswith(".csv")
    }
    assert set(SOURCES) == from_dfe
    years_by_file = {file_stem(facts.name): facts.years for facts in published.files}

    absent = set()
    for code, source in SOURCES.items():
        files = {source.file} | {cell.file for cell in source.cells() if cell.file}
        for year in CONTRACT_YEARS:
            found = published.values_for("333", code, year)
            if all(year in years_by_file[file] for file in files):
                assert found is not None, f"{code} {year}"
                assert isinstance(found.value, Decimal | Suppression)
            else:
                assert found is None
                absent.add((code, year))

    # The looked-after and care leaver files begin with the year to 31 March 2021; the
    # workforce file with 2017, the children in need files with 2013.
    begin_in_2021 = {
        "cla_3_plus_placements",
        "cla_long_term_stability",
        "care_leavers_19_21_eet",
        "care_leavers_19_21_suitable_accommodation",
        "cla_rate_per_10k",
        "cin_rate_per_10k",
    }
    assert absent == {(code, year) for code in begin_in_2021 for year in (2019, 2020)}


def test_the_children_in_need_rate_is_derived_from_counts_and_says_so(
    published: PublishedStatistics,
) -> None:
    rate = sandwell(published, "cin_rate_per_10k", 2025)
    looked_after = sandwell(published, "cla_rate_per_10k", 2025)

    assert rate.derived
    assert not looked_after.derived
    assert (rate.numerator, rate.denominator) == (2775, 88593)
    assert rate.denominator == looked_after.denominator
    assert rate.value == Decimal("313.2")
    assert rate.file == "b1_children_in_need_2013_to_2025.csv"
    # North Yorkshire is E10000023 in b1 and E06000065 in the CLA files for 2022: the two are
    # joined by its LA number.
    north_yorkshire = published.values_for("815", "cin_rate_per_10k", 2022)
    assert north_yorkshire is not None
    assert isinstance(north_yorkshire.value, Decimal)
    assert north_yorkshire.geography_code == "E10000023"


def test_each_source_says_when_its_reporting_year_ends() -> None:
    # Contract year 2024-25 ends on 31 March 2025: the CIN and CLA figures labelled 2025 are
    # its; the workforce census labelled 2025 is at 30 September 2025, in 2025-26.
    assert SOURCES["rereferrals_12m"].period_end(2025) == date(2025, 3, 31)
    assert SOURCES["cla_rate_per_10k"].period_end(2025) == date(2025, 3, 31)
    assert {SOURCES[code].period_end(2025) for code in SOURCES if code.startswith("sw_")} == {
        date(2025, 9, 30)
    }


def test_a_council_is_found_by_la_number_or_ons_code_and_england_and_regions_by_theirs(
    published: PublishedStatistics,
) -> None:
    assert published.values_for("333", "rereferrals_12m", 2025) == published.values_for(
        "E08000028", "rereferrals_12m", 2025
    )
    england = published.england("rereferrals_12m", 2025)
    region = published.region(WEST_MIDLANDS, "rereferrals_12m", 2025)
    assert england is not None
    assert region is not None
    assert (england.level, england.name, england.la_number) == (Level.NATIONAL, "England", None)
    assert england.value == Decimal("22.6")
    assert (region.level, region.name, region.la_number) == (
        Level.REGIONAL,
        "West Midlands",
        None,
    )
    assert published.values_for("333", "rereferrals_12m", 2012) is None
    assert published.values_for("999", "rereferrals_12m", 2025) is None


def test_councils_the_workforce_census_publishes_together_keep_their_joint_codes(
    published: PublishedStatistics,
) -> None:
    joint = published.values_for("940 / 941", "sw_caseload", 2025)

    assert joint is not None
    assert joint.geography_code == "E06000061 / E06000062"
    assert joint.name == "North Northamptonshire / West Northamptonshire"
    assert published.values_for("E06000061 / E06000062", "sw_caseload", 2025) == joint
    # The pair's caseload is neither council's alone; each has its own referrals.
    assert published.values_for("940", "sw_caseload", 2025) is None
    north = published.values_for("940", "rereferrals_12m", 2025)
    assert north is not None
    assert north.value == Decimal("23.9")


def test_the_full_files_read_without_problems_and_facts_describe_each_file(
    published: PublishedStatistics,
) -> None:
    assert published.problems == ()
    facts = {f.name: f for f in published.files}
    assert set(facts) == {path.name for path in SHARED_DFE.glob("*.csv")}
    for name, fact in facts.items():
        content = (SHARED_DFE / name).read_bytes()
        assert fact.sha256 == hashlib.sha256(content).hexdigest()
        assert fact.rows == len(content.splitlines()) - 1
    assert facts[C1].years == frozenset(range(2013, 2026))
    assert facts[PLACEMENTS].indicators == {"cla_3_plus_placements", "cla_long_term_stability"}
    adoption = "national_cla_adopted_average_time_between_adoption_process_stages.csv"
    assert facts[adoption].indicators == frozenset()


# -- published against recomputed -----------------------------------------------------------


def test_local_authority_values_from_whole_counts_all_match_their_recomputation(
    published: PublishedStatistics,
) -> None:
    whole_counts = {code for code, s in SOURCES.items() if not any(c.fte for c in s.cells())}

    assert not [
        m
        for m in published.mismatches
        if m.value.indicator in whole_counts and m.value.level is Level.LOCAL_AUTHORITY
    ]


def test_mismatches_are_reported_and_those_rounding_cannot_explain_are_singled_out(
    published: PublishedStatistics,
) -> None:
    for mismatch in published.mismatches:
        assert mismatch.recomputed != mismatch.value.value

    # England's 2024-25 second plans: 15,130 of 61,840 (both rounded to 10) is 24.47%; the
    # published 24.5 is reachable from counts within 5 of those.
    unexplained = {
        (m.value.indicator, m.value.year, m.value.name, str(m.value.value), str(m.recomputed))
        for m in published.mismatches
        if not m.within_count_rounding
    }
    assert unexplained == {
        ("cpp_second_or_subsequent", 2022, "England", "22.7", "22.6"),
        ("cpp_second_or_subsequent", 2022, "Yorkshire and The Humber", "23.6", "22.2"),
        ("sw_turnover_rate", 2022, "England", "17.2", "17.1"),
        ("sw_turnover_rate", 2022, "North East", "14.8", "13.7"),
        ("sw_turnover_rate", 2024, "England", "13.9", "13.8"),
        ("sw_turnover_rate", 2024, "North East", "14.0", "12.6"),
        ("sw_agency_rate", 2023, "England", "17.9", "17.8"),
        ("sw_agency_rate", 2023, "London", "23.2", "22.8"),
        ("sw_agency_rate", 2023, "Outer London", "23.0", "22.4"),
        ("sw_agency_rate", 2024, "England", "16.2", "16.0"),
        ("sw_agency_rate", 2024, "West Midlands", "13.9", "12.5"),
    }


# -- the copies shipped for the demo --------------------------------------------------------


def test_the_shipped_copies_are_the_published_files_byte_for_byte() -> None:
    shipped_files = sorted(p.name for p in DEMO_DIRECTORY.glob("*.csv"))

    assert shipped_files == sorted(p.name for p in SHARED_DFE.glob("*.csv"))
    for name in shipped_files:
        assert (DEMO_DIRECTORY / name).read_bytes() == (SHARED_DFE / name).read_bytes(), name


def test_the_shipped_copies_read_cleanly_and_find_sandwell_by_either_code(
    shipped: PublishedStatistics,
) -> None:
    assert shipped.problems == ()
    for code in SOURCES:
        for year in CONTRACT_YEARS:
            assert shipped.values_for("333", code, year) == shipped.values_for(
                "E08000028", code, year
            )


# -- files that are not what they should be --------------------------------------------------


def test_a_hostile_file_is_read_without_crashing_and_each_fault_has_its_line(
    tmp_path: Path,
) -> None:
    header, good = c1_sandwell_2025()
    order = list(reversed(range(len(header))))  # the columns in another order

    def cells(**changes: str) -> list[str]:
        row = dict(zip(header, good, strict=True)) | changes
        return [row[header[i]] for i in order]

    formula = "=cmd|' /C calc'!A0"
    path = write_csv(
        tmp_path / C1,
        [header[i] for i in order],
        [
            cells(),  # 2: Sandwell, as published
            cells()[:5],  # 3: truncated
            cells(old_la_code="330", new_la_code="E08000025", la_name="B" * 10_000),  # 4
            cells(old_la_code="330", new_la_code="E08000025", la_name=formula),  # 5
            cells(geographic_level="Ward"),  # 6
            cells(time_period="20x5"),  # 7
            cells(old_la_code="33"),  # 8
            cells(old_la_code="330", new_la_code="E08000025", rereferral_percent="NaN"),  # 9
            cells(time_period="2024", rereferral_count="-5"),  # 10
            cells(),  # 11: Sandwell again
        ],
    )

    statistics = read_published([path])

    assert str(sandwell(statistics, "rereferrals_12m", 2025).value) == "22.7"
    assert sandwell(statistics, "rereferrals_12m", 2025).line == 2
    assert [(p.line, p.file) for p in statistics.problems] == [(line, C1) for line in range(3, 12)]
    messages = [p.message for p in statistics.problems]
    assert "has 5 fields" in messages[0]
    assert "la_name has 10000 characters" in messages[1]
    assert "spreadsheet formula" in messages[2]
    assert "'Ward'" in messages[3]
    assert "'20x5'" in messages[4]
    assert "'33'" in messages[5]
    assert "'NaN'" in messages[6]
    assert "'-5'" in messages[7]
    assert "a second value for Sandwell in 2025; the first is line 2" in messages[8]
    assert statistics.values_for("330", "rereferrals_12m", 2025) is None
    assert all(not v.name.startswith("=") for v in statistics.values)
    assert statistics.files[0].rows == 10


def test_a_file_without_a_column_an_indicator_needs_is_refused_on_its_header(
    tmp_path: Path,
) -> None:
    header, good = c1_sandwell_2025()
    dropped = header.index("rereferral_percent")
    path = write_csv(
        tmp_path / C1,
        header[:dropped] + header[dropped + 1 :],
        [good[:dropped] + good[dropped + 1 :]],
    )

    statistics = read_published([path])

    assert statistics.problems == (Problem(C1, 1, "has no column rereferral_percent"),)
    assert statistics.values == ()
    assert statistics.files[0].rows == 1


def test_files_that_cannot_be_read_are_problems_of_the_whole_file_or_the_line(
    tmp_path: Path,
) -> None:
    header, good = c1_sandwell_2025()
    not_utf8 = tmp_path / "not_utf8" / C1
    not_utf8.parent.mkdir()
    write_csv(not_utf8, header, [good, good])
    not_utf8.write_bytes(not_utf8.read_bytes() + b"2025,\xff\xfe\n")
    absent = tmp_path / C1

    assert read_published([not_utf8]).problems == (Problem(C1, 4, "is not UTF-8 text"),)
    [too_large] = read_published([not_utf8], max_bytes=100).problems
    size = not_utf8.stat().st_size
    assert too_large == Problem(C1, 0, f"has {size} bytes, more than the 100 allowed")
    [unreadable] = read_published([absent]).problems
    assert unreadable.line == 0
    assert "cannot be read" in unreadable.message


def test_a_file_read_twice_gives_each_value_once_and_says_so(shipped: PublishedStatistics) -> None:
    path = DEMO_DIRECTORY / C1

    twice = read_published([path, path])

    once = [v for v in shipped.values if v.file == C1]
    assert len(twice.values) == len(once)
    assert len(twice.problems) == len(once)
    assert all("a second value" in p.message for p in twice.problems)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.text(max_size=300), max_size=12))
def test_whatever_follows_the_header_the_reader_reports_rather_than_raises(
    lines: list[str],
) -> None:
    header, _ = c1_sandwell_2025()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / C1
        path.write_text(",".join(header) + "\n" + "\n".join(lines), encoding="utf-8")

        statistics = read_published([path])

    text_lines = 1 + sum(line.count("\n") + line.count("\r") + 1 for line in lines)
    assert all(0 <= p.line <= text_lines for p in statistics.problems)
    assert all(v.line >= 2 for v in statistics.values)


def test_a_cell_beyond_what_csv_will_parse_stops_the_file_at_its_line(tmp_path: Path) -> None:
    lines = (DEMO_DIRECTORY / C1).read_bytes().splitlines(keepends=True)
    path = tmp_path / C1
    path.write_bytes(b"".join([*lines[:3], b'2025,"' + b"x" * 200_000 + b'"\n', *lines[3:]]))

    statistics = read_published([path])

    assert [(p.line, p.message.split(":")[0]) for p in statistics.problems] == [
        (4, "stops being CSV")
    ]
    assert len(statistics.values) == 2


def test_a_derived_rate_without_the_file_of_its_denominator_is_a_problem_not_a_gap() -> None:
    b1 = DEMO_DIRECTORY / "b1_children_in_need_2013_to_2025.csv"

    statistics = read_published([b1])

    assert statistics.values == ()
    [problem] = statistics.problems
    assert (problem.file, problem.line) == (b1.name, 0)
    assert problem.message == (
        "cin_rate_per_10k needs cla_number_and_rate_per_10k_children, not given"
    )
