"""A value as the ledger stores it in an event (JSON) and reads it back."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

from domain.transcodings import register_domain_transcodings


def transcoded(value: Any) -> Any:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_domain_transcodings(transcoder)
    return transcoder.decode(transcoder.encode(value))
