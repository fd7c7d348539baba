"""Which events a view reads (those its aggregates declare), and how a worker decodes them."""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.utils import get_topic

from domain.actor import Actor
from domain.ledger import LedgerAggregate
from domain.reporting import ReportingPeriod

# Value objects nearly every event carries, most of them equal to one already read: an actor on
# every event, a reporting period on every return. Both are frozen dataclasses of strings, dates
# and enums, so one decoded instance can stand for every equal one. Decoding them again (a
# dataclass built field by field, a period's validation) was a fifth of decoding the log.
_REUSED: tuple[type[Any], ...] = (Actor, ReportingPeriod)
# Values kept for reuse, at most: actors carry the request they came in, so a live ledger's are
# seldom equal, and what is kept must not grow with the log.
_KEPT = 4096


def declared_events(*kinds: type[LedgerAggregate]) -> tuple[type[LedgerAggregate.Event], ...]:
    """Every event class the aggregates declare (their nested classes)."""
    return tuple(
        member
        for kind in kinds
        for member in vars(kind).values()
        if isinstance(member, type) and issubclass(member, LedgerAggregate.Event)
    )


def topics_of(*kinds: type[LedgerAggregate]) -> tuple[str, ...]:
    """The topics the log stores those events under, to read only them."""
    return tuple(get_topic(event) for event in declared_events(*kinds))


def reusing_mapper(mapper: Mapper[UUID]) -> Mapper[UUID]:
    """The ledger's mapper, decoding equal actors and periods into one shared instance. One per
    thread: what it keeps is not guarded."""
    assert isinstance(mapper.transcoder, JSONTranscoder)
    reusing = copy.copy(mapper)
    reusing.transcoder = _ReusingTranscoder(mapper.transcoder)
    return reusing


class _ReusingTranscoder(JSONTranscoder):
    def __init__(self, transcoder: JSONTranscoder) -> None:
        super().__init__()
        self.types, self.names = transcoder.types, transcoder.names
        self._reused = {transcoder.types[kind].name for kind in _REUSED}
        self._kept: dict[tuple[Any, ...], Any] = {}

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        # Called for every object in every event, most of them not encoded values: those are
        # told apart with as few lookups as will do.
        if len(d) != 2:
            return d
        name = d.get("_type_")
        transcoding = self.names.get(name) if isinstance(name, str) else None
        if transcoding is None or "_data_" not in d:
            return super()._decode_obj(d)
        data = d["_data_"]
        if name not in self._reused:
            return transcoding.decode(data)
        # By name and fields, as the JSON has them: equal fields make an equal value.
        key = (name, *data.items())
        found = self._kept.get(key)
        if found is None:
            if len(self._kept) >= _KEPT:
                self._kept.clear()
            found = self._kept[key] = transcoding.decode(data)
        return found
