"""Performance notices as pages: the council issues one through a GOV.UK form, the trust answers
with a remedial plan, the council rejects or accepts it and closes the notice as resolved or
escalates it. The notice's address is the API's, served as a page to a browser and as JSON to
an API client. The denials are the API's, shown as GOV.UK error pages."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.api.conftest import World, succeeded
from tests.api.test_kpis import A1, REREFERRALS
from tests.web.browser import Browser, is_page
from tests.web.test_variation_pages import banner, error_summary, follow, form_at, send

SANDWELL_COMMISSIONER = "commissioner@sandwell.test"
SANDWELL_TRUST = "provider@sandwell-trust.test"
BIRMINGHAM_COMMISSIONER = "commissioner@birmingham.test"
AUDITOR = "auditor@dfe.test"
UNKNOWN = "6c3f43c4-8f4e-4b8a-9f55-c4d1d3d3a001"

ISSUED = date(2025, 3, 27)
DUE = date(2025, 4, 24)


def notices_of(contract_id: str) -> str:
    return f"/contracts/{contract_id}/notices"


def issue_form(contract_id: str) -> str:
    return f"/contracts/{contract_id}/notices/new"


def plan_form(notice: str) -> str:
    return f"{notice}/remedial-plan"


def day_fields(name: str, day: date) -> dict[str, str]:
    """A GOV.UK date input's three fields, filled in."""
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


A_NOTICE = {
    "grounds": "Re-referrals have been above tolerance for two years",
    "clauses": "7.2, 12.1",
    "remedy": "Audit the front door's decisions and report monthly",
    **day_fields("issued_on", ISSUED),
    **day_fields("response_due", DUE),
}
A_PLAN = {
    "summary": "A front door audit and weekly case reviews",
    "action-1-description": "Audit 200 re-referred cases",
    **day_fields("action-1-due", date(2025, 6, 30)),
    "action-2-description": "Weekly review of step-down decisions",
    **day_fields("action-2-due", date(2025, 5, 31)),
}


def issued_by_the_council(world: World, **answers: Any) -> tuple[Browser, dict[str, Any], str]:
    """A signed contract, and a notice the council issued under it on its page: the council's
    browser, the contract and the notice's address."""
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(issue_form(contract["id"]))
    sent = send(council, form, issue_form(contract["id"]), **{**A_NOTICE, **answers})
    assert sent.status_code == 303, sent.text
    return council, contract, sent.headers["location"]


def planned_by_the_trust(world: World) -> tuple[Browser, Browser, dict[str, Any], str]:
    council, contract, notice = issued_by_the_council(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    sent = send(trust, trust.visit(plan_form(notice)), plan_form(notice), **A_PLAN)
    assert sent.status_code == 303, sent.text
    return council, trust, contract, notice


def as_api(world: World, notice: str) -> dict[str, Any]:
    read = world.commissioner.get(notice)
    assert read.status_code == 200, read.text
    return dict(read.json())


# -- issuing ----------------------------------------------------------------------------------


def test_the_council_issues_a_notice_and_lands_on_its_page(world: World) -> None:
    council, contract, notice = issued_by_the_council(world)

    page = council.visit(notice)

    is_page(page, "Performance notice issued 27 March 2025")
    assert banner(page.text) == "Performance notice issued"
    issued = as_api(world, notice)
    assert issued["grounds"] == A_NOTICE["grounds"]
    assert issued["clauses"] == ["7.2", "12.1"]
    assert issued["issued_on"] == "2025-03-27"
    assert issued["response_due"] == "2025-04-24"
    assert issued["status"] == "awaiting_plan"
    assert "Audit the front door&#39;s decisions and report monthly" in page.text
    assert "24 April 2025" in page.text
    listed = council.visit(notices_of(contract["id"]))
    assert f'href="{notice}"' in listed.text


def test_the_notice_can_name_the_kpis_the_contract_schedules(world: World) -> None:
    drafted = world.draft()
    drafted = succeeded(world.commissioner.schedule_kpi(drafted["id"], REREFERRALS, **A1))
    contract = world.signed_by_both(drafted)
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(issue_form(contract["id"]))

    assert "A1 Re-referrals" in form.text
    sent = send(
        council,
        form,
        issue_form(contract["id"]),
        **{**A_NOTICE, "clauses": ""},
        kpi_codes=REREFERRALS,
    )

    assert as_api(world, sent.headers["location"])["kpi_codes"] == [REREFERRALS]


def test_an_empty_notice_names_each_missing_answer(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(issue_form(contract["id"]))

    refused = send(
        council,
        form,
        issue_form(contract["id"]),
        grounds="Late returns",
        **{"issued_on-day": "", "issued_on-month": "", "issued_on-year": ""},
        **{"response_due-day": "31", "response_due-month": "4", "response_due-year": "2025"},
    )

    assert refused.status_code == 400
    is_page(refused, "Error: Issue a performance notice")
    assert error_summary(refused.text) == [
        "Select a KPI or enter the contract clause not met",
        "Enter the remedy the council requires",
        "Enter the date the notice is issued",
        "The date the remedial plan is due must be a real date",
    ]
    assert ">Late returns</textarea>" in refused.text
    assert world.commissioner.notices(contract["id"]).json() == []


def test_a_plan_due_before_the_notice_is_issued_is_refused(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(issue_form(contract["id"]))

    refused = send(
        council,
        form,
        issue_form(contract["id"]),
        **{**A_NOTICE, **day_fields("response_due", ISSUED)},
    )

    assert refused.status_code == 400
    assert error_summary(refused.text) == ["The plan's due date must be after the date issued"]


def test_the_same_notice_sent_twice_is_issued_once(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(issue_form(contract["id"]))

    first = send(council, form, issue_form(contract["id"]), **A_NOTICE)
    second = send(council, form, issue_form(contract["id"]), **A_NOTICE)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(world.commissioner.notices(contract["id"]).json()) == 1


def test_an_api_client_still_gets_the_notice_as_json_at_the_same_address(world: World) -> None:
    _, _, notice = issued_by_the_council(world)

    answer = world.commissioner.get(notice)

    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["status"] == "awaiting_plan"


# -- the trust's plan and the council's decisions --------------------------------------------------


def test_the_trust_answers_with_a_remedial_plan(world: World) -> None:
    _, trust, _, notice = planned_by_the_trust(world)

    page = trust.visit(notice)

    assert banner(page.text) == "Remedial plan sent to the council"
    answered = as_api(world, notice)
    assert answered["status"] == "plan_submitted"
    [plan] = answered["plans"]
    assert plan["summary"] == A_PLAN["summary"]
    assert [a["description"] for a in plan["actions"]] == [
        "Audit 200 re-referred cases",
        "Weekly review of step-down decisions",
    ]
    assert "Send a remedial plan" not in page.text


def test_a_plan_without_a_summary_or_an_action_is_refused_with_the_answers_kept(
    world: World,
) -> None:
    _, _, notice = issued_by_the_council(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)

    refused = send(
        trust,
        trust.visit(plan_form(notice)),
        plan_form(notice),
        **{"action-2-description": "Weekly reviews"},
    )

    assert refused.status_code == 400
    is_page(refused, "Error: Send a remedial plan")
    assert error_summary(refused.text) == [
        "Enter a summary of the plan",
        "Enter what action 1 will do",
        "Enter the date action 1 is due",
        "Enter the date action 2 is due",
    ]
    assert 'value="Weekly reviews"' in refused.text
    assert as_api(world, notice)["plans"] == []


def test_the_council_rejects_a_plan_with_a_reason_and_accepts_the_next(world: World) -> None:
    council, trust, _, notice = planned_by_the_trust(world)
    page = council.visit(notice)

    without = send(council, page, f"{notice}/reject-plan", plan_reason="")
    rejected = follow(
        council, send(council, page, f"{notice}/reject-plan", plan_reason="No dates for review")
    )
    assert without.status_code == 400
    assert error_summary(without.text) == ["Enter why the plan is not good enough"]
    assert banner(rejected.text) == "Remedial plan rejected"
    assert as_api(world, notice)["status"] == "awaiting_plan"

    follow(trust, send(trust, trust.visit(plan_form(notice)), plan_form(notice), **A_PLAN))
    accepted = follow(council, send(council, council.visit(notice), f"{notice}/accept-plan"))

    assert banner(accepted.text) == "Remedial plan accepted"
    plans = as_api(world, notice)["plans"]
    assert [plan["status"] for plan in plans] == ["rejected", "accepted"]
    assert plans[0]["rejection_reason"] == "No dates for review"
    assert "Rejected because: No dates for review" in accepted.text


def test_the_council_closes_the_notice_as_resolved(world: World) -> None:
    council, _, _, notice = planned_by_the_trust(world)
    follow(council, send(council, council.visit(notice), f"{notice}/accept-plan"))

    resolved = follow(council, send(council, council.visit(notice), f"{notice}/resolve"))

    assert banner(resolved.text) == "Performance notice closed as resolved"
    assert as_api(world, notice)["status"] == "resolved"
    assert "Close as resolved" not in resolved.text
    assert "Escalate the notice" not in resolved.text


def test_the_council_escalates_the_notice_choosing_where_and_saying_why(world: World) -> None:
    council, _, notice = issued_by_the_council(world)
    page = council.visit(notice)

    unchosen = send(council, page, f"{notice}/escalate", escalation_reason="No plan came")
    escalated = follow(
        council,
        send(
            council, page, f"{notice}/escalate", route="dfe_referral", escalation_reason="No plan"
        ),
    )

    assert unchosen.status_code == 400
    assert error_summary(unchosen.text) == ["Select where the notice is escalated to"]
    assert banner(escalated.text) == "Performance notice escalated"
    closed = as_api(world, notice)
    assert (closed["status"], closed["escalation_route"]) == ("escalated", "dfe_referral")
    assert "Referral to the Department for Education: No plan" in escalated.text


def test_a_decision_on_a_closed_notice_is_refused_on_the_page(world: World) -> None:
    council, _, notice = issued_by_the_council(world)
    page = council.visit(notice)
    follow(council, send(council, page, f"{notice}/resolve"))

    refused = send(council, page, f"{notice}/escalate", route="step_in", escalation_reason="Late")

    assert refused.status_code == 409
    assert error_summary(refused.text) == ["The notice was closed as resolved"]


# -- denials -------------------------------------------------------------------------------------


def their_own_form(browser: Browser) -> dict[str, str]:
    """Hidden fields a signed-in reader can get from any page of their own: their CSRF token."""
    return form_at(browser.visit("/sign-out").text, "/sign-out")


def test_the_trust_may_not_issue_a_notice(world: World) -> None:
    contract = world.signed()
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)

    page = trust.visit(issue_form(contract["id"]))
    sent = trust.post(issue_form(contract["id"]), {**their_own_form(trust), **A_NOTICE})
    listed = trust.visit(notices_of(contract["id"]))

    assert page.status_code == sent.status_code == 403
    is_page(page, "You do not have permission to see this page")
    assert "Issue a performance notice" not in listed.text
    assert world.commissioner.notices(contract["id"]).json() == []


def test_the_council_may_not_send_a_plan_and_the_trust_may_not_decide(world: World) -> None:
    council, trust, _, notice = planned_by_the_trust(world)

    plan = council.visit(plan_form(notice))
    accept = trust.post(f"{notice}/accept-plan", their_own_form(trust))
    resolve = trust.post(f"{notice}/resolve", their_own_form(trust))
    trusts_page = trust.visit(notice)

    assert plan.status_code == accept.status_code == resolve.status_code == 403
    assert "Accept the plan" not in trusts_page.text
    assert as_api(world, notice)["status"] == "plan_submitted"


@pytest.mark.parametrize("who", [BIRMINGHAM_COMMISSIONER, AUDITOR])
def test_a_stranger_to_the_contract_gets_the_permission_page(world: World, who: str) -> None:
    _, contract, notice = issued_by_the_council(world)
    stranger = Browser.signed_in(world.url, who)

    pages = [stranger.visit(notice), stranger.visit(notices_of(contract["id"]))]
    decided = stranger.post(f"{notice}/resolve", their_own_form(stranger))

    for page in [*pages, decided]:
        assert page.status_code == 403
        is_page(page, "You do not have permission to see this page")
    assert "Re-referrals have been above tolerance" not in pages[0].text
    assert as_api(world, notice)["status"] == "awaiting_plan"


@pytest.mark.parametrize(
    "address",
    [
        f"/notices/{UNKNOWN}",
        f"/notices/{UNKNOWN}/remedial-plan",
        f"/contracts/{UNKNOWN}/notices",
        f"/contracts/{UNKNOWN}/notices/new",
        "/notices/not-a-notice",
    ],
)
def test_an_unknown_notice_or_contract_is_the_not_found_page(world: World, address: str) -> None:
    browser = Browser.signed_in(
        world.url, SANDWELL_TRUST if "plan" in address else SANDWELL_COMMISSIONER
    )

    page = browser.visit(address)

    assert page.status_code == 404
    is_page(page, "Page not found")


def test_a_decision_without_its_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    council, _, notice = issued_by_the_council(world)
    fields = form_at(council.visit(notice).text, f"{notice}/resolve")
    del fields["csrf_token"]

    refused = council.post(f"{notice}/resolve", fields)

    assert refused.status_code == 403
    assert as_api(world, notice)["status"] == "awaiting_plan"


@pytest.mark.usefixtures("workers")
def test_the_dashboard_links_each_open_notice_to_its_page(world: World) -> None:
    council, contract, notice = issued_by_the_council(world)
    head = world.anonymous().get("/health").json()["position"]
    assert world.commissioner.dashboard(contract["id"], min_position=head).status_code == 200

    page = council.visit(f"/contracts/{contract['id']}")

    assert f'<a class="govuk-link" href="{notice}">{A_NOTICE["grounds"]}</a>' in page.text
    assert f'href="{notices_of(contract["id"])}"' in page.text
