"""A signed contract's money and its end, over HTTP: the trust reports its forecast, the council
pays; the council takes up an extension or uses the break clause, the term runs out, either
party terminates, or the council takes the services back in house."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import (
    NOT_A_PARTY,
    NOT_THE_COUNCIL,
    NOT_THE_TRUST,
    World,
    denied,
    refused,
    succeeded,
)

FIFTY_EIGHT_MILLION = 5_800_000_000
Q3_FORECAST = {
    "financial_year": "2018-19",
    "period": "Q3",
    "forecast_outturn": 6_020_000_000,
    "commentary": "External placements £2.2m over budget",
}
APRIL_PAYMENT = {"amount": 483_333_333, "paid_on": "2018-04-30", "reference": "SCT-2018-04"}
EARLY_END = {"reason": "Persistent failure to remedy under clause 31", "ends_on": "2024-03-31"}
BACK_IN_HOUSE = {
    "reason": "Services return to the council, as Doncaster's did on 1 April 2022",
    "ends_on": "2022-03-31",
}


def ran_out(world: World) -> dict[str, Any]:
    """A signed contract whose five-year term ended on 31 March 2020."""
    return world.signed(term={"starts": "2015-04-01", "ends": "2020-03-31"})


# -- financial positions ------------------------------------------------------------------------


def test_the_trust_reports_its_forecast_against_the_years_contract_sum(world: World) -> None:
    contract = world.signed()

    response = world.provider.report_financial_position(contract["id"], **Q3_FORECAST)

    reported = succeeded(response)
    [position] = reported["financial_positions"]
    assert position["forecast_outturn"] == 6_020_000_000
    assert position["contract_sum"] == FIFTY_EIGHT_MILLION
    assert world.who(position["reported_by"]) == "provider"
    assert reported["latest_financial_positions"] == {"2018-19": position}


def test_a_period_that_is_not_a_quarter_or_month_is_invalid(world: World) -> None:
    contract = world.signed()

    response = world.provider.report_financial_position(
        contract["id"], **{**Q3_FORECAST, "period": "Q5"}
    )

    refused(response, 422, "invalid-period")


@pytest.mark.parametrize("forecast", [-1, 6_020_000_000.5, 6_020_000_000.0, "6020000000"])
def test_a_forecast_is_a_whole_number_of_pence_and_not_negative(
    world: World, forecast: object
) -> None:
    contract = world.signed()

    response = world.provider.report_financial_position(
        contract["id"], **{**Q3_FORECAST, "forecast_outturn": forecast}
    )

    refused(response, 422, "invalid-request")
    assert world.version_of(contract) == contract["version"]


@pytest.mark.parametrize(("who", "status"), NOT_THE_TRUST)
def test_only_the_trust_may_report_its_financial_position(
    world: World, who: str, status: int
) -> None:
    contract = world.signed()

    denied(world.person(who).report_financial_position(contract["id"], **Q3_FORECAST), status)
    assert world.version_of(contract) == contract["version"]


# -- payments -----------------------------------------------------------------------------------


def test_the_council_records_a_payment_to_the_trust(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.record_payment(contract["id"], **APRIL_PAYMENT)

    created = succeeded(response, 201)
    [payment] = created["contract"]["payments"]
    assert payment["payment_id"] == created["id"]
    assert payment["amount"] == 483_333_333
    assert world.who(payment["recorded_by"]) == "commissioner"
    assert created["contract"]["paid_by_year"] == {"2018-19": 483_333_333}


@pytest.mark.parametrize("amount", [0, -100, 100.5, "100", True])
def test_a_payment_is_a_positive_whole_number_of_pence(world: World, amount: object) -> None:
    contract = world.signed()

    response = world.commissioner.record_payment(
        contract["id"], **{**APRIL_PAYMENT, "amount": amount}
    )

    refused(response, 422, "invalid-request")
    assert world.version_of(contract) == contract["version"]


def test_a_payment_under_a_contract_not_yet_signed_is_a_conflict(world: World) -> None:
    contract = world.draft()

    response = world.commissioner.record_payment(contract["id"], **APRIL_PAYMENT)

    refused(response, 409, "contract-not-live")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_record_a_payment(world: World, who: str, status: int) -> None:
    contract = world.signed()

    denied(world.person(who).record_payment(contract["id"], **APRIL_PAYMENT), status)
    assert world.version_of(contract) == contract["version"]


# -- extension ----------------------------------------------------------------------------------


def test_the_council_takes_up_the_two_year_option_and_the_term_ends_in_2030(
    world: World,
) -> None:
    contract = world.signed()

    response = world.commissioner.extend(contract["id"], 24)

    extended = succeeded(response)
    assert extended["term"]["ends"] == "2030-03-31"
    assert extended["term"]["extension_options"] == []
    [extension] = extended["extensions"]
    assert extension["months"] == 24
    assert world.who(extension["extended_by"]) == "commissioner"


def test_an_option_the_term_does_not_have_is_a_conflict(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.extend(contract["id"], 12)

    refused(response, 409, "no-such-option")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_extend_the_term(world: World, who: str, status: int) -> None:
    contract = world.signed()

    denied(world.person(who).extend(contract["id"], 24), status)
    assert world.version_of(contract) == contract["version"]


# -- the break clause ---------------------------------------------------------------------------


def test_the_council_decides_not_to_use_the_break_clause(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.consider_break_clause(
        contract["id"], used=False, rationale="Improvement since 2019 is sustained"
    )

    decided = succeeded(response)
    [decision] = decided["break_clause_decisions"]
    assert decision["used"] is False
    assert world.who(decision["decided_by"]) == "commissioner"
    assert decided["ending"] is None
    assert decided["status"] == "live"


def test_using_the_break_clause_ends_the_contract(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.consider_break_clause(
        contract["id"], used=True, rationale="No improvement", ends_on="2024-03-31"
    )

    ended = succeeded(response)
    assert ended["ending"]["kind"] == "break-clause"
    assert ended["ends_on"] == "2024-03-31"
    assert ended["status"] == "ended"


def test_using_the_break_clause_needs_the_last_day(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.consider_break_clause(
        contract["id"], used=True, rationale="No improvement"
    )

    refused(response, 422, "invalid-date")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_decide_on_the_break_clause(
    world: World, who: str, status: int
) -> None:
    contract = world.signed()

    response = world.person(who).consider_break_clause(
        contract["id"], used=False, rationale="Keep going"
    )

    denied(response, status)
    assert world.version_of(contract) == contract["version"]


# -- expiry -------------------------------------------------------------------------------------


def test_either_party_records_that_the_term_ran_out(world: World) -> None:
    contract = ran_out(world)

    response = world.provider.expire(contract["id"])

    expired = succeeded(response)
    assert expired["ending"]["kind"] == "expired"
    assert expired["ending"]["ends_on"] == "2020-03-31"
    assert world.who(expired["ending"]["ended_by"]) == "provider"
    assert expired["status"] == "ended"


def test_a_contract_does_not_expire_before_its_term_ends(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.expire(contract["id"])

    refused(response, 409, "term-not-ended")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_record_its_expiry(
    world: World, who: str, status: int
) -> None:
    contract = ran_out(world)

    denied(world.person(who).expire(contract["id"]), status)
    assert world.version_of(contract) == contract["version"]


# -- termination --------------------------------------------------------------------------------


def test_the_trust_terminates_under_its_clauses(world: World) -> None:
    contract = world.signed()

    response = world.provider.terminate(contract["id"], **EARLY_END)

    terminated = succeeded(response)
    assert terminated["ending"]["kind"] == "terminated"
    assert terminated["ending"]["reason"] == EARLY_END["reason"]
    assert world.who(terminated["ending"]["ended_by"]) == "provider"
    assert terminated["ends_on"] == "2024-03-31"


def test_an_ended_contract_takes_no_more_changes(world: World) -> None:
    contract = world.signed()
    succeeded(world.commissioner.terminate(contract["id"], **EARLY_END))

    again = world.commissioner.terminate(contract["id"], **EARLY_END)
    payment = world.commissioner.record_payment(contract["id"], **APRIL_PAYMENT)

    refused(again, 409, "contract-ended")
    refused(payment, 409, "contract-ended")


def test_a_termination_against_a_stale_etag_is_refused(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.terminate(contract["id"], if_match='"1"', **EARLY_END)

    refused(response, 412, "stale-version")
    assert world.commissioner.contract(contract["id"]).json()["ending"] is None


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_terminate_it(world: World, who: str, status: int) -> None:
    contract = world.signed()

    denied(world.person(who).terminate(contract["id"], **EARLY_END), status)
    assert world.version_of(contract) == contract["version"]


# -- return in house ----------------------------------------------------------------------------


def test_the_council_takes_the_services_back_and_open_proposals_lapse(world: World) -> None:
    contract = world.signed()
    succeeded(
        world.provider.propose_variation(
            contract["id"],
            changes={"scope": ["assessment", "child-protection"]},
            rationale="Hand the front door back to the council",
        ),
        201,
    )

    response = world.commissioner.return_in_house(contract["id"], **BACK_IN_HOUSE)

    returned = succeeded(response)
    assert returned["ending"]["kind"] == "returned-in-house"
    assert returned["ending"]["reason"] == BACK_IN_HOUSE["reason"]
    assert world.who(returned["ending"]["ended_by"]) == "commissioner"
    assert returned["status"] == "ended"
    assert [v["status"] for v in returned["variations"]] == ["lapsed"]


def test_the_last_day_in_house_must_fall_within_the_term(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.return_in_house(
        contract["id"], **{**BACK_IN_HOUSE, "ends_on": "2031-03-31"}
    )

    refused(response, 422, "invalid-date")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_take_services_back_in_house(
    world: World, who: str, status: int
) -> None:
    contract = world.signed()

    denied(world.person(who).return_in_house(contract["id"], **BACK_IN_HOUSE), status)
    assert world.version_of(contract) == contract["version"]
