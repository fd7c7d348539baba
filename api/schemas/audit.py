"""The audit log's answers, shaped as RFC 6962's HTTP API shapes them: hashes in standard
base64, leaves by index, proofs as lists of hashes."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from projections.audit_log import LoggedEvent, StoredCheckpoint, StoredLeaf


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


class CheckpointView(BaseModel):
    tree_size: int
    root_hash: str = Field(description="base64 of the RFC 9162 root hash")
    signed_at: datetime
    checkpoint: str = Field(description="the C2SP tlog-checkpoint signed note, verbatim")

    @classmethod
    def of(cls, checkpoint: StoredCheckpoint) -> CheckpointView:
        return cls(
            tree_size=checkpoint.size,
            root_hash=b64(checkpoint.root),
            signed_at=checkpoint.signed_at,
            checkpoint=checkpoint.note,
        )


class CheckpointHistory(BaseModel):
    checkpoints: list[CheckpointView] = Field(description="largest first")
    next_before: int | None = Field(description="pass as `before` for the next page")


def _plain(value: Any) -> Any:
    """The library's JSON with its type tags ({"_type_": ..., "_data_": ...}) taken off, as
    people read it; the exact bytes stay in `state`."""
    if isinstance(value, dict):
        if value.keys() == {"_type_", "_data_"}:
            return _plain(value["_data_"])
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class EventView(BaseModel):
    position: int = Field(description="the event's notification id in the ledger")
    aggregate_id: UUID
    aggregate_version: int
    topic: str
    state: str = Field(description="base64 of the bytes stored, from which the leaf is built")
    recorded: Any = Field(description="the stored state read as JSON, for people")

    @classmethod
    def of(cls, event: LoggedEvent) -> EventView:
        try:
            recorded = _plain(json.loads(event.state))
        except ValueError:
            recorded = None
        return cls(
            position=event.position,
            aggregate_id=event.aggregate_id,
            aggregate_version=event.version,
            topic=event.topic,
            state=b64(event.state),
            recorded=recorded,
        )


class LeafView(BaseModel):
    leaf_index: int
    leaf_hash: str
    recorded_at: datetime
    leaf_input: str | None = Field(
        description="base64 of the exact leaf bytes; withheld, like the event, from readers "
        "who may not see the event"
    )
    event: EventView | None
    withheld: bool = Field(description="true when the reader may not see this leaf's event")

    @classmethod
    def of(cls, leaf: StoredLeaf, visible: bool) -> LeafView:
        shown = leaf.event if visible else None
        return cls(
            leaf_index=leaf.index,
            leaf_hash=b64(leaf.hash),
            recorded_at=leaf.recorded_at,
            leaf_input=None if shown is None else b64(shown.leaf_input()),
            event=None if shown is None else EventView.of(shown),
            withheld=not visible,
        )


class InclusionProof(BaseModel):
    leaf_index: int
    tree_size: int
    audit_path: list[str]


class ConsistencyProof(BaseModel):
    first: int
    second: int
    consistency: list[str]
