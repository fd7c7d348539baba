"""The audit log: signed checkpoints, leaves and proofs, for anyone signed in.

Proofs and checkpoints reveal hashes only. A leaf's bytes contain its event, so they are shown
with the event, to those who may read it; everyone else gets the leaf's hash.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse

from api.deps import Caller, Ledger, allowed
from api.policy import POLICY, Principal, Scope, can_read
from api.routers.contracts import parties
from api.schemas.audit import (
    CheckpointHistory,
    CheckpointView,
    ConsistencyProof,
    InclusionProof,
    LeafView,
    b64,
)
from domain.account import Account
from domain.application import Trustledger
from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.performance_notice import PerformanceNotice
from domain.service_contract import ServiceContract
from projections.audit_log import AuditLog, LoggedEvent

router = APIRouter(prefix="/audit", tags=["audit"])

Reader = Annotated[Caller, Depends(allowed("audit.read"))]
# Indexes and sizes fit the stores' 64-bit integers: a larger one is no leaf or size the log can
# hold, and is refused as invalid rather than overflowing the store's query.
LARGEST = 2**62
Size = Annotated[int, Query(ge=0, le=LARGEST)]


def get_audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


Audit = Annotated[AuditLog, Depends(get_audit)]


@router.get(
    "/public-key",
    response_class=PlainTextResponse,
    summary="The key checkpoints are signed with, as a C2SP signed-note verifier key",
)
def public_key(_: Reader, audit: Audit) -> str:
    return audit.signer.verifier_key + "\n"


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint, signed now if the log has grown since the last",
)
def checkpoint(_: Reader, audit: Audit) -> CheckpointView:
    return CheckpointView.of(audit.sign())


@router.get("/checkpoints", summary="The checkpoints signed so far, largest first")
def checkpoints(
    _: Reader,
    audit: Audit,
    before: Annotated[
        int | None, Query(ge=1, le=LARGEST, description="only sizes below this")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CheckpointHistory:
    found = audit.checkpoints(before, limit)
    return CheckpointHistory(
        checkpoints=[CheckpointView.of(c) for c in found],
        next_before=found[-1].size if len(found) == limit else None,
    )


@router.get("/leaves/{index}", summary="A leaf, and the event it covers if you may read it")
def leaf(
    index: Annotated[int, Path(ge=0, le=LARGEST)], caller: Reader, audit: Audit, ledger: Ledger
) -> LeafView:
    found = audit.leaf(index)
    visible = found.event is None or _may_read(caller.principal, ledger, found.event)
    return LeafView.of(found, visible)


@router.get("/proof/inclusion", summary="The proof that a leaf is in the tree of a given size")
def inclusion(
    index: Annotated[int, Query(ge=0, le=LARGEST)], size: Size, _: Reader, audit: Audit
) -> InclusionProof:
    path = audit.inclusion_proof(index, size)
    return InclusionProof(leaf_index=index, tree_size=size, audit_path=[b64(h) for h in path])


@router.get(
    "/proof/consistency", summary="The proof that the tree of one size extends that of another"
)
def consistency(
    first: Annotated[int, Query(alias="from", ge=1, le=LARGEST)],
    second: Annotated[int, Query(alias="to", ge=1, le=LARGEST)],
    _: Reader,
    audit: Audit,
) -> ConsistencyProof:
    proof = audit.consistency_proof(first, second)
    return ConsistencyProof(first=first, second=second, consistency=[b64(h) for h in proof])


def _may_read(principal: Principal, ledger: Trustledger, event: LoggedEvent) -> bool:
    """Whether the reader may see this event: as they may read the aggregate it belongs to.

    Contract, KPI and notice events follow the contract's readers; the public record and the
    directory of organisations are open to anyone signed in; accounts to admins alone."""
    aggregate = ledger.get(event.aggregate_id, LedgerAggregate, event.version)
    if isinstance(aggregate, ServiceContract):
        return can_read(principal, aggregate.id, parties(aggregate))
    if isinstance(aggregate, IndicatorSeries | PerformanceNotice):
        return can_read(
            principal,
            aggregate.contract_id,
            (aggregate.council_organisation_id, aggregate.trust_organisation_id),
        )
    if isinstance(aggregate, Account):
        return principal.role in POLICY["account.read"].roles
    return POLICY["public_record.read"].scope is Scope.ANYONE
