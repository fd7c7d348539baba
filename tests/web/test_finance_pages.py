"""A contract's money as pages: the trust reports its financial position through a GOV.UK form,
every position reported is listed, the dashboard's finances section shows the latest, and the
dashboard's CSV and XLSX download with the browser's session. The denials are the API's, shown
as GOV.UK error pages."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.api.conftest import World
from tests.web.browser import Browser, is_page
from tests.web.test_variation_pages import banner, error_summary, follow, form_at, send

pytestmark = pytest.mark.usefixtures("workers")

SANDWELL_COMMISSIONER = "commissioner@sandwell.test"
SANDWELL_TRUST = "provider@sandwell-trust.test"
BIRMINGHAM_COMMISSIONER = "commissioner@birmingham.test"
BIRMINGHAM_TRUST = "provider@birmingham-trust.test"
AUDITOR = "auditor@dfe.test"
UNKNOWN = "6c3f43c4-8f4e-4b8a-9f55-c4d1d3d3a001"

# 2018-19's sum is £58,000,000 (World.draft): a forecast of £60,000,000 is £2,000,000 over.
A_POSITION = {
    "financial_year": "2018-19",
    "period": "Q2",
    "forecast_outturn": "£60,000,000",
    "commentary": "Agency social workers cover vacancies in assessment",
}


def positions_of(contract_id: str) -> str:
    return f"/contracts/{contract_id}/financial-positions"


def report_form(contract_id: str) -> str:
    return f"/contracts/{contract_id}/financial-positions/new"


def download(contract_id: str, export: str) -> str:
    return f"/contracts/{contract_id}/dashboard?format={export}"


def reported_by_the_trust(world: World) -> tuple[Browser, dict[str, Any], Any]:
    contract = world.signed()
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    sent = send(
        trust, trust.visit(report_form(contract["id"])), report_form(contract["id"]), **A_POSITION
    )
    return trust, contract, sent


def positions(world: World, contract_id: str) -> list[dict[str, Any]]:
    read = world.commissioner.contract(contract_id)
    assert read.status_code == 200, read.text
    return list(read.json()["financial_positions"])


def caught_up(world: World, contract_id: str) -> None:
    """Wait until the dashboards have taken in everything the ledger holds."""
    head = world.anonymous().get("/health").json()["position"]
    assert world.commissioner.dashboard(contract_id, min_position=head).status_code == 200


# -- reporting ------------------------------------------------------------------------------------


def test_the_trust_reports_its_position_and_sees_it_listed(world: World) -> None:
    trust, contract, sent = reported_by_the_trust(world)

    page = follow(trust, sent)

    assert sent.headers["location"] == positions_of(contract["id"])
    is_page(page, f"Financial positions: {contract['title']}".replace("'", "&#39;"))
    assert banner(page.text) == "Financial position reported"
    [reported] = positions(world, contract["id"])
    assert reported["forecast_outturn"] == 6_000_000_000
    assert (reported["financial_year"], reported["period"]) == ("2018-19", "Q2")
    assert "£2,000,000 overspend" in page.text
    assert "Agency social workers cover vacancies in assessment" in page.text


def test_the_dashboards_finances_show_the_latest_position(world: World) -> None:
    _, contract, sent = reported_by_the_trust(world)
    assert sent.status_code == 303
    caught_up(world, contract["id"])

    dashboard = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).visit(
        f"/contracts/{contract['id']}"
    )

    finances = dashboard.text[dashboard.text.index('id="finances"') :]
    assert "£60,000,000" in finances
    assert "£2,000,000 overspend" in finances
    assert f'href="{positions_of(contract["id"])}"' in finances
    assert f'href="/contracts/{contract["id"]}/variations"' in finances


def test_an_empty_report_names_each_missing_answer(world: World) -> None:
    contract = world.signed()
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)

    refused = send(
        trust,
        trust.visit(report_form(contract["id"])),
        report_form(contract["id"]),
        forecast_outturn="about sixty million",
    )

    assert refused.status_code == 400
    is_page(refused, "Error: Report the financial position")
    assert error_summary(refused.text) == [
        "Select the financial year",
        "Select the quarter or month the position is at",
        "The forecast outturn must be an amount in pounds, like 1,250,000 or 99.50",
        "Enter the commentary on the position",
    ]
    assert 'value="about sixty million"' in refused.text
    assert positions(world, contract["id"]) == []


def test_a_year_outside_the_term_is_refused_by_the_contract(world: World) -> None:
    contract = world.signed()
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)

    refused = send(
        trust,
        trust.visit(report_form(contract["id"])),
        report_form(contract["id"]),
        **{**A_POSITION, "financial_year": "2031-32"},
    )

    assert refused.status_code == 422
    assert error_summary(refused.text) == ["2031-32 is not a year of this contract's term"]


def test_the_same_report_sent_twice_is_stored_once(world: World) -> None:
    contract = world.signed()
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    form = trust.visit(report_form(contract["id"]))

    first = send(trust, form, report_form(contract["id"]), **A_POSITION)
    second = send(trust, form, report_form(contract["id"]), **A_POSITION)

    assert first.status_code == second.status_code == 303
    assert len(positions(world, contract["id"])) == 1


# -- denials -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [SANDWELL_COMMISSIONER, BIRMINGHAM_TRUST, AUDITOR])
def test_only_the_contracts_trust_may_report(world: World, who: str) -> None:
    contract = world.signed()
    someone = Browser.signed_in(world.url, who)
    their_own = form_at(someone.visit("/sign-out").text, "/sign-out")

    page = someone.visit(report_form(contract["id"]))
    sent = someone.post(report_form(contract["id"]), {**their_own, **A_POSITION})

    assert page.status_code == sent.status_code == 403
    is_page(page, "You do not have permission to see this page")
    assert positions(world, contract["id"]) == []


def test_the_council_reads_the_positions_but_is_offered_no_report(world: World) -> None:
    _, contract, _ = reported_by_the_trust(world)

    page = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).visit(positions_of(contract["id"]))

    assert page.status_code == 200
    assert "£60,000,000" in page.text
    assert "Report the financial position" not in page.text


@pytest.mark.parametrize(
    "address", [positions_of(UNKNOWN), report_form(UNKNOWN), download(UNKNOWN, "csv")]
)
def test_an_unknown_contract_is_the_not_found_page(world: World, address: str) -> None:
    page = Browser.signed_in(world.url, SANDWELL_TRUST).visit(address)

    assert page.status_code == 404
    is_page(page, "Page not found")


def test_a_report_without_its_csrf_token_is_refused_and_stores_nothing(world: World) -> None:
    contract = world.signed()
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    fields = form_at(trust.visit(report_form(contract["id"])).text, report_form(contract["id"]))
    del fields["csrf_token"]

    refused = trust.post(report_form(contract["id"]), {**fields, **A_POSITION})

    assert refused.status_code == 403
    assert positions(world, contract["id"]) == []


# -- board papers ---------------------------------------------------------------------------------


def test_the_dashboard_downloads_as_csv_and_xlsx_with_the_browsers_session(world: World) -> None:
    _, contract, _ = reported_by_the_trust(world)
    caught_up(world, contract["id"])
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)

    page = council.visit(f"/contracts/{contract['id']}")
    as_csv = council.visit(download(contract["id"], "csv"))
    as_xlsx = council.visit(download(contract["id"], "xlsx"))

    assert f'href="{download(contract["id"], "csv")}"' in page.text
    assert f'href="{download(contract["id"], "xlsx")}"' in page.text
    assert as_csv.status_code == as_xlsx.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"].startswith("attachment;")
    assert as_csv.headers["cache-control"] == "no-store"
    cells = {cell for row in csv.reader(io.StringIO(as_csv.text)) for cell in row}
    assert "Sandwell Children's Trust" in " ".join(cells)
    workbook = load_workbook(io.BytesIO(as_xlsx.content), read_only=True)
    assert workbook.sheetnames


def test_a_browser_asking_for_the_dashboard_without_a_format_is_shown_its_page(
    world: World,
) -> None:
    contract = world.signed()

    answer = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).visit(
        f"/contracts/{contract['id']}/dashboard"
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/contracts/{contract['id']}"


def test_the_other_council_may_not_download_the_dashboard(world: World) -> None:
    contract = world.signed()
    caught_up(world, contract["id"])

    refused = Browser.signed_in(world.url, BIRMINGHAM_COMMISSIONER).visit(
        download(contract["id"], "csv")
    )

    assert refused.status_code == 403
    is_page(refused, "You do not have permission to see this page")


def test_a_download_without_a_session_goes_to_sign_in_and_the_api_keeps_its_json(
    world: World,
) -> None:
    contract = world.signed()
    caught_up(world, contract["id"])

    anonymous = Browser(world.url).visit(download(contract["id"], "csv"))
    as_api = world.commissioner.dashboard(contract["id"])

    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/sign-in?next=")
    assert as_api.status_code == 200
    assert as_api.headers["content-type"] == "application/json"
