"""DfE's published statistics over HTTP: an admin imports DfE's tables, anyone signed in reads a
local authority's benchmarks (by DfE number or ONS code): its value with its counts, England's,
its region's and its statistical neighbours' median.

The figures are DfE's, for the year to 31 March 2025.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import World, denied, refused

SHARED_DFE = Path(__file__).resolve().parents[3] / "shared" / "data" / "dfe"
C1 = SHARED_DFE / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
D3 = SHARED_DFE / "d3_cpps_subsequent_plan_2013_to_2025.csv"
D5 = SHARED_DFE / "d5_cpps_at31march_by_duration_2013_to_2025.csv"
READERS = ["commissioner", "provider", "auditor", "admin", "other_commissioner"]
SANDWELL_2025_LINE = 79  # of c1
SANDWELLS_NEIGHBOURS = ["336", "810", "861", "335", "354", "380", "806", "331", "353", "821"]


def upload(*paths: Path) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in paths]


@pytest.fixture(scope="module")
def imported(world: World) -> list[dict[str, Any]]:
    """Three of DfE's tables, imported once per world by its admin (two requests: the body
    limit is 1 MB)."""
    bodies = []
    for files in (upload(C1, D3), upload(D5)):
        response = world.admin.import_dfe(*files)
        assert response.status_code == 200, response.text
        assert int(response.headers["Trustledger-Position"]) > 0
        bodies.append(response.json())
    return bodies


def c1_edited(**cells: tuple[int, str, str]) -> bytes:
    """c1 with cells changed: name -> (line, column, value)."""
    with C1.open(encoding="utf-8", newline="") as file:
        header, *rows = csv.reader(file)
    for line, column, value in cells.values():
        rows[line - 2][header.index(column)] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue().encode()


def test_an_admin_imports_dfes_tables_and_sees_their_mismatches(
    imported: list[dict[str, Any]],
) -> None:
    first, second = imported
    c1, d3 = first["files"]
    [d5] = second["files"]

    assert (c1["file"], c1["outcome"], c1["rows"], c1["values"]) == (
        C1.name,
        "recorded",
        2132,
        2132,
    )
    assert (d3["outcome"], d3["mismatches"], d3["beyond_count_rounding"]) == ("recorded", 66, 2)
    assert d5["outcome"] == "recorded"
    assert [
        (m["file"], m["line"], m["published"], m["recomputed"]) for m in first["mismatches"]
    ] == [
        (D3.name, 496, "22.7", "22.6"),
        (D3.name, 499, "23.6", "22.2"),
    ]


def test_importing_a_table_again_changes_nothing(
    world: World, imported: list[dict[str, Any]]
) -> None:
    response = world.admin.import_dfe(*upload(C1))

    assert response.status_code == 200, response.text
    [again] = response.json()["files"]
    assert again["outcome"] == "unchanged"
    assert again["sha256"] == imported[0]["files"][0]["sha256"]
    assert response.json()["position"] is None
    assert "Trustledger-Position" not in response.headers


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("la", ["333", "E08000028"])
def test_anyone_signed_in_reads_sandwells_benchmark_by_dfe_number_or_ons_code(
    world: World, imported: list[dict[str, Any]], who: str, la: str
) -> None:
    response = world.person(who).benchmark(la, "rereferrals_12m", year=2025)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["local_authority"]["la_number"] == "333"
    assert (body["year"], body["period_end"]) == (2025, "2025-03-31")
    value = body["value"]
    assert (value["value"], value["numerator"], value["denominator"]) == ("22.7", 844, 3723)
    assert (value["recomputation"], value["recomputed"]) == ("matches", None)
    assert value["source"]["file"] == C1.name
    assert (body["england"]["name"], body["england"]["value"]) == ("England", "22.6")
    assert (body["region"]["name"], body["region"]["value"]) == ("West Midlands", "19.5")
    neighbours = body["statistical_neighbours"]
    assert (neighbours["model"], neighbours["median"], neighbours["neighbours_used"]) == (
        "2025",
        "20.9",
        10,
    )
    assert [n["la_number"] for n in neighbours["neighbours"]] == SANDWELLS_NEIGHBOURS
    assert "Open Government Licence v3.0" in body["attribution"]


def test_without_a_year_the_latest_imported_is_read(
    world: World, imported: list[dict[str, Any]]
) -> None:
    response = world.provider.benchmark("333", "cpp_second_or_subsequent")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["year"] == 2025
    assert body["value"]["value"] == "30.9"
    # Of an even count, the mean of the middle two: (24.9 + 26.2) / 2 = 25.55, half up.
    assert body["statistical_neighbours"]["median"] == "25.6"


def test_a_suppressed_neighbour_is_shown_and_left_out_of_the_median(
    world: World, imported: list[dict[str, Any]]
) -> None:
    response = world.commissioner.benchmark("333", "cpp_2_years_plus", year=2025)

    assert response.status_code == 200, response.text
    neighbours = response.json()["statistical_neighbours"]
    luton = next(n for n in neighbours["neighbours"] if n["la_number"] == "821")
    assert (luton["value"], luton["suppression"], luton["used"]) == (None, "c", False)
    assert (neighbours["median"], neighbours["neighbours_used"]) == ("3.5", 9)


def test_a_bad_table_is_refused_with_its_lines_and_nothing_is_written(
    world: World, imported: list[dict[str, Any]]
) -> None:
    bad = c1_edited(
        # Sandwell's re-referrals restated, which alone would be recorded.
        restated=(SANDWELL_2025_LINE, "rereferral_percent", "25.0"),
        year=(SANDWELL_2025_LINE + 1, "time_period", "2O25"),
        formula=(SANDWELL_2025_LINE + 2, "la_name", "=cmd|' /C calc'!A0"),
    )

    response = world.admin.import_dfe((C1.name, bad))

    problem = refused(response, 422, "invalid-table")
    assert [(e["file"], e["line"]) for e in problem["errors"]] == [
        (C1.name, SANDWELL_2025_LINE + 1),
        (C1.name, SANDWELL_2025_LINE + 2),
    ]
    assert "is not a reporting year" in problem["errors"][0]["message"]
    assert "as a spreadsheet formula does" in problem["errors"][1]["message"]
    again = world.commissioner.benchmark("333", "rereferrals_12m", year=2025)
    assert again.json()["value"]["value"] == "22.7"


@pytest.mark.parametrize(
    ("la", "indicator", "params", "status", "kind"),
    [
        ("999", "rereferrals_12m", {}, 404, "not-found"),
        ("E09999999", "rereferrals_12m", {}, 404, "not-found"),
        ("333", "rereferrals", {}, 422, "unknown-indicator"),
        ("333", "sw_caseload", {}, 404, "not-found"),  # in the catalogue, not imported
        ("333", "rereferrals_12m", {"year": 2012}, 404, "not-found"),  # before the series
        ("333", "rereferrals_12m", {"year": "last"}, 422, "invalid-request"),
    ],
)
def test_what_cannot_be_benchmarked_is_refused(
    world: World,
    imported: list[dict[str, Any]],
    la: str,
    indicator: str,
    params: dict[str, Any],
    status: int,
    kind: str,
) -> None:
    refused(world.auditor.benchmark(la, indicator, **params), status, kind)


def test_benchmarks_and_imports_need_a_token(world: World) -> None:
    anonymous = world.anonymous()

    denied(anonymous.benchmark("333", "rereferrals_12m"), 401)
    denied(anonymous.import_dfe(*upload(C1)), 401)


@pytest.mark.parametrize("who", ["commissioner", "provider", "auditor", "other_provider"])
def test_only_an_admin_imports(world: World, who: str) -> None:
    denied(world.person(who).import_dfe(*upload(C1)), 403)
