"""Variations as pages: either party proposes one through a GOV.UK form, the other agrees to the
terms the page showed (and is refused if they changed since) or rejects it with a reason, and
the proposer may withdraw it. Each form is sent once however often it is sent; the denials are
the API's, shown as GOV.UK error pages."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from tests.api.conftest import World
from tests.web.browser import Browser, is_page

SANDWELL_COMMISSIONER = "commissioner@sandwell.test"
SANDWELL_TRUST = "provider@sandwell-trust.test"
BIRMINGHAM_COMMISSIONER = "commissioner@birmingham.test"
AUDITOR = "auditor@dfe.test"
UNKNOWN = "6c3f43c4-8f4e-4b8a-9f55-c4d1d3d3a001"


# -- addresses and forms --------------------------------------------------------------------------


def variations_of(contract_id: str) -> str:
    return f"/contracts/{contract_id}/variations"


def proposal_form(contract_id: str) -> str:
    return f"/contracts/{contract_id}/variations/new"


def variation_at(contract_id: str, variation_id: str) -> str:
    return f"/contracts/{contract_id}/variations/{variation_id}"


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self._current = self.forms.setdefault(str(found.get("action")), {})
        elif tag == "input" and self._current is not None and found.get("type") == "hidden":
            self._current[str(found["name"])] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def form_at(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to `action`, as a browser sends them."""
    parser = _Forms()
    parser.feed(html)
    assert action in parser.forms, f"no form posts to {action}: {sorted(parser.forms)}"
    return parser.forms[action]


def send(browser: Browser, page: httpx.Response, action: str, **answers: Any) -> httpx.Response:
    """Fill in the form on `page` that posts to `action` and send it."""
    assert page.status_code == 200, page.text
    return browser.post(action, {**form_at(page.text, action), **answers})


def banner(html: str) -> str | None:
    found = re.search(r'notification-banner__heading">(.*?)</p>', html, re.S)
    return None if found is None else unescape(found.group(1).strip())


def error_summary(html: str) -> list[str]:
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    assert summary is not None, "the page has no error summary"
    return [unescape(text) for text in re.findall(r'<a href="#[^"]+">(.*?)</a>', summary[1])]


def follow(browser: Browser, response: httpx.Response) -> httpx.Response:
    """Post/Redirect/Get: the page the form's answer sends the browser to."""
    assert response.status_code == 303, response.text
    return browser.visit(response.headers["location"])


def only_variation(world: World, contract_id: str) -> dict[str, Any]:
    variations = world.commissioner.contract(contract_id).json()["variations"]
    assert len(variations) == 1, variations
    return dict(variations[0])


A_NEW_SUM = {"rationale": "Demand for care placements has risen", "contract_sum_year": "2019-20"}


def proposed_by_the_council(world: World) -> tuple[Browser, dict[str, Any], httpx.Response]:
    """A signed contract, and a variation of 2019-20's sum the council proposed on its page."""
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(proposal_form(contract["id"]))
    sent = send(
        council,
        form,
        proposal_form(contract["id"]),
        **A_NEW_SUM,
        contract_sum="60,000,000",
        scope=form_scope(contract),
    )
    return council, contract, sent


def form_scope(contract: dict[str, Any]) -> list[str]:
    """The services as the form ticks them: the contract's scope, unchanged."""
    return list(contract["scope"])


# -- proposing -----------------------------------------------------------------------------------


def test_the_council_proposes_a_new_contract_sum_and_sees_it_on_the_variations_page(
    world: World,
) -> None:
    council, contract, sent = proposed_by_the_council(world)

    page = follow(council, sent)

    variation = only_variation(world, contract["id"])
    assert sent.headers["location"] == variation_at(contract["id"], variation["variation_id"])
    is_page(page, "Variation: Demand for care placements has risen")
    assert banner(page.text) == "Variation proposed"
    assert variation["status"] == "proposed"
    assert variation["changes"]["contract_sums"] == {"2019-20": 6_000_000_000}
    assert "£60,000,000" in page.text
    # The banner is said once: reading the page again does not repeat it.
    assert banner(council.visit(sent.headers["location"]).text) is None
    listed = council.visit(variations_of(contract["id"]))
    is_page(listed, f"Variations: {contract['title']}".replace("'", "&#39;"))
    assert "Demand for care placements has risen" in listed.text


def test_a_proposal_that_changes_nothing_is_refused_with_the_answers_kept(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(proposal_form(contract["id"]))

    refused = send(
        council,
        form,
        proposal_form(contract["id"]),
        rationale="Tidy the schedule",
        scope=form_scope(contract),
    )

    assert refused.status_code == 400
    is_page(refused, "Error: Propose a variation")
    assert error_summary(refused.text) == [
        "Enter a change: a new contract sum, a new last day or a change to the services"
    ]
    assert ">Tidy the schedule</textarea>" in refused.text
    assert world.commissioner.contract(contract["id"]).json()["variations"] == []


def test_each_missing_or_malformed_answer_is_named_beside_its_field(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(proposal_form(contract["id"]))

    refused = send(
        council,
        form,
        proposal_form(contract["id"]),
        contract_sum="sixty million",
        **{"term_ends-day": "31", "term_ends-month": "2", "term_ends-year": "2030"},
        scope=[],
    )

    assert refused.status_code == 400
    assert error_summary(refused.text) == [
        "Enter why the contract should change",
        "Select the year whose sum changes",
        "The new contract sum must be an amount in pounds, like 1,250,000 or 99.50",
        "The new last day of the contract must be a real date",
        "Select at least one service in scope",
    ]
    assert 'id="contract_sum-error"' in refused.text
    assert 'value="sixty million"' in refused.text


def test_a_proposal_the_domain_refuses_is_shown_as_a_form_error(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(proposal_form(contract["id"]))

    refused = send(
        council,
        form,
        proposal_form(contract["id"]),
        rationale="Same sum",
        contract_sum_year="2018-19",
        contract_sum="58,000,000",
        scope=form_scope(contract),
    )

    assert refused.status_code == 422
    assert error_summary(refused.text) == ["The contract sums would stay as they are"]


def test_the_same_proposal_sent_twice_is_stored_once(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(proposal_form(contract["id"]))
    answers = {**A_NEW_SUM, "contract_sum": "60,000,000", "scope": form_scope(contract)}

    first = send(council, form, proposal_form(contract["id"]), **answers)
    second = send(council, form, proposal_form(contract["id"]), **answers)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    only_variation(world, contract["id"])


def test_the_same_proposal_sent_twice_at_once_is_stored_once_and_both_see_it(
    world: World,
) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(proposal_form(contract["id"]))
    fields = {
        **form_at(form.text, proposal_form(contract["id"])),
        **A_NEW_SUM,
        "contract_sum": "60,000,000",
        "scope": form_scope(contract),
    }
    # A double click: the same browser's two requests, on two connections, let go together.
    twins = [Browser(world.url), Browser(world.url)]
    for twin in twins:
        twin.http.cookies = council.http.cookies
    start = threading.Barrier(len(twins))

    def click(twin: Browser) -> httpx.Response:
        start.wait()
        return twin.post(proposal_form(contract["id"]), fields)

    with ThreadPoolExecutor(len(twins)) as pool:
        answers = list(pool.map(click, twins))

    assert [answer.status_code for answer in answers] == [303, 303], [a.text for a in answers]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    only_variation(world, contract["id"])


# -- deciding ------------------------------------------------------------------------------------


def test_the_trust_agrees_to_the_terms_it_read_and_the_contract_takes_them(world: World) -> None:
    _, contract, sent = proposed_by_the_council(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    page = trust.visit(sent.headers["location"])
    agree = sent.headers["location"] + "/agree"

    agreed = follow(trust, send(trust, page, agree))

    assert banner(agreed.text) == "Variation agreed: it is now part of the contract"
    assert only_variation(world, contract["id"])["status"] == "agreed"
    assert world.commissioner.contract(contract["id"]).json()["contract_sums"]["2019-20"] == (
        6_000_000_000
    )
    assert "Your decision" not in agreed.text


def test_agreeing_to_terms_read_before_the_contract_changed_is_refused(world: World) -> None:
    _, contract, sent = proposed_by_the_council(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    page = trust.visit(sent.headers["location"])
    agree = sent.headers["location"] + "/agree"
    # Meanwhile the council proposes a second change to the contract.
    meanwhile = world.commissioner.propose_variation(
        contract["id"], changes={"term_ends": "2029-03-31"}, rationale="A longer term"
    )
    assert meanwhile.status_code == 201, meanwhile.text

    refused = send(trust, page, agree)

    assert refused.status_code == 412
    is_page(refused, "Error: Variation: Demand for care placements has risen")
    assert error_summary(refused.text) == [
        "The contract has changed since you read this page. Read it again below, then decide"
    ]
    assert only_variation_status(world, contract["id"]) == {"proposed"}
    # The page shows the contract as it now stands: agreeing from it is consent to that.
    follow(trust, send(trust, refused_as_page(refused), agree))
    assert "agreed" in only_variation_status(world, contract["id"])


def test_an_agreement_that_names_no_version_is_refused(world: World) -> None:
    _, contract, sent = proposed_by_the_council(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    agree = sent.headers["location"] + "/agree"
    fields = form_at(trust.visit(sent.headers["location"]).text, agree)
    del fields["version"]

    refused = trust.post(agree, fields)

    assert refused.status_code == 428
    assert error_summary(refused.text) == [
        "Read the variation's terms on this page, then agree to them"
    ]
    assert only_variation(world, contract["id"])["status"] == "proposed"


def test_a_long_reason_is_shortened_in_the_title_at_a_word(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    reason = "The council's budget for 2019-20 was set after the contract and asks for a lower sum"

    sent = send(
        council,
        council.visit(proposal_form(contract["id"])),
        proposal_form(contract["id"]),
        rationale=reason,
        contract_sum_year="2019-20",
        contract_sum="55,000,000",
        scope=form_scope(contract),
    )

    shortened = "The council&#39;s budget for 2019-20 was set after the \N{HORIZONTAL ELLIPSIS}"
    is_page(follow(council, sent), f"Variation: {shortened}")


def refused_as_page(response: httpx.Response) -> httpx.Response:
    """A refused form's page, to fill in again as a browser would."""
    return httpx.Response(200, text=response.text, request=response.request)


def only_variation_status(world: World, contract_id: str) -> set[str]:
    return {v["status"] for v in world.commissioner.contract(contract_id).json()["variations"]}


def test_the_proposer_is_offered_no_agreement_and_is_refused_one(world: World) -> None:
    council, contract, sent = proposed_by_the_council(world)
    page = council.visit(sent.headers["location"])
    withdraw = sent.headers["location"] + "/withdraw"

    assert "Agree to these terms" not in page.text
    refused = council.post(
        sent.headers["location"] + "/agree",
        {**form_at(page.text, withdraw), "version": str(world.version_of(contract))},
    )

    assert refused.status_code == 409
    assert error_summary(refused.text) == [
        "The commissioner proposed this variation; the other party agrees it"
    ]
    assert only_variation(world, contract["id"])["status"] == "proposed"


def test_a_rejection_needs_a_reason_and_then_records_it(world: World) -> None:
    _, contract, sent = proposed_by_the_council(world)
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    page = trust.visit(sent.headers["location"])
    reject = sent.headers["location"] + "/reject"

    without = send(trust, page, reject, reason="  ")
    rejected = follow(trust, send(trust, page, reject, reason="The sum is not affordable"))

    assert without.status_code == 400
    assert error_summary(without.text) == ["Enter why you are rejecting the variation"]
    assert banner(rejected.text) == "Variation rejected"
    variation = only_variation(world, contract["id"])
    assert variation["status"] == "rejected"
    assert variation["rejection_reason"] == "The sum is not affordable"
    assert "Rejected because: The sum is not affordable" in rejected.text


def test_the_proposer_withdraws_its_proposal(world: World) -> None:
    council, contract, sent = proposed_by_the_council(world)
    page = council.visit(sent.headers["location"])

    withdrawn = follow(council, send(council, page, sent.headers["location"] + "/withdraw"))

    assert banner(withdrawn.text) == "Variation withdrawn"
    assert only_variation(world, contract["id"])["status"] == "withdrawn"
    assert "Withdraw the proposal" not in withdrawn.text


def test_the_trust_proposes_too_and_the_council_agrees(world: World) -> None:
    contract = world.signed()
    trust = Browser.signed_in(world.url, SANDWELL_TRUST)
    form = trust.visit(proposal_form(contract["id"]))
    sent = send(
        trust,
        form,
        proposal_form(contract["id"]),
        rationale="Extend to match the improvement plan",
        **{"term_ends-day": "31", "term_ends-month": "3", "term_ends-year": "2030"},
        scope=form_scope(contract),
    )
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    page = council.visit(sent.headers["location"])

    follow(council, send(council, page, sent.headers["location"] + "/agree"))

    assert world.commissioner.contract(contract["id"]).json()["term"]["ends"] == "2030-03-31"


# -- denials -------------------------------------------------------------------------------------


def test_the_auditor_may_read_a_granted_contracts_variations_but_not_propose_one(
    world: World,
) -> None:
    _, contract, sent = proposed_by_the_council(world)
    granted = world.admin.grant(world.auditor_id, contract["id"])
    assert granted.status_code in (200, 201), granted.text
    auditor = Browser.signed_in(world.url, AUDITOR)

    listed = auditor.visit(variations_of(contract["id"]))
    shown = auditor.visit(sent.headers["location"])
    form = auditor.visit(proposal_form(contract["id"]))

    assert listed.status_code == shown.status_code == 200
    assert "Propose a variation" not in listed.text
    assert "Your decision" not in shown.text
    assert form.status_code == 403
    is_page(form, "You do not have permission to see this page")


def test_the_auditor_is_refused_a_decision_sent_without_a_form(world: World) -> None:
    _, _, sent = proposed_by_the_council(world)
    auditor = Browser.signed_in(world.url, AUDITOR)
    their_own = form_at(auditor.visit("/sign-out").text, "/sign-out")

    refused = auditor.post(sent.headers["location"] + "/reject", {**their_own, "reason": "no"})

    assert refused.status_code == 403
    is_page(refused, "You do not have permission to see this page")


@pytest.mark.parametrize("path", ["list", "proposal", "variation"])
def test_the_other_council_gets_the_permission_page(world: World, path: str) -> None:
    _, contract, sent = proposed_by_the_council(world)
    address = {
        "list": variations_of(contract["id"]),
        "proposal": proposal_form(contract["id"]),
        "variation": sent.headers["location"],
    }[path]

    page = Browser.signed_in(world.url, BIRMINGHAM_COMMISSIONER).visit(address)

    assert page.status_code == 403
    is_page(page, "You do not have permission to see this page")
    assert "Demand for care placements" not in page.text


def test_the_other_council_cannot_agree_with_a_form_of_its_own(world: World) -> None:
    _, contract, sent = proposed_by_the_council(world)
    birmingham = Browser.signed_in(world.url, BIRMINGHAM_COMMISSIONER)
    their_own = form_at(birmingham.visit("/sign-out").text, "/sign-out")

    refused = birmingham.post(
        sent.headers["location"] + "/agree",
        {**their_own, "version": str(world.version_of(contract))},
    )

    assert refused.status_code == 403
    assert only_variation(world, contract["id"])["status"] == "proposed"


@pytest.mark.parametrize(
    "address",
    [
        f"/contracts/{UNKNOWN}/variations",
        f"/contracts/{UNKNOWN}/variations/new",
        "/contracts/{contract}/variations/" + UNKNOWN,
        "/contracts/{contract}/variations/not-a-variation",
    ],
)
def test_an_unknown_contract_or_variation_is_the_not_found_page(world: World, address: str) -> None:
    contract = world.signed()

    page = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).visit(
        address.format(contract=contract["id"])
    )

    assert page.status_code == 404
    is_page(page, "Page not found")


def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(world: World) -> None:
    contract = world.signed()
    council = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    form = council.visit(proposal_form(contract["id"]))
    fields = form_at(form.text, proposal_form(contract["id"]))
    del fields["csrf_token"]

    refused = council.post(
        proposal_form(contract["id"]),
        {**fields, **A_NEW_SUM, "contract_sum": "60,000,000", "scope": form_scope(contract)},
    )

    assert refused.status_code == 403
    is_page(refused, "You do not have permission to see this page")
    assert world.commissioner.contract(contract["id"]).json()["variations"] == []


def test_a_reader_not_signed_in_is_sent_to_sign_in_first(world: World) -> None:
    contract = world.signed()

    page = Browser(world.url).visit(variations_of(contract["id"]))

    assert page.status_code == 303
    assert page.headers["location"] == (
        f"/sign-in?next=%2Fcontracts%2F{contract['id']}%2Fvariations"
    )


def test_the_api_keeps_its_json_where_the_pages_are_served(world: World) -> None:
    contract = world.signed()

    answer = world.commissioner.get(f"/contracts/{contract['id']}/variations")

    # The API has no list of variations of its own: a JSON client is not given the page.
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
