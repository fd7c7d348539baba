"""Varying a signed contract over HTTP: one party proposes, the other agrees or rejects, the
proposer may withdraw. Told through Sandwell's extra £5m for 2019-20."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.api.conftest import NOT_A_PARTY, World, denied, refused, succeeded

FIFTY_EIGHT_MILLION = 5_800_000_000
SIXTY_THREE_MILLION = 6_300_000_000
FIVE_MILLION_MORE = {
    "changes": {"contract_sums": {"2019-20": SIXTY_THREE_MILLION}},
    "rationale": "Demand for children in care rose faster than planned: £5m more for 2019-20",
}


def a_contract(world: World) -> dict[str, Any]:
    """Sandwell's contract, signed, with £58m agreed for each of its first two years."""
    return world.signed(
        contract_sums={"2018-19": FIFTY_EIGHT_MILLION, "2019-20": FIFTY_EIGHT_MILLION}
    )


def proposed(world: World) -> tuple[dict[str, Any], str]:
    """A signed contract, and the trust's proposal of £5m more for 2019-20."""
    contract = a_contract(world)
    created = succeeded(world.provider.propose_variation(contract["id"], **FIVE_MILLION_MORE), 201)
    return created["contract"], created["id"]


# -- proposing ----------------------------------------------------------------------------------


def test_the_trust_proposes_five_million_more_for_2019_20_and_nothing_changes_yet(
    world: World,
) -> None:
    contract = a_contract(world)

    response = world.provider.propose_variation(contract["id"], **FIVE_MILLION_MORE)

    created = succeeded(response, 201)
    [variation] = created["contract"]["variations"]
    assert variation["variation_id"] == created["id"]
    assert variation["status"] == "proposed"
    assert variation["proposer"] == "provider"
    assert world.who(variation["proposed_by"]) == "provider"
    assert variation["proposed_by"]["request_id"] == response.headers["X-Request-ID"]
    assert created["contract"]["contract_sums"]["2019-20"] == FIFTY_EIGHT_MILLION


def test_a_variation_on_a_draft_contract_is_a_conflict(world: World) -> None:
    contract = world.draft(contract_sums={"2019-20": FIFTY_EIGHT_MILLION})

    response = world.provider.propose_variation(contract["id"], **FIVE_MILLION_MORE)

    refused(response, 409, "contract-not-live")
    assert world.commissioner.contract(contract["id"]).json()["variations"] == []


def test_a_variation_that_would_change_nothing_is_invalid(world: World) -> None:
    contract = a_contract(world)

    response = world.provider.propose_variation(
        contract["id"],
        changes={"contract_sums": {"2019-20": FIFTY_EIGHT_MILLION}},
        rationale="The same again",
    )

    refused(response, 422, "invalid-variation")


def test_a_second_proposal_on_the_same_years_sum_waits_for_the_first(world: World) -> None:
    contract, _ = proposed(world)

    response = world.commissioner.propose_variation(
        contract["id"],
        changes={"contract_sums": {"2019-20": 6_000_000_000}},
        rationale="Meet the trust half way",
    )

    refused(response, 409, "variation-already-open")


def test_a_proposal_with_a_field_the_api_does_not_know_is_refused(world: World) -> None:
    contract = a_contract(world)

    response = world.provider.propose_variation(
        contract["id"], **FIVE_MILLION_MORE, effective_from="2019-04-01"
    )

    refused(response, 422, "invalid-request")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_propose_a_variation(
    world: World, who: str, status: int
) -> None:
    contract = a_contract(world)

    denied(world.person(who).propose_variation(contract["id"], **FIVE_MILLION_MORE), status)
    assert world.version_of(contract) == contract["version"]


# -- agreeing -----------------------------------------------------------------------------------


def test_the_council_agrees_with_if_match_and_the_2019_20_sum_becomes_63_million(
    world: World,
) -> None:
    contract, variation_id = proposed(world)

    response = world.commissioner.agree_variation(
        contract["id"], variation_id, f'"{contract["version"]}"'
    )

    agreed = succeeded(response)
    assert agreed["contract_sums"] == {
        "2018-19": FIFTY_EIGHT_MILLION,
        "2019-20": SIXTY_THREE_MILLION,
    }
    [variation] = agreed["variations"]
    assert variation["status"] == "agreed"
    assert world.who(variation["decided_by"]) == "commissioner"


def test_agreeing_needs_the_etag_of_the_contract_read(world: World) -> None:
    contract, variation_id = proposed(world)

    missing = world.commissioner.agree_variation(contract["id"], variation_id)
    stale = world.commissioner.agree_variation(
        contract["id"], variation_id, f'"{contract["version"] - 1}"'
    )

    refused(missing, 428, "precondition-required")
    problem = refused(stale, 412, "stale-version")
    assert f"version {contract['version']}" in problem["detail"]
    after = world.commissioner.contract(contract["id"]).json()
    assert after["contract_sums"]["2019-20"] == FIFTY_EIGHT_MILLION


def test_a_proposer_agreeing_its_own_variation_is_a_conflict(world: World) -> None:
    contract, variation_id = proposed(world)

    response = world.provider.agree_variation(
        contract["id"], variation_id, f'"{contract["version"]}"'
    )

    refused(response, 409, "own-variation")
    assert world.version_of(contract) == contract["version"]


def test_agreeing_a_variation_the_contract_does_not_have_is_not_found(world: World) -> None:
    contract = a_contract(world)

    response = world.commissioner.agree_variation(
        contract["id"], uuid4(), f'"{contract["version"]}"'
    )

    refused(response, 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_agree_a_variation(
    world: World, who: str, status: int
) -> None:
    contract, variation_id = proposed(world)

    response = world.person(who).agree_variation(
        contract["id"], variation_id, f'"{contract["version"]}"'
    )

    denied(response, status)
    assert world.version_of(contract) == contract["version"]


# -- rejecting ----------------------------------------------------------------------------------


def test_the_council_rejects_the_variation_with_its_reason(world: World) -> None:
    contract, variation_id = proposed(world)

    response = world.commissioner.reject_variation(
        contract["id"], variation_id, "Not within the council's medium-term financial plan"
    )

    rejected = succeeded(response)
    [variation] = rejected["variations"]
    assert variation["status"] == "rejected"
    assert variation["rejection_reason"] == "Not within the council's medium-term financial plan"
    assert world.who(variation["decided_by"]) == "commissioner"
    assert rejected["contract_sums"]["2019-20"] == FIFTY_EIGHT_MILLION


def test_the_proposer_cannot_reject_its_own_variation(world: World) -> None:
    contract, variation_id = proposed(world)

    response = world.provider.reject_variation(contract["id"], variation_id, "Changed our mind")

    refused(response, 409, "own-variation")


def test_a_rejection_against_a_stale_etag_is_refused(world: World) -> None:
    contract, variation_id = proposed(world)

    response = world.commissioner.reject_variation(
        contract["id"], variation_id, "Unaffordable", if_match='"1"'
    )

    refused(response, 412, "stale-version")
    assert world.version_of(contract) == contract["version"]


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_reject_a_variation(
    world: World, who: str, status: int
) -> None:
    contract, variation_id = proposed(world)

    denied(world.person(who).reject_variation(contract["id"], variation_id, "No"), status)
    assert world.version_of(contract) == contract["version"]


# -- withdrawing --------------------------------------------------------------------------------


def test_the_trust_withdraws_its_own_proposal(world: World) -> None:
    contract, variation_id = proposed(world)

    response = world.provider.withdraw_variation(contract["id"], variation_id)

    withdrawn = succeeded(response)
    [variation] = withdrawn["variations"]
    assert variation["status"] == "withdrawn"
    assert world.who(variation["decided_by"]) == "provider"
    assert withdrawn["contract_sums"]["2019-20"] == FIFTY_EIGHT_MILLION


def test_only_the_proposer_may_withdraw_a_variation(world: World) -> None:
    contract, variation_id = proposed(world)

    response = world.commissioner.withdraw_variation(contract["id"], variation_id)

    refused(response, 409, "not-proposer")


def test_a_withdrawn_variation_can_no_longer_be_agreed(world: World) -> None:
    contract, variation_id = proposed(world)
    withdrawn = succeeded(world.provider.withdraw_variation(contract["id"], variation_id))

    response = world.commissioner.agree_variation(
        contract["id"], variation_id, f'"{withdrawn["version"]}"'
    )

    refused(response, 409, "variation-not-open")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_withdraw_a_variation(
    world: World, who: str, status: int
) -> None:
    contract, variation_id = proposed(world)

    denied(world.person(who).withdraw_variation(contract["id"], variation_id), status)
    assert world.version_of(contract) == contract["version"]
