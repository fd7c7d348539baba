"""Properties of a live contract's sums under any sequence of variations proposed, agreed,
rejected and withdrawn, by either party or a stranger, in any order.

A small model says what each command should do. Whatever the order: a refused command leaves
neither an event nor a change; an allowed one records exactly one event; two open proposals
never touch the same year; and the contract's sums are always the sums it was signed with,
overlaid by each agreed variation in the order they were agreed, and nothing else.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.actor import Actor
from domain.errors import DomainError
from domain.service_contract import ServiceContract, VariationChanges, VariationStatus
from tests.domain.specs import COMMISSIONER, OUTSIDER, PROVIDER
from tests.domain.test_service_contract import MILLION_POUNDS, SUMS, a_live_contract

YEARS = ("2018-19", "2019-20", "2020-21")
# Few amounts, so that a proposal often asks for the sum a year already has.
AMOUNTS = (58 * MILLION_POUNDS, 60 * MILLION_POUNDS, 63 * MILLION_POUNDS)

either_party = st.sampled_from([COMMISSIONER, PROVIDER, COMMISSIONER, PROVIDER, OUTSIDER])
sums = st.dictionaries(st.sampled_from(YEARS), st.sampled_from(AMOUNTS), min_size=1, max_size=2)
# The n-th variation proposed so far (or, beyond them, one never proposed).
nth = st.integers(min_value=0, max_value=6)
commands = st.one_of(
    st.tuples(st.just("propose"), either_party, sums),
    st.tuples(st.just("agree"), either_party, nth),
    st.tuples(st.just("reject"), either_party, nth),
    st.tuples(st.just("withdraw"), either_party, nth),
)


@dataclass
class ModelVariation:
    proposer: Actor
    sums: dict[str, int]
    open: bool = True


@dataclass
class Model:
    sums: dict[str, int] = field(default_factory=lambda: dict(SUMS))
    variations: list[ModelVariation] = field(default_factory=list)

    def allows(self, command: tuple[Any, ...]) -> bool:
        name, actor, argument = command
        if actor is OUTSIDER:
            return False
        if name == "propose":
            changes_something = any(self.sums.get(y) != p for y, p in argument.items())
            overlaps = any(v.open and v.sums.keys() & argument.keys() for v in self.variations)
            return changes_something and not overlaps
        if argument >= len(self.variations) or not self.variations[argument].open:
            return False
        by_proposer = self.variations[argument].proposer is actor
        return by_proposer if name == "withdraw" else not by_proposer

    def record(self, command: tuple[Any, ...]) -> None:
        name, actor, argument = command
        if name == "propose":
            self.variations.append(ModelVariation(actor, dict(argument)))
            return
        variation = self.variations[argument]
        variation.open = False
        if name == "agree":
            self.sums.update(variation.sums)


def carry_out(contract: ServiceContract, ids: list[UUID], command: tuple[Any, ...]) -> UUID | None:
    name, actor, argument = command
    if name == "propose":
        return contract.propose_variation(
            changes=VariationChanges(contract_sums=dict(argument)), rationale="why", actor=actor
        )
    variation_id = ids[argument] if argument < len(ids) else uuid4()
    if name == "agree":
        contract.agree_variation(variation_id=variation_id, actor=actor)
    elif name == "reject":
        contract.reject_variation(variation_id=variation_id, reason="no", actor=actor)
    else:
        contract.withdraw_variation(variation_id=variation_id, actor=actor)
    return None


@settings(max_examples=200, deadline=None)
@given(st.lists(commands, min_size=10, max_size=40))
def test_the_sums_are_the_signed_sums_overlaid_by_each_agreed_variation_in_turn(
    sequence: list[tuple[Any, ...]],
) -> None:
    contract = a_live_contract()
    model = Model()
    ids: list[UUID] = []

    for command in sequence:
        expected = model.allows(command)
        before = copy.deepcopy(vars(contract))
        try:
            variation_id = carry_out(contract, ids, command)
        except DomainError:
            assert not expected, f"{command} was refused, but the rules allow it"
            assert contract.collect_events() == []
            assert vars(contract) == before
            continue
        assert expected, f"{command} was allowed, but the rules refuse it"
        [recorded] = contract.collect_events()
        assert recorded.actor == command[1]
        if variation_id is not None:
            ids.append(variation_id)
        model.record(command)
        open_years = [y for v in contract.open_variations for y in v.changes.contract_sums or {}]
        assert len(open_years) == len(set(open_years))

    assert contract.contract_sums == model.sums
    assert list(contract.contract_sums) == sorted(contract.contract_sums)
    statuses = [contract.variations[i].status for i in ids]
    assert [s is VariationStatus.PROPOSED for s in statuses] == [v.open for v in model.variations]
