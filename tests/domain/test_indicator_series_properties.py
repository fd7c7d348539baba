"""Properties of a KPI's series under any sequence of returns, restatements, queries, answers and
acceptances, by any of the parties or a stranger, in any order.

A small model says what each command should do. Whatever the order: a command the model refuses
is refused with a domain error and leaves neither an event nor a change behind; one it allows
records exactly one event; no return is ever lost or doubled; every value a return has had stays
in its history; and the series replayed from its events is the series.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.indicator_series import IndicatorSeries, ReturnStatus
from domain.indicators import CATALOGUE
from domain.reporting import ReportingPeriod
from tests.domain.specs import COMMISSIONER, COUNCIL_ORG, OUTSIDER, PROVIDER, TRUST_ORG
from tests.domain.then import replayed

# Caseload is returned as a value alone, to one decimal place: no counts to keep in step.
CASELOAD = CATALOGUE["sw_caseload"]
CONTRACT = UUID("0d1e6a55-8f0b-4c1e-9a47-3b9c2f5e7d10")
PERIODS = [ReportingPeriod.parse(label) for label in ("2023-24", "2024-25")]

values = st.decimals(min_value=0, max_value=40, places=1)
periods = st.integers(min_value=0, max_value=len(PERIODS) - 1)
# Mostly the party whose command it is, so that sequences get far enough to matter; sometimes
# the other party or a stranger.
trust_first = st.sampled_from([PROVIDER, PROVIDER, PROVIDER, COMMISSIONER, OUTSIDER])
council_first = st.sampled_from([COMMISSIONER, COMMISSIONER, COMMISSIONER, PROVIDER, OUTSIDER])

commands = st.one_of(
    st.tuples(st.just("submit"), trust_first, periods, values),
    st.tuples(st.just("restate"), trust_first, periods, values),
    st.tuples(st.just("query"), council_first, periods),
    # The n-th query asked so far (or, beyond them, one never asked).
    st.tuples(st.just("answer"), trust_first, st.integers(min_value=0, max_value=6)),
    st.tuples(st.just("accept"), council_first, periods),
)


@dataclass
class ModelReturn:
    value: Decimal
    values_given: int = 1
    accepted: bool = False
    open_queries: set[UUID] = field(default_factory=set)


@dataclass
class Model:
    """What the series should hold, by period label, and every query asked, in order."""

    returns: dict[str, ModelReturn] = field(default_factory=dict)
    queries: list[tuple[str, UUID]] = field(default_factory=list)

    def allows(self, command: tuple[Any, ...]) -> bool:
        """The rules: the trust submits once per period, restates to a new value and answers
        an open query; the council queries a return and accepts it, once, with no query
        open. Nobody else does anything."""
        name, actor = command[0], command[1]
        if name == "answer":
            if command[2] >= len(self.queries):
                return False
            label, query_id = self.queries[command[2]]
            return actor is PROVIDER and query_id in self.returns[label].open_queries
        current = self.returns.get(PERIODS[command[2]].label)
        if name == "submit":
            return actor is PROVIDER and current is None
        if name == "restate":
            return actor is PROVIDER and current is not None and current.value != command[3]
        if name == "query":
            return actor is COMMISSIONER and current is not None
        return (
            actor is COMMISSIONER
            and current is not None
            and not current.accepted
            and not current.open_queries
        )

    def record(self, command: tuple[Any, ...], query_id: UUID | None) -> None:
        """What an allowed command changes."""
        name = command[0]
        if name == "answer":
            label, answered = self.queries[command[2]]
            self.returns[label].open_queries.discard(answered)
            return
        label = PERIODS[command[2]].label
        if name == "submit":
            self.returns[label] = ModelReturn(command[3])
        elif name == "restate":
            current = self.returns[label]
            current.value, current.accepted = command[3], False
            current.values_given += 1
        elif name == "query":
            assert query_id is not None
            self.returns[label].open_queries.add(query_id)
            self.queries.append((label, query_id))
        else:
            self.returns[label].accepted = True


def carry_out(series: IndicatorSeries, model: Model, command: tuple[Any, ...]) -> UUID | None:
    """Give the series the command; a query's id if it asked one."""
    name, actor = command[0], command[1]
    if name == "answer":
        query_id = model.queries[command[2]][1] if command[2] < len(model.queries) else uuid4()
        series.answer_query(query_id=query_id, answer="Because.", actor=actor)
        return None
    period = PERIODS[command[2]]
    if name == "submit":
        series.submit_return(
            period=period,
            value=command[3],
            numerator=None,
            denominator=None,
            commentary="",
            due_on=period.ends + timedelta(days=30),
            submitted_on=period.ends + timedelta(days=10),
            actor=actor,
        )
    elif name == "restate":
        series.restate_return(
            period_label=period.label,
            value=command[3],
            numerator=None,
            denominator=None,
            reason="recounted",
            actor=actor,
        )
    elif name == "query":
        return series.query_return(period_label=period.label, question="Why?", actor=actor)
    else:
        series.accept_return(period_label=period.label, actor=actor)
    return None


@settings(max_examples=200, deadline=None)
@given(st.lists(commands, min_size=15, max_size=40))
def test_any_sequence_of_commands_keeps_every_return_once_with_all_its_values(
    sequence: list[tuple[Any, ...]],
) -> None:
    series = IndicatorSeries.start(
        contract_id=CONTRACT,
        indicator=CASELOAD,
        council_organisation_id=COUNCIL_ORG,
        trust_organisation_id=TRUST_ORG,
        actor=PROVIDER,
    )
    events = list(series.collect_events())
    model = Model()

    for command in sequence:
        expected = model.allows(command)
        before = copy.deepcopy(series)
        try:
            query_id = carry_out(series, model, command)
        except DomainError:
            assert not expected, f"{command} was refused, but the rules allow it"
            assert series.collect_events() == []
            assert series == before
            continue
        assert expected, f"{command} was allowed, but the rules refuse it"
        [recorded] = series.collect_events()
        assert recorded.actor == command[1]
        events.append(recorded)
        model.record(command, query_id)

    assert sorted(series.returns) == sorted(model.returns)
    kept_periods = [r.period for r in series.returns.values()]
    assert kept_periods == sorted(kept_periods)
    for label, expected_return in model.returns.items():
        kept = series.returns[label]
        assert kept.value == kept.history[-1].value == expected_return.value
        assert len(kept.history) == expected_return.values_given
        assert (kept.status is ReturnStatus.ACCEPTED) is expected_return.accepted
        assert {q.query_id for q in kept.open_queries} == expected_return.open_queries
    assert replayed(events) == series
