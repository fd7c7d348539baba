"""How a worker reads the log: the events its mapper decodes are the ledger's own."""

from __future__ import annotations

from domain.application import Trustledger
from domain.indicator_series import IndicatorSeries
from projections.events import reusing_mapper
from tests.projections.builders import with_two_quarters


def test_the_workers_mapper_decodes_the_same_events_sharing_equal_actors_and_periods(
    ledger: Trustledger,
) -> None:
    history = with_two_quarters()
    ledger.events.put(history.events)
    stored = ledger.recorder.select_notifications(None, 1_000)
    reusing = reusing_mapper(ledger.mapper)

    decoded = [reusing.to_domain_event(n) for n in stored]

    assert [vars(e) for e in decoded] == [vars(ledger.mapper.to_domain_event(n)) for n in stored]
    by_user = {e.actor.user_id: e.actor for e in decoded}  # type: ignore[attr-defined]
    assert all(e.actor is by_user[e.actor.user_id] for e in decoded)  # type: ignore[attr-defined]
    periods = [
        [e.period for e in events if isinstance(e, IndicatorSeries.ReturnSubmitted)]
        for events in (decoded, [reusing.to_domain_event(n) for n in stored])
    ]
    assert periods[0]
    assert all(a is b for a, b in zip(*periods, strict=True))
