"""KPI returns as pages, over real HTTP on both stores: the trust sees what it owes and submits a
return through a GOV.UK form (its mistakes named in an error summary, what it typed kept); the
council queries and accepts it; the trust answers and restates; every write is the API's own
command, stored once however often its form is sent, and refused exactly as the API refuses it.

The figures are Sandwell's re-referrals for 2024-25 (844 of 3,723, 22.7%), as tests/api/test_kpis
uses them; the A1 schedule there gives a ten-year term of annual returns, so every year before
this one is overdue.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api.conftest import World, succeeded
from tests.api.test_kpis import REREFERRALS, YEAR, last_month, scheduled
from tests.web.browser import Browser, form_fields, is_page

pytestmark = pytest.mark.usefixtures("workers")

SANDWELL_TRUST = "provider@sandwell-trust.test"
SANDWELL_COUNCIL = "commissioner@sandwell.test"
BIRMINGHAM_TRUST = "provider@birmingham-trust.test"
BIRMINGHAM_COUNCIL = "commissioner@birmingham.test"
AUDITOR = "auditor@dfe.test"

SANDWELLS_FIGURE = {"value": "22.7", "numerator": "844", "denominator": "3723"}
QUESTION = "Why did re-referrals rise by two points?"
ANSWER = "Two teams merged their front doors in the autumn."


# -- addresses and forms --------------------------------------------------------------------------


def return_page(contract: dict[str, Any], period: str = YEAR, code: str = REREFERRALS) -> str:
    return f"/contracts/{contract['id']}/returns/{code}/{quote(period, safe='')}"


def submit_page(contract: dict[str, Any], period: str = YEAR, code: str = REREFERRALS) -> str:
    return return_page(contract, period, code) + "/submit"


def fill_in(browser: Browser, page: str, action: str, **typed: str) -> httpx.Response:
    """Open a form's page and send the form with what was typed, as a browser would: with the
    hidden fields the page gave it (its CSRF token and idempotency key)."""
    opened = browser.visit(page)
    assert opened.status_code == 200, opened.text
    return browser.post(action, {**form_fields(opened.text), **typed})


def followed(browser: Browser, response: httpx.Response) -> httpx.Response:
    """Where a form's redirect leads (Post/Redirect/Get)."""
    assert response.status_code == 303, response.text
    return browser.visit(response.headers["location"])


def submitted_through_the_page(world: World) -> tuple[dict[str, Any], Browser]:
    """A signed contract whose trust has submitted Sandwell's 2024-25 figure on the form."""
    contract = scheduled(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    sent = fill_in(trust, submit_page(contract), submit_page(contract), **SANDWELLS_FIGURE)
    assert sent.status_code == 303, sent.text
    return contract, trust


def history_of(world: World, contract: dict[str, Any], period: str = YEAR) -> list[str]:
    """What the API says was recorded about the return, by kind, oldest first."""
    response = world.commissioner.return_history(contract["id"], REREFERRALS, period)
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return [step["kind"] for step in response.json()["history"]]


def query_of(world: World, contract: dict[str, Any]) -> str:
    series = world.commissioner.kpi_series(contract["id"], REREFERRALS).json()
    [query] = series["returns"][YEAR]["queries"]
    return str(query["query_id"])


def rows(html: str) -> list[str]:
    """The table rows of a page, as their text with the markup taken out."""
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', html, re.S)
    ]


def caught_up(world: World) -> None:
    """Wait until the dashboards have taken in everything written so far."""
    head = world.anonymous().get("/health").json()["position"]
    assert world.admin.portfolio(min_position=head).status_code == 200


# -- what is due ----------------------------------------------------------------------------------


def test_the_trust_sees_its_overdue_returns_first_tagged_with_links_to_submit(
    world: World,
) -> None:
    contract = scheduled(world, title="A contract with returns owed")
    caught_up(world)

    page = Browser.signed_in(world.url, SANDWELL_TRUST).visit("/returns")

    assert page.status_code == 200
    is_page(page, "Returns due")
    assert 'aria-current="true"><strong class="govuk-service-navigation__active-fallback">' in (
        page.text
    )
    ours = [row for row in rows(page.text) if "A contract with returns owed" in row]
    # Every year of the term that has ended is owed, oldest (most overdue) first.
    assert ours[0].startswith("A1 Re-referrals within 12 months: 2018-19")
    assert "Overdue" in ours[0]
    assert f'href="{submit_page(contract, "2018-19")}"' in page.text
    assert f'href="{return_page(contract, "2018-19")}"' in page.text
    # The year still running is not owed yet, nor is any year to come.
    assert not any("2027-28" in row for row in ours)


def test_a_return_due_but_not_yet_overdue_is_listed_after_the_overdue_ones(world: World) -> None:
    drafted = world.draft(title="A contract with monthly returns")
    monthly = {
        "reference": "M1",
        "frequency": "monthly",
        # Sixty working days after a month's end: last month's return is never yet overdue.
        "due_working_days": 60,
        "targets": {},
    }
    scheduled_monthly = succeeded(
        world.commissioner.schedule_kpi(drafted["id"], REREFERRALS, **monthly)
    )
    contract = world.signed_by_both(scheduled_monthly)
    caught_up(world)

    page = Browser.signed_in(world.url, SANDWELL_TRUST).visit("/returns")

    ours = [row for row in rows(page.text) if "A contract with monthly returns" in row]
    [last] = [row for row in ours if f": {last_month()}" in row]
    assert "Due" in last
    assert "Overdue" not in last
    assert ours[-1] == last
    # Every overdue return comes before every return merely due.
    overdue = ["Overdue" in row for row in ours]
    assert overdue == sorted(overdue, reverse=True)
    assert overdue[0]
    assert f'href="{submit_page(contract, last_month())}"' in page.text


def test_the_commissioner_sees_what_the_trust_owes_but_no_link_to_submit(world: World) -> None:
    contract = scheduled(world, title="A contract the council watches")
    caught_up(world)

    page = Browser.signed_in(world.url, SANDWELL_COUNCIL).visit("/returns")

    assert page.status_code == 200
    assert any("A contract the council watches" in row for row in rows(page.text))
    assert f'href="{return_page(contract, "2018-19")}"' in page.text
    assert f'href="{submit_page(contract, "2018-19")}"' not in page.text


def test_another_councils_trust_does_not_see_these_returns(world: World) -> None:
    scheduled(world, title="Sandwell's own returns")
    caught_up(world)

    page = Browser.signed_in(world.url, BIRMINGHAM_TRUST).visit("/returns")

    assert page.status_code == 200
    assert "Sandwell&#39;s own returns" not in page.text


def test_the_trust_sees_the_queries_waiting_for_its_answer_with_a_link_to_answer(
    world: World,
) -> None:
    contract, trust = submitted_through_the_page(world)
    council = Browser.signed_in(world.url, SANDWELL_COUNCIL)
    fill_in(
        council,
        return_page(contract) + "/query",
        return_page(contract) + "/query",
        question=QUESTION,
    )
    caught_up(world)
    answer_page = f"{return_page(contract)}/queries/{query_of(world, contract)}/answer"

    trusts = trust.visit("/returns")
    councils = council.visit("/returns")

    [asked] = [row for row in rows(trusts.text) if QUESTION in row]
    assert asked.startswith("A1 Re-referrals within 12 months: 2024-25")
    assert f'href="{answer_page}"' in trusts.text
    assert QUESTION in councils.text
    assert f'href="{answer_page}"' not in councils.text


# -- submitting -----------------------------------------------------------------------------------


def test_the_trust_submits_a_return_and_its_page_says_so(world: World) -> None:
    contract = scheduled(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    form = trust.visit(submit_page(contract))
    is_page(form, "Submit the A1 return for 2024-25")
    assert 'name="idempotency_key"' in form.text

    sent = trust.post(
        submit_page(contract),
        {**form_fields(form.text), **SANDWELLS_FIGURE, "commentary": "As published by DfE."},
    )

    assert sent.headers["location"] == return_page(contract)
    page = followed(trust, sent)
    is_page(page, "A1 Re-referrals within 12 months, 2024-25")
    assert "govuk-notification-banner--success" in page.text
    assert "Return submitted" in page.text
    assert "22.7% (844 of 3,723)" in page.text
    assert "As published by DfE." in page.text
    assert "Late</strong>" in page.text  # due on 14 April 2025
    assert "14 April 2025" in page.text
    [step] = [row for row in rows(page.text) if "Submitted 22.7%" in row]
    assert f"{SANDWELL_TRUST}, Sandwell Children&#39;s Trust" in step
    assert history_of(world, contract) == ["submitted"]
    series = world.commissioner.kpi_series(contract["id"], REREFERRALS).json()
    assert series["returns"][YEAR]["commentary"] == "As published by DfE."


def test_a_value_that_is_not_a_number_is_named_in_the_error_summary_and_the_typing_is_kept(
    world: World,
) -> None:
    contract = scheduled(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)

    sent = fill_in(
        trust,
        submit_page(contract),
        submit_page(contract),
        value="twenty-two",
        numerator="844",
        denominator="3723",
        commentary="Kept when refused",
    )

    assert sent.status_code == 400
    is_page(sent, "Error: Submit the A1 return for 2024-25")
    assert '<div class="govuk-error-summary" data-module="govuk-error-summary">' in sent.text
    assert '<li><a href="#value">Enter the value as a number' in sent.text
    assert '<p id="value-error" class="govuk-error-message">' in sent.text
    assert 'id="value" name="value" type="text"' in sent.text
    assert 'value="twenty-two"' in sent.text
    assert 'value="844"' in sent.text
    assert ">Kept when refused</textarea>" in sent.text
    assert history_of(world, contract) == []


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"value": ""}, "value", "Enter the value"),
        ({"numerator": "eight"}, "numerator", "Enter the numerator as a whole number"),
        # The domain's own refusals of a figure, named on the field they are about.
        ({"value": "22.8"}, "value", "22.8 does not agree with 844 / 3,723 = 22.7"),
        ({"value": "22.71"}, "value", "Re-referrals within 12 months is published to 1 decimal"),
        ({"numerator": ""}, "numerator", "Re-referrals within 12 months is returned with its"),
    ],
)
def test_a_figure_the_rules_refuse_is_a_form_error_on_its_field(
    world: World, typed: dict[str, str], field: str, message: str
) -> None:
    contract = scheduled(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)

    sent = fill_in(
        trust, submit_page(contract), submit_page(contract), **{**SANDWELLS_FIGURE, **typed}
    )

    assert sent.status_code == 400
    assert f'<li><a href="#{field}">{message}' in sent.text
    assert f'<p id="{field}-error" class="govuk-error-message">' in sent.text
    assert history_of(world, contract) == []


def test_a_submit_form_sent_twice_is_stored_once(world: World) -> None:
    contract = scheduled(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    form = form_fields(trust.visit(submit_page(contract)).text)

    first = trust.post(submit_page(contract), {**form, **SANDWELLS_FIGURE})
    again = trust.post(submit_page(contract), {**form, **SANDWELLS_FIGURE})

    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert history_of(world, contract) == ["submitted"]


def test_a_second_submit_form_for_a_return_made_already_is_refused_as_a_page(
    world: World,
) -> None:
    contract, trust = submitted_through_the_page(world)

    # A form rendered before the first was sent, so with a key of its own.
    stale = trust.post(
        submit_page(contract),
        {**form_fields(trust.visit(submit_page(scheduled(world))).text), **SANDWELLS_FIGURE},
    )

    assert stale.status_code == 409
    is_page(stale, "There is a problem")
    assert "restate it to change it" in stale.text
    assert trust.visit(submit_page(contract)).headers["location"] == return_page(contract)
    assert history_of(world, contract) == ["submitted"]


# -- the council's challenge and the trust's answers ----------------------------------------------


def test_the_council_queries_the_trust_answers_and_the_council_accepts(world: World) -> None:
    contract, trust = submitted_through_the_page(world)
    council = Browser.signed_in(world.url, SANDWELL_COUNCIL)
    before = council.visit(return_page(contract))
    assert f'href="{return_page(contract)}/query"' in before.text
    assert "Accept this return" in before.text
    assert "/restate" not in before.text

    queried = fill_in(
        council,
        return_page(contract) + "/query",
        return_page(contract) + "/query",
        question=QUESTION,
    )
    assert "Query sent to the trust" in followed(council, queried).text
    # With a query open there is nothing to accept yet.
    assert "Accept this return" not in council.visit(return_page(contract)).text

    answer_page = f"{return_page(contract)}/queries/{query_of(world, contract)}/answer"
    offered = trust.visit(return_page(contract))
    assert f'href="{answer_page}"' in offered.text
    assert "Queried</strong>" in offered.text
    answered = fill_in(trust, answer_page, answer_page, answer=ANSWER)
    assert "Answer sent to the council" in followed(trust, answered).text

    accept = form_fields(council.visit(return_page(contract)).text)
    accepted = followed(council, council.post(return_page(contract) + "/accept", accept))

    assert "Return accepted" in accepted.text
    assert "Accepted</strong>" in accepted.text
    assert history_of(world, contract) == ["submitted", "queried", "answered", "accepted"]
    steps = rows(accepted.text)
    assert any(f"Queried: {QUESTION}" in row and SANDWELL_COUNCIL in row for row in steps)
    assert any(f"Answered: {ANSWER}" in row and SANDWELL_TRUST in row for row in steps)
    assert any(row.endswith("Accepted") and SANDWELL_COUNCIL in row for row in steps)


def test_a_query_sent_twice_is_asked_once(world: World) -> None:
    contract, _ = submitted_through_the_page(world)
    council = Browser.signed_in(world.url, SANDWELL_COUNCIL)
    form = form_fields(council.visit(return_page(contract) + "/query").text)

    for _ in range(2):
        sent = council.post(return_page(contract) + "/query", {**form, "question": QUESTION})
        assert sent.status_code == 303

    assert history_of(world, contract) == ["submitted", "queried"]


def test_an_empty_question_is_named_in_the_error_summary(world: World) -> None:
    contract, _ = submitted_through_the_page(world)
    council = Browser.signed_in(world.url, SANDWELL_COUNCIL)

    sent = fill_in(
        council, return_page(contract) + "/query", return_page(contract) + "/query", question=" "
    )

    assert sent.status_code == 400
    is_page(sent, "Error: Query the A1 return for 2024-25")
    assert '<li><a href="#question">Enter your question</a></li>' in sent.text
    assert history_of(world, contract) == ["submitted"]


def test_accepting_a_return_with_an_open_query_is_refused_as_a_page(world: World) -> None:
    contract, _ = submitted_through_the_page(world)
    council = Browser.signed_in(world.url, SANDWELL_COUNCIL)
    accept = form_fields(council.visit(return_page(contract)).text)
    fill_in(
        council,
        return_page(contract) + "/query",
        return_page(contract) + "/query",
        question=QUESTION,
    )

    refused = council.post(return_page(contract) + "/accept", accept)

    assert refused.status_code == 409
    is_page(refused, "There is a problem")
    assert "awaiting the trust" in refused.text
    assert history_of(world, contract) == ["submitted", "queried"]


def test_the_trust_restates_a_return_with_its_reason(world: World) -> None:
    contract, trust = submitted_through_the_page(world)
    restate = return_page(contract) + "/restate"
    assert f'href="{restate}"' in trust.visit(return_page(contract)).text

    missing = fill_in(
        trust, restate, restate, value="22.5", numerator="838", denominator="3723", reason=""
    )
    assert missing.status_code == 400
    assert '<li><a href="#reason">Enter the reason for restating the return</a></li>' in (
        missing.text
    )
    sent = fill_in(
        trust,
        restate,
        restate,
        value="22.5",
        numerator="838",
        denominator="3723",
        reason="Six contacts were counted twice",
    )

    page = followed(trust, sent)
    assert "Return restated" in page.text
    assert "22.5% (838 of 3,723), restated" in page.text
    assert any(
        "Restated as 22.5%, because: Six contacts were counted twice" in row
        for row in rows(page.text)
    )
    assert history_of(world, contract) == ["submitted", "restated"]


# -- the dashboard links to the returns -----------------------------------------------------------


def test_the_dashboard_links_each_kpis_returns_to_their_pages(world: World) -> None:
    contract, _ = submitted_through_the_page(world)
    caught_up(world)

    page = Browser.signed_in(world.url, SANDWELL_COUNCIL).contract(contract["id"])

    assert page.status_code == 200
    assert f'href="{return_page(contract)}"' in page.text  # the latest, and its trend's row
    assert f'href="{return_page(contract, "2018-19")}"' in page.text  # overdue


# -- who may do what ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "form"),
    [
        (SANDWELL_COUNCIL, "/submit"),  # the wrong role
        (BIRMINGHAM_TRUST, "/submit"),  # the right role, the other council's trust
        (SANDWELL_TRUST, "/query"),
        (BIRMINGHAM_COUNCIL, "/query"),
        (SANDWELL_COUNCIL, "/restate"),
        (BIRMINGHAM_TRUST, "/restate"),
        (AUDITOR, "/query"),
    ],
)
def test_a_form_for_someone_else_is_the_permission_page_and_sending_it_records_nothing(
    world: World, email: str, form: str
) -> None:
    contract, _ = submitted_through_the_page(world)
    someone = Browser.signed_in(world.url, email)
    own = form_fields(someone.visit("/returns").text)  # a CSRF token of their own session

    shown = someone.visit(return_page(contract) + form)
    sent = someone.post(
        return_page(contract) + form,
        {
            **own,
            "idempotency_key": "0" * 32,
            **SANDWELLS_FIGURE,
            "question": QUESTION,
            "reason": "A reason",
        },
    )

    for response in (shown, sent):
        assert response.status_code == 403, response.text
        is_page(response, "You do not have permission to see this page")
    assert history_of(world, contract) == ["submitted"]


@pytest.mark.parametrize("email", [SANDWELL_TRUST, BIRMINGHAM_COUNCIL, AUDITOR])
def test_accepting_is_the_councils_alone(world: World, email: str) -> None:
    contract, _ = submitted_through_the_page(world)
    someone = Browser.signed_in(world.url, email)
    own = form_fields(someone.visit("/returns").text)

    refused = someone.post(return_page(contract) + "/accept", {**own, "idempotency_key": "1" * 32})

    assert refused.status_code == 403
    is_page(refused, "You do not have permission to see this page")
    assert history_of(world, contract) == ["submitted"]


def test_an_auditor_sees_a_return_granted_and_not_one_that_is_not(world: World) -> None:
    contract, _ = submitted_through_the_page(world)
    auditor = Browser.signed_in(world.url, AUDITOR)

    before = auditor.visit(return_page(contract))
    granted = world.admin.grant(world.auditor_id, contract["id"])
    assert granted.status_code in (200, 201), granted.text
    after = auditor.visit(return_page(contract))

    assert before.status_code == 403
    assert after.status_code == 200
    assert "22.7%" in after.text
    # An auditor reads; no form is offered.
    assert "<form" not in after.text.split('id="main-content"')[1]


def test_no_return_page_without_signing_in(world: World) -> None:
    contract, _ = submitted_through_the_page(world)

    page = Browser(world.url).visit(return_page(contract))

    assert page.status_code == 303
    assert page.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(
    "address",
    [
        "/contracts/6c3f43c4-8f4e-4b8a-9f55-c4d1d3d3a001/returns/rereferrals_12m/2024-25",
        "{contract}/returns/no_such_kpi/2024-25",  # not on the schedule
        "{contract}/returns/rereferrals_12m/2024-25%20Q1",  # not one of its annual periods
        "{contract}/returns/rereferrals_12m/2040-41",  # beyond the term
        "{contract}/returns/rereferrals_12m/not-a-period",
        "{contract}/returns/rereferrals_12m/2024-25/submit/more",
    ],
)
@pytest.mark.parametrize("form", ["", "/submit"])
def test_an_unknown_contract_kpi_or_period_is_the_not_found_page(
    world: World, address: str, form: str
) -> None:
    contract = scheduled(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)

    page = trust.visit(address.format(contract=f"/contracts/{contract['id']}") + form)

    assert page.status_code == 404
    is_page(page, "Page not found")


def test_a_return_not_yet_made_is_shown_as_owed_with_a_way_to_submit_it(world: World) -> None:
    contract = scheduled(world)

    page = Browser.signed_in(world.url, SANDWELL_TRUST).visit(return_page(contract, "2019-20"))

    assert page.status_code == 200
    assert "Overdue</strong>" in page.text
    assert f'href="{submit_page(contract, "2019-20")}"' in page.text
    assert "Nothing has been recorded about this return yet." in page.text


def the_forms(world: World) -> list[tuple[str, str, dict[str, str]]]:
    """Every form of a return, with who sends it, where it is and what it says: a return
    submitted and queried, so that each has something to act on."""
    contract, _ = submitted_through_the_page(world)
    council = Browser.signed_in(world.url, SANDWELL_COUNCIL)
    fill_in(
        council,
        return_page(contract) + "/query",
        return_page(contract) + "/query",
        question=QUESTION,
    )
    here = return_page(contract)
    return [
        (SANDWELL_TRUST, submit_page(contract, "2019-20"), SANDWELLS_FIGURE),
        (SANDWELL_TRUST, here + "/restate", {**SANDWELLS_FIGURE, "reason": "A reason"}),
        (SANDWELL_COUNCIL, here + "/query", {"question": QUESTION}),
        (SANDWELL_TRUST, f"{here}/queries/{query_of(world, contract)}/answer", {"answer": ANSWER}),
        (SANDWELL_COUNCIL, here + "/accept", {}),
    ]


def test_every_form_without_its_csrf_token_is_refused_and_records_nothing(world: World) -> None:
    forms = the_forms(world)
    for email, action, typed in forms:
        browser = Browser.signed_in(world.url, email)

        sent = browser.post(action, {"idempotency_key": "2" * 32, **typed})
        forged = browser.post(
            action, {"csrf_token": "0" * 64, "idempotency_key": "3" * 32, **typed}
        )

        for response in (sent, forged):
            assert response.status_code == 403, (action, response.text)
            is_page(response, "You do not have permission to see this page")
            assert "This form has expired or did not come from this service" in response.text
    contract = {"id": forms[0][1].split("/")[2]}
    assert history_of(world, contract) == ["submitted", "queried"]
    assert history_of(world, contract, "2019-20") == []


def test_a_form_without_its_idempotency_key_is_refused(world: World) -> None:
    contract = scheduled(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    fields = form_fields(trust.visit(submit_page(contract)).text)
    del fields["idempotency_key"]

    sent = trust.post(submit_page(contract), {**fields, **SANDWELLS_FIGURE})

    assert sent.status_code == 400
    is_page(sent, "There is a problem")
    assert history_of(world, contract) == []
