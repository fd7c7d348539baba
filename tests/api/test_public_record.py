"""The public record over HTTP: an admin imports Ofsted's tables, anyone signed in reads a local
authority's inspections (by DfE number or ONS code) and the latest judgement of every authority.

The figures are Ofsted's, "Local authority inspection outcomes as at 31 March 2025".
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import World, denied, refused

SHARED_OFSTED = Path(__file__).resolve().parents[3] / "shared" / "data" / "ofsted"
LATEST = SHARED_OFSTED / "la_inspection_outcomes_2025_latest_per_la.csv"
IN_YEAR = SHARED_OFSTED / "la_inspection_outcomes_2025_in_year_2024_25_visits.csv"
AS_AT_31_MARCH_2025 = {"inspected_by": "2025-03-31", "published_by": "2025-06-30"}
READERS = ["commissioner", "provider", "auditor", "admin", "other_commissioner"]


@pytest.fixture(scope="module")
def imported(world: World) -> dict[str, Any]:
    """Ofsted's two tables, imported once per world by its admin."""
    response = world.admin.import_ofsted(
        (LATEST.name, LATEST.read_bytes()), (IN_YEAR.name, IN_YEAR.read_bytes())
    )
    assert response.status_code == 200, response.text
    assert int(response.headers["Trustledger-Position"]) > 0
    body: dict[str, Any] = response.json()
    return body


def latest_table(**cells: tuple[int, str, str]) -> bytes:
    """The latest-per-LA table with cells changed: name -> (line, column, value)."""
    with LATEST.open(encoding="utf-8", newline="") as file:
        header, *rows = csv.reader(file)
    for line, column, value in cells.values():
        rows[line - 2][header.index(column)] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue().encode()


def test_an_admin_imports_ofsteds_tables(imported: dict[str, Any]) -> None:
    latest, in_year = imported["files"]

    assert (latest["file"], latest["rows"], latest["recorded"]) == (LATEST.name, 153, 153)
    assert (in_year["rows"], in_year["recorded"], in_year["unchanged"]) == (112, 60, 52)


def test_importing_a_table_again_as_the_body_changes_nothing(
    world: World, imported: dict[str, Any]
) -> None:
    response = world.admin.import_ofsted_body(LATEST.read_bytes(), name=LATEST.name)

    assert response.status_code == 200, response.text
    [again] = response.json()["files"]
    assert (again["recorded"], again["corrected"], again["unchanged"]) == (0, 0, 153)
    assert again["sha256"] == imported["files"][0]["sha256"]
    assert response.json()["position"] is None


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("la", ["333", "E08000028"])
def test_anyone_signed_in_reads_sandwells_inspections_by_dfe_number_or_ons_code(
    world: World, imported: dict[str, Any], who: str, la: str
) -> None:
    response = world.person(who).inspections(la)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["local_authority"] == {
        "la_number": "333",
        "ons_code": "E08000028",
        "name": "Sandwell",
        "region": "West Midlands",
    }
    visit, inspection = body["inspections"]  # newest first
    assert (visit["inspection_type"], visit["theme"], visit["judgements"]) == (
        "focused_visit",
        "Front door",
        {},
    )
    assert visit["judges"] is False
    assert (inspection["starts_on"], inspection["published_on"]) == ("2022-05-09", "2022-07-05")
    assert inspection["judgements"] == {
        "overall_effectiveness": "requires_improvement",
        "impact_of_leaders": "requires_improvement",
        "help_and_protection": "requires_improvement",
        "children_in_care_and_care_leavers": "requires_improvement",
    }
    assert inspection["source"]["file"] == LATEST.name
    assert inspection["source"]["line"] == 108
    assert inspection["corrections"] == []


def test_the_latest_judgements_are_ofsteds_table_as_at_31_march_2025(
    world: World, imported: dict[str, Any]
) -> None:
    response = world.provider.latest_judgements(**AS_AT_31_MARCH_2025)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["local_authorities"] == 153
    assert body["overall_effectiveness"] == {
        "outstanding": 36,
        "good": 67,
        "requires_improvement": 31,
        "inadequate": 19,
    }
    by_la = {row["la_number"]: row for row in body["inspections"]}
    sandwell, birmingham = by_la["333"], by_la["330"]
    assert sandwell["starts_on"] == "2022-05-09"
    assert sandwell["judgements"]["overall_effectiveness"] == "requires_improvement"
    assert birmingham["starts_on"] == "2023-02-20"
    assert birmingham["judgements"] == {
        "overall_effectiveness": "good",
        "impact_of_leaders": "good",
        "help_and_protection": "good",
        "children_in_care": "good",
        "care_leavers": "good",
    }


def test_before_an_inspection_was_published_the_one_before_stands(
    world: World, imported: dict[str, Any]
) -> None:
    # York was inspected from 24 February 2025 and published on 15 April 2025; the tables hold
    # no earlier inspection of York, so before publication it has no latest judgement.
    before = world.auditor.latest_judgements(inspected_by="2025-03-31", published_by="2025-04-14")

    assert before.status_code == 200, before.text
    assert "E06000014" not in {row["ons_code"] for row in before.json()["inspections"]}
    assert before.json()["local_authorities"] < 153


def test_a_newer_edition_shows_as_a_correction_with_both_values(
    world: World, imported: dict[str, Any]
) -> None:
    newer = latest_table(
        staffordshire=(121, "The experiences and progress of care leavers", "Good")
    )

    response = world.admin.import_ofsted(("outcomes_newer.csv", newer))

    assert response.status_code == 200, response.text
    [done] = response.json()["files"]
    assert (done["corrected"], done["unchanged"]) == (1, 152)
    [staffordshire] = world.commissioner.inspections("860").json()["inspections"]
    assert staffordshire["judgements"]["care_leavers"] == "good"
    [correction] = staffordshire["corrections"]
    assert (correction["subject"], correction["previous"], correction["value"]) == (
        "care_leavers",
        "requires_improvement",
        "good",
    )
    assert correction["source"]["file"] == "outcomes_newer.csv"
    assert correction["actor"]["role"] == "admin"


def test_a_bad_table_is_refused_with_its_lines_and_nothing_is_written(
    world: World, imported: dict[str, Any]
) -> None:
    bad = latest_table(
        # Sandwell's inspection of October 2025, which alone would be recorded.
        sandwell_began=(108, "Inspection date", "2025-10-13"),
        sandwell_published=(108, "Publication date", "2025-12-02"),
        birmingham=(8, "Overall effectiveness", "Excellent"),
        staffordshire=(121, "Local authority name", "=cmd|' /C calc'!A0"),
    )

    response = world.admin.import_ofsted(("bad.csv", bad))

    problem = refused(response, 422, "invalid-table")
    assert problem["errors"] == [
        {
            "file": "bad.csv",
            "line": 8,
            "message": "Overall effectiveness: 'Excellent' is not one of Ofsted's grades",
        },
        {
            "file": "bad.csv",
            "line": 121,
            "message": "Local authority name: starts with '=', as a spreadsheet formula does",
        },
    ]
    assert len(world.commissioner.inspections("333").json()["inspections"]) == 2


def test_a_form_without_a_file_is_refused(world: World) -> None:
    response = world.admin.http.post("/imports/ofsted", files={"note": (None, "no file")})

    refused(response, 422, "invalid-request")


def test_a_body_over_the_limit_is_refused_before_it_is_read(world: World) -> None:
    response = world.admin.import_ofsted_body(b"x" * (world.settings.max_body_bytes + 1))

    refused(response, 413, "request-too-large")


@pytest.mark.parametrize("la", ["999", "E09999999", "Sandwell"])
def test_an_unknown_local_authority_is_not_found(world: World, la: str) -> None:
    refused(world.commissioner.inspections(la), 404, "not-found")


def test_an_abolished_council_is_known_by_its_number_and_has_no_inspections(
    world: World, imported: dict[str, Any]
) -> None:
    response = world.commissioner.inspections("909")

    assert response.status_code == 200, response.text
    assert response.json()["local_authority"]["name"] == "Cumbria"
    assert response.json()["inspections"] == []


def test_reading_the_public_record_needs_a_token(world: World) -> None:
    anonymous = world.anonymous()

    denied(anonymous.inspections("333"), 401)
    denied(anonymous.latest_judgements(**AS_AT_31_MARCH_2025), 401)
    denied(anonymous.import_ofsted((LATEST.name, LATEST.read_bytes())), 401)


@pytest.mark.parametrize("who", ["commissioner", "provider", "auditor", "other_provider"])
def test_only_an_admin_imports(world: World, who: str) -> None:
    denied(world.person(who).import_ofsted((LATEST.name, LATEST.read_bytes())), 403)


# -- statutory interventions and the timeline ------------------------------------------------------

PSE = (
    "https://www.publicsectorexecutive.com/Public-Sector-News/"
    "sandwell-becomes-latest-met-to-lose-control-of-childrens-services"
)
# The Secretary of State's direction of October 2016, as reported at the time.
SANDWELL_DIRECTION: dict[str, Any] = {
    "kind": "direction_to_establish_trust",
    "took_effect_on": "2016-10-01",
    "date_precision": "month",
    "made_by": "Secretary of State for Education",
    "requirement": "Bring forward plans by 1 December 2016 to move children's social care to a "
    "trust",
    "source": {
        "title": "Sandwell becomes latest met to lose control of children's services",
        "url": PSE,
        "reference": "Public Sector Executive, 10 October 2016",
    },
}


@pytest.fixture(scope="module")
def sandwell_direction(world: World, imported: dict[str, Any]) -> httpx.Response:
    """Sandwell's direction, recorded once per world by its admin after Ofsted's tables."""
    return world.admin.record_intervention("333", **SANDWELL_DIRECTION)


def test_an_admin_records_an_intervention_on_an_authoritys_record(
    sandwell_direction: httpx.Response,
) -> None:
    response = sandwell_direction

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["ETag"] == f'"{body["version"]}"' == '"2"'  # opened, recorded
    assert int(response.headers["Trustledger-Position"]) > 0
    assert body["local_authority"]["ons_code"] == "E08000028"
    intervention = body["intervention"]
    assert {name: intervention[name] for name in SANDWELL_DIRECTION} == SANDWELL_DIRECTION
    assert intervention["recorded_by"]["role"] == "admin"
    assert intervention["corrections"] == []


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("la", ["333", "E08000028"])
def test_anyone_signed_in_reads_sandwells_timeline_of_inspections_and_interventions(
    world: World, sandwell_direction: httpx.Response, who: str, la: str
) -> None:
    response = world.person(who).timeline(la)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["local_authority"]["name"] == "Sandwell"
    assert [(e["category"], e["kind"], e["on"]) for e in body["entries"]] == [
        ("intervention", "direction_to_establish_trust", "2016-10-01"),
        ("inspection", "ilacs", "2022-05-09"),
        ("inspection", "focused_visit", "2024-10-30"),
    ]
    direction, inspection, visit = body["entries"]
    assert direction["id"] == sandwell_direction.json()["intervention"]["id"]
    assert direction["date_precision"] == "month"
    assert direction["summary"].startswith("Direction to establish a trust (Secretary of State")
    assert direction["source"] == SANDWELL_DIRECTION["source"]
    assert inspection["overall_effectiveness"] == "requires_improvement"
    assert inspection["published_on"] == "2022-07-05"
    assert inspection["summary"] == (
        "ILACS inspection: overall effectiveness requires improvement to be good; "
        "published 2022-07-05"
    )
    assert (inspection["source"]["file"], inspection["source"]["line"]) == (LATEST.name, 108)
    assert visit["overall_effectiveness"] is None
    assert visit["summary"].startswith("Focused visit: theme: Front door")


def test_the_same_intervention_is_recorded_once(world: World) -> None:
    trust = {
        **SANDWELL_DIRECTION,
        "kind": "trust_established",
        "took_effect_on": "2018-04-01",
        "date_precision": "day",
        "made_by": "Birmingham City Council",
        "requirement": "Birmingham Children's Trust runs children's social care",
    }
    first = world.admin.record_intervention("330", **trust)
    assert first.status_code == 201, first.text

    again = world.admin.record_intervention("E08000025", **{**trust, "requirement": "Again"})

    problem = refused(again, 409, "intervention-already-recorded")
    assert first.json()["intervention"]["id"] in problem["detail"]
    entries = world.auditor.timeline("330").json()["entries"]
    assert [e["category"] for e in entries].count("intervention") == 1


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        (
            {"source": {"title": "A direction", "url": "javascript:alert(1)"}},
            "invalid-intervention",
        ),
        ({"source": {"title": "A direction"}}, "invalid-intervention"),
        ({"took_effect_on": "2016-10-06"}, "invalid-date"),
        ({"made_by": "  "}, "invalid-request"),
        ({"kind": "takeover"}, "invalid-request"),
        ({"source": None}, "invalid-request"),
        ({"requirement": "x" * 2001}, "invalid-request"),
    ],
)
def test_an_intervention_the_record_cannot_hold_is_refused_and_nothing_is_written(
    world: World, changes: dict[str, Any], kind: str
) -> None:
    before = world.admin.timeline("E10000016").json()["entries"]

    response = world.admin.record_intervention("886", **{**SANDWELL_DIRECTION, **changes})

    refused(response, 422, kind)
    assert world.admin.timeline("E10000016").json()["entries"] == before


def test_an_abolished_council_has_an_empty_timeline_and_no_record_to_add_to(world: World) -> None:
    timeline = world.commissioner.timeline("909")

    assert timeline.status_code == 200, timeline.text
    assert timeline.json()["local_authority"]["name"] == "Cumbria"
    assert timeline.json()["entries"] == []
    refused(world.admin.record_intervention("909", **SANDWELL_DIRECTION), 422, "unknown-reference")


@pytest.mark.parametrize("la", ["999", "E09999999", "Sandwell"])
def test_an_unknown_local_authority_has_no_timeline_and_takes_no_intervention(
    world: World, la: str
) -> None:
    refused(world.commissioner.timeline(la), 404, "not-found")
    refused(world.admin.record_intervention(la, **SANDWELL_DIRECTION), 404, "not-found")


def test_the_timeline_and_recording_an_intervention_need_a_token(world: World) -> None:
    anonymous = world.anonymous()

    denied(anonymous.timeline("333"), 401)
    denied(anonymous.record_intervention("333", **SANDWELL_DIRECTION), 401)


@pytest.mark.parametrize(
    "who", ["commissioner", "provider", "auditor", "other_commissioner", "other_provider"]
)
def test_only_an_admin_records_interventions(world: World, who: str) -> None:
    denied(world.person(who).record_intervention("333", **SANDWELL_DIRECTION), 403)
