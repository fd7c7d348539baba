"""The Then of a spec: a refused command leaves no trace, and stored events replay exactly.

with refused(notice, NoticeClosed):
    notice.resolve(actor=COMMISSIONER)

assert replayed(events) == aggregate
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)

from domain.errors import DomainError
from domain.transcodings import register_domain_transcodings


@contextmanager
def refused(aggregate: Any, error: type[DomainError]) -> Iterator[pytest.ExceptionInfo[Any]]:
    """The command in the block raises `error`, records no event and changes no state."""
    before = copy.deepcopy(aggregate)
    with pytest.raises(error) as caught:
        yield caught
    assert aggregate.collect_events() == []
    assert aggregate == before


def replayed(events: Sequence[Any]) -> Any:
    """Store the events as the ledger would (JSON) and rebuild their aggregate from what was
    stored, so that a value the transcoder loses or mistypes shows up as a difference."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_domain_transcodings(transcoder)
    mapper: Mapper[UUID] = Mapper(transcoder=transcoder)
    aggregate = None
    for domain_event in events:
        aggregate = mapper.to_domain_event(mapper.to_stored_event(domain_event)).mutate(aggregate)
    return aggregate
