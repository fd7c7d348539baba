"""The audit log's page: the latest signed checkpoint, those before it, and a "Verify" action.

Verifying here is what an auditor would do with `projections/verifier.py` on their own machine,
run by the service for them: open the latest checkpoint with the published verifier key (its
signature, over exactly the size and root shown), prove with the stored subtree hashes that the
tree it signs extends the one the previous checkpoint signed, and, for a leaf they name, that
its event's stored bytes still give its hash and that the hash is in the signed tree. The checks
are the verifier's functions, not a second implementation of them.

Who may see it is the API's rule for the audit log (`audit.read`: anyone signed in); the page
shows hashes only, never an event.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.policy import require_role
from api.problems import Problem
from api.routers.audit import Audit
from api.web.formats import moment
from api.web.routing import PageRoute
from api.web.session import CSRF_FIELD, SignedIn, Visit, check_csrf, principal
from api.web.templating import render
from domain.errors import BeyondTheLog, NotFound
from projections.audit_log import AuditLog, StoredCheckpoint
from projections.verifier import (
    Checkpoint,
    ProofError,
    leaf_hash,
    open_checkpoint,
    verify_consistency,
    verify_inclusion,
)

CHECKPOINTS_PAGE_SIZE = 20

pages = APIRouter(route_class=PageRoute, include_in_schema=False)


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@dataclass(frozen=True)
class CheckpointLine:
    size: int
    root: str
    signed_at: str

    @classmethod
    def of(cls, checkpoint: StoredCheckpoint) -> CheckpointLine:
        return cls(checkpoint.size, b64(checkpoint.root), moment(checkpoint.signed_at))


@dataclass(frozen=True)
class Check:
    """One thing verified, what it compared, and how it came out."""

    name: str
    detail: str
    outcome: Literal["passed", "failed", "not checked"]


@dataclass(frozen=True)
class Verification:
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(check.outcome != "failed" for check in self.checks)


def verify(audit: AuditLog, leaf_index: int | None) -> Verification:
    """Check the latest checkpoint, its consistency with the one before, and a leaf if named.

    Every hash compared is one the service stores, so tampering with the tables shows as a
    failed check; the key is the published one, so a checkpoint forged along with them does
    too. The first failure ends the checks that would rest on it."""
    key = audit.signer.verifier_key
    latest = audit.sign()
    checks: list[Check] = []
    signed = _opened(latest, key, "Signature", checks)
    if signed is None:
        return Verification(checks)
    checks.append(
        Check(
            "Signature",
            f"The checkpoint of {signed.size} leaves with root {b64(signed.root)} carries a "
            f"valid signature by the published key {key_id(key)}",
            "passed",
        )
    )
    checks.append(_consistency(audit, key, signed))
    if leaf_index is not None:
        checks.append(_inclusion(audit, leaf_index, signed))
    return Verification(checks)


def _opened(
    stored: StoredCheckpoint, key: str, name: str, checks: list[Check]
) -> Checkpoint | None:
    """The checkpoint a stored note signs, if its signature verifies and it signs the size and
    root stored beside it; otherwise None, with the failure added to `checks`."""
    try:
        signed = open_checkpoint(stored.note, key)
    except ProofError as error:
        checks.append(
            Check(name, f"The checkpoint stored for {stored.size} leaves: {error}", "failed")
        )
        return None
    if (signed.size, signed.root) != (stored.size, stored.root):
        checks.append(
            Check(
                name,
                f"The checkpoint stored for {stored.size} leaves with root {b64(stored.root)} "
                f"is signed for {signed.size} leaves with root {b64(signed.root)}",
                "failed",
            )
        )
        return None
    return signed


def _consistency(audit: AuditLog, key: str, signed: Checkpoint) -> Check:
    earlier = audit.checkpoints(signed.size, 1)
    if not earlier:
        return Check("Consistency", "No checkpoint was signed before this one", "not checked")
    failures: list[Check] = []
    previous = _opened(earlier[0], key, "Consistency", failures)
    if previous is None:
        return failures[0]
    try:
        proof = audit.consistency_proof(previous.size, signed.size)
        verify_consistency(previous.size, signed.size, proof, previous.root, signed.root)
    except (ProofError, BeyondTheLog) as error:
        return Check(
            "Consistency",
            f"The tree of {signed.size} leaves does not prove to extend the tree of "
            f"{previous.size} leaves signed before it: {error}",
            "failed",
        )
    return Check(
        "Consistency",
        f"The tree of {signed.size} leaves (root {b64(signed.root)}) extends the tree of "
        f"{previous.size} leaves (root {b64(previous.root)}) signed before it: a proof of "
        f"{len(proof)} hashes",
        "passed",
    )


def _inclusion(audit: AuditLog, index: int, signed: Checkpoint) -> Check:
    name = f"Leaf {index}"
    try:
        leaf = audit.leaf(index)
    except NotFound as error:
        return Check(name, str(error), "failed")
    if leaf.event is None:
        return Check(name, f"The event at log position {leaf.position} is gone", "failed")
    if leaf_hash(leaf.event.leaf_input()) != leaf.hash:
        return Check(
            name,
            f"The event stored at log position {leaf.position} does not give the leaf's hash "
            f"{b64(leaf.hash)}: it is not the event that was logged",
            "failed",
        )
    try:
        proof = audit.inclusion_proof(index, signed.size)
        verify_inclusion(leaf.hash, index, signed.size, proof, signed.root)
    except (ProofError, BeyondTheLog) as error:
        return Check(
            name,
            f"The leaf's hash {b64(leaf.hash)} is not in the signed tree of {signed.size} "
            f"leaves: {error}",
            "failed",
        )
    return Check(
        name,
        f"The event at log position {leaf.position} gives the leaf's hash {b64(leaf.hash)}, "
        f"which is in the signed tree of {signed.size} leaves: a proof of {len(proof)} hashes",
        "passed",
    )


def key_id(verifier_key: str) -> str:
    """The key's name and id from a C2SP verifier key (name+id+key): how a reader tells keys
    apart without comparing the whole key."""
    name, _, rest = verifier_key.partition("+")
    return f"{name}+{rest.partition('+')[0]}"


# -- the pages ------------------------------------------------------------------------------------


@pages.get("/audit-log")
def audit_log_page(
    request: Request,
    visit: SignedIn,
    audit: Audit,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    require_role(principal(visit), "audit.read")
    return _audit_log(request, visit, audit, before)


@pages.post("/audit-log/verify")
async def verify_audit_log(request: Request, visit: SignedIn, audit: Audit) -> Response:
    require_role(principal(visit), "audit.read")
    form = await request.form()
    check_csrf(visit, form.get(CSRF_FIELD))
    typed = str(form.get("leaf", "")).strip()
    size = audit.size()
    # Bounded before int(): Python refuses to read a number of thousands of digits.
    if typed and not (typed.isdigit() and len(typed) <= 19 and int(typed) < size):
        error = f"Leaf number must be a whole number from 0 to {size - 1}"
        return _audit_log(
            request, visit, audit, None, leaf=typed, errors=[{"field": "leaf", "text": error}]
        )
    result = verify(audit, int(typed) if typed else None)
    return _audit_log(request, visit, audit, None, leaf=typed, verification=result)


def _audit_log(
    request: Request,
    visit: Visit,
    audit: AuditLog,
    before: int | None,
    *,
    leaf: str = "",
    verification: Verification | None = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    # As the API's GET /audit/checkpoint: the log as it stands, signed now if it has grown.
    latest = audit.sign()
    if before is not None and before > latest.size:
        raise Problem(404, "Not found", f"no checkpoints before size {before}")
    earlier = audit.checkpoints(before or latest.size, CHECKPOINTS_PAGE_SIZE + 1)
    shown = earlier[:CHECKPOINTS_PAGE_SIZE]
    more = len(earlier) > CHECKPOINTS_PAGE_SIZE
    return render(
        request,
        visit,
        "audit_log.html",
        "Audit log",
        status_code=400 if errors else 200,
        nav="audit-log",
        errors=errors or [],
        origin=audit.signer.origin,
        verifier_key=audit.signer.verifier_key,
        key_id=key_id(audit.signer.verifier_key),
        latest=CheckpointLine.of(latest),
        earlier=[CheckpointLine.of(checkpoint) for checkpoint in shown],
        newer_page="/audit-log" if before is not None else None,
        older_page=f"/audit-log?before={shown[-1].size}" if more else None,
        leaf=leaf,
        verification=verification,
    )
