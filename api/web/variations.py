"""Variations as pages: a contract's variations, proposing one, and a variation's own page with
its terms, its history and the decisions its reader may take (the other party agrees or
rejects, the proposer withdraws).

Agreeing is consent to terms: the page carries the contract's version it showed, and the API's
handler refuses (412) if the contract has changed since, so nobody agrees to terms they did not
read. Every command is the API's own handler, called with what its dependency would give it.
"""

from __future__ import annotations

from textwrap import shorten
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from api.deps import Ledger
from api.routers import contracts as api
from api.schemas.common import Reason
from api.schemas.contracts import VariationChangesBody, VariationToPropose
from api.web.forms import (
    IDEMPOTENCY_FIELD,
    VERSION_FIELD,
    Error,
    Sent,
    Submitted,
    acting,
    caller,
    done,
    done_message,
    form_key,
    invalid,
    once,
    passes,
    pence_of,
    refusal,
    required,
    shown,
)
from api.web.routing import NegotiatedPageRoute, PageRoute
from api.web.session import SignedIn, Visit
from api.web.templating import render
from domain.account import Account
from domain.actor import Actor
from domain.application import Trustledger
from domain.errors import DomainError, NotAParty, NotFound
from domain.service_contract import Party, ServiceContract, Variation, VariationStatus
from domain.services import ServiceLine

pages = APIRouter(route_class=PageRoute, include_in_schema=False)
negotiated = APIRouter(route_class=NegotiatedPageRoute, include_in_schema=False)

NEW_CONTRACT_SUM_YEAR = "contract_sum_year"
NEW_CONTRACT_SUM = "contract_sum"
TERM_ENDS = "term_ends"
SCOPE = "scope"
RATIONALE = "rationale"
REASON = "reason"


def address(contract_id: UUID, variation_id: UUID | None = None) -> str:
    base = f"/contracts/{contract_id}/variations"
    return base if variation_id is None else f"{base}/{variation_id}"


# -- the list -------------------------------------------------------------------------------------


@negotiated.get("/contracts/{contract_id}/variations")
def variations_page(
    contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger
) -> Response:
    contract = api.readable(ledger, caller(request, visit, "contract.read"), contract_id)
    newest_first = sorted(contract.variations.values(), key=lambda v: v.proposed_at, reverse=True)
    return render(
        request,
        visit,
        "variations.html",
        f"Variations: {contract.title}",
        nav="portfolio",
        contract=contract,
        variations=newest_first,
        may_propose=_may(request, visit, ledger, contract, "contract.propose_variation"),
        party_names=_party_names(contract),
    )


# -- proposing ------------------------------------------------------------------------------------


@pages.get("/contracts/{contract_id}/variations/new")
def proposal_page(contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger) -> Response:
    contract = _proposable(request, visit, ledger, contract_id)
    return _proposal_form(
        request,
        visit,
        contract,
        {IDEMPOTENCY_FIELD: form_key(), SCOPE: [line.value for line in contract.scope]},
    )


@pages.post("/contracts/{contract_id}/variations/new")
def propose(
    contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger, sent: Sent
) -> Response:
    contract = _proposable(request, visit, ledger, contract_id)
    errors: list[Error] = []
    body = _proposal(sent, contract, errors)
    if body is not None:
        try:
            created = once(
                visit,
                sent,
                lambda: api.propose_variation(
                    contract_id,
                    body,
                    acting(request, visit, ledger, "contract.propose_variation", sent, body),
                ),
            )
        except DomainError as error:
            status, errors = refusal(error, RATIONALE)
        else:
            return done(request, address(contract_id, created.id), "variation-proposed")
    else:
        status = 400
    kept = {**sent.kept(), SCOPE: sent.texts(SCOPE)}
    return _proposal_form(request, visit, contract, kept, errors, status)


def _proposable(
    request: Request, visit: Visit, ledger: Trustledger, contract_id: UUID
) -> ServiceContract:
    """The contract, once the reader is known to be one who may propose a variation of it."""
    return api.readable(ledger, caller(request, visit, "contract.propose_variation"), contract_id)


def _proposal(
    sent: Submitted, contract: ServiceContract, errors: list[Error]
) -> VariationToPropose | None:
    """The API's body for the proposal the form describes, or None with the errors found."""
    rationale = required(sent, RATIONALE, "Enter why the contract should change", errors)
    year = sent.text(NEW_CONTRACT_SUM_YEAR)
    sums: dict[str, int] | None = None
    if year or sent.text(NEW_CONTRACT_SUM):
        if not year:
            errors.append(Error(NEW_CONTRACT_SUM_YEAR, "Select the year whose sum changes"))
        amount = pence_of(sent, NEW_CONTRACT_SUM, "the new contract sum", errors)
        if year and amount is not None:
            sums = {year: amount}
    term_ends = None
    if any(sent.text(f"{TERM_ENDS}-{part}") for part in ("day", "month", "year")):
        term_ends = sent.date(TERM_ENDS, "the new last day of the contract", errors)
    chosen = sent.texts(SCOPE)
    scope = None
    if set(chosen) != {line.value for line in contract.scope}:
        if not chosen:
            errors.append(Error(f"{SCOPE}-0", "Select at least one service in scope"))
        else:
            scope = chosen
    if not errors and sums is None and term_ends is None and scope is None:
        errors.append(
            Error(
                NEW_CONTRACT_SUM_YEAR,
                "Enter a change: a new contract sum, a new last day or a change to the services",
            )
        )
    if errors:
        return None
    try:
        return VariationToPropose(
            changes=VariationChangesBody(
                contract_sums=sums,
                term_ends=term_ends,
                scope=None if scope is None else [ServiceLine(line) for line in scope],
            ),
            rationale=rationale,
        )
    except (ValidationError, ValueError) as error:
        if isinstance(error, ValidationError):
            errors.extend(invalid(error, {"rationale": RATIONALE, "changes": f"{SCOPE}-0"}))
        else:
            errors.append(Error(f"{SCOPE}-0", "Select services from the list"))
        return None


def _proposal_form(
    request: Request,
    visit: Visit,
    contract: ServiceContract,
    values: dict[str, Any],
    errors: list[Error] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        visit,
        "variation_new.html",
        "Propose a variation",
        status_code=status,
        nav="portfolio",
        errors=errors or [],
        contract=contract,
        values=values,
        years=[year.label for year in contract.term.financial_years],
        service_lines=list(ServiceLine),
    )


# -- a variation, and deciding it -----------------------------------------------------------------


@negotiated.get("/contracts/{contract_id}/variations/{variation_id}")
def variation_page(
    contract_id: UUID, variation_id: UUID, request: Request, visit: SignedIn, ledger: Ledger
) -> Response:
    contract = api.readable(ledger, caller(request, visit, "contract.read"), contract_id)
    page = _variation(request, visit, ledger, contract, variation_id, done_message(request))
    return shown(request, page)


@pages.post("/contracts/{contract_id}/variations/{variation_id}/agree")
def agree(
    contract_id: UUID,
    variation_id: UUID,
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    sent: Sent,
) -> Response:
    _decidable(request, visit, ledger, contract_id)
    version = sent.text(VERSION_FIELD)
    if not version.isdigit():
        # Consent names the terms read: without the version shown, there is nothing to agree to.
        return _refused(request, visit, ledger, contract_id, variation_id, sent, 428, AGREE_ERROR)
    try:
        once(
            visit,
            sent,
            lambda: api.agree_variation(
                contract_id,
                variation_id,
                acting(
                    request,
                    visit,
                    ledger,
                    "contract.decide_variation",
                    sent,
                    expected_version=int(version),
                ),
            ),
        )
    except DomainError as error:
        status, errors = refusal(error, "agree")
        return _refused(request, visit, ledger, contract_id, variation_id, sent, status, errors)
    return done(request, address(contract_id, variation_id), "variation-agreed")


AGREE_ERROR = [Error("agree", "Read the variation's terms on this page, then agree to them")]


@pages.post("/contracts/{contract_id}/variations/{variation_id}/reject")
def reject(
    contract_id: UUID,
    variation_id: UUID,
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    sent: Sent,
) -> Response:
    _decidable(request, visit, ledger, contract_id)
    errors: list[Error] = []
    reason = required(sent, REASON, "Enter why you are rejecting the variation", errors)
    if errors:
        return _refused(request, visit, ledger, contract_id, variation_id, sent, 400, errors)
    body = Reason(reason=reason)
    try:
        once(
            visit,
            sent,
            lambda: api.reject_variation(
                contract_id,
                variation_id,
                body,
                acting(request, visit, ledger, "contract.decide_variation", sent, body),
            ),
        )
    except DomainError as error:
        status, errors = refusal(error, REASON)
        return _refused(request, visit, ledger, contract_id, variation_id, sent, status, errors)
    return done(request, address(contract_id, variation_id), "variation-rejected")


@pages.post("/contracts/{contract_id}/variations/{variation_id}/withdraw")
def withdraw(
    contract_id: UUID,
    variation_id: UUID,
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    sent: Sent,
) -> Response:
    _decidable(request, visit, ledger, contract_id)
    try:
        once(
            visit,
            sent,
            lambda: api.withdraw_variation(
                contract_id,
                variation_id,
                acting(request, visit, ledger, "contract.decide_variation", sent),
            ),
        )
    except DomainError as error:
        status, errors = refusal(error, "withdraw")
        return _refused(request, visit, ledger, contract_id, variation_id, sent, status, errors)
    return done(request, address(contract_id, variation_id), "variation-withdrawn")


def _decidable(
    request: Request, visit: Visit, ledger: Trustledger, contract_id: UUID
) -> ServiceContract:
    """The contract, once the reader is known to be one who may decide its variations: refused
    (403) before their form is looked at, so that a form without its key is refused only for a
    reader who may send it."""
    return api.readable(ledger, caller(request, visit, "contract.decide_variation"), contract_id)


def _refused(
    request: Request,
    visit: Visit,
    ledger: Trustledger,
    contract_id: UUID,
    variation_id: UUID,
    sent: Submitted,
    status: int,
    errors: list[Error],
) -> Response:
    """The variation's page again, as it now stands, with what was refused and the reader's
    answers; the version is the one now shown, so that the reader can agree to what they now
    read."""
    contract = _decidable(request, visit, ledger, contract_id)
    return _variation(
        request, visit, ledger, contract, variation_id, None, errors, status, sent.kept()
    )


def _variation(
    request: Request,
    visit: Visit,
    ledger: Trustledger,
    contract: ServiceContract,
    variation_id: UUID,
    banner: str | None,
    errors: list[Error] | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    variation = contract.variations.get(variation_id)
    if variation is None:
        raise NotFound(f"contract {contract.id} has no variation {variation_id}")
    side = _side(request, visit, ledger, contract)
    deciding = variation.is_open and side is not None
    return render(
        request,
        visit,
        "variation.html",
        f"Variation: {shorten(variation.rationale, 60, placeholder=' …')}",
        status_code=status,
        nav="portfolio",
        errors=errors or [],
        banner=banner,
        contract=contract,
        variation=variation,
        current_sums=contract.contract_sums,
        history=_history(ledger, contract, variation),
        party_names=_party_names(contract),
        may_decide=deciding and side is not variation.proposer,
        may_withdraw=deciding and side is variation.proposer,
        values={IDEMPOTENCY_FIELD: form_key(), **(values or {})},
    )


def _side(
    request: Request, visit: Visit, ledger: Trustledger, contract: ServiceContract
) -> Party | None:
    """The reader's side of the contract, if the policy lets them decide variations of it:
    which forms the page offers. The API's handler judges again when a form is sent."""
    if not _may(request, visit, ledger, contract, "contract.decide_variation"):
        return None
    try:
        return contract.party_of(caller(request, visit, "contract.decide_variation").actor)
    except NotAParty:
        return None


def _may(
    request: Request, visit: Visit, ledger: Trustledger, contract: ServiceContract, action: str
) -> bool:
    """Whether the policy gives the reader `action` on this contract (to offer its link)."""
    return passes(lambda: api.readable(ledger, caller(request, visit, action), contract.id))


def _party_names(contract: ServiceContract) -> dict[str, str]:
    return {Party.COMMISSIONER: contract.council.name, Party.PROVIDER: contract.trust.name}


def _history(
    ledger: Trustledger, contract: ServiceContract, variation: Variation
) -> list[tuple[str, Any, str]]:
    """What happened to the variation, oldest first: (what, when, who)."""
    lines: list[tuple[str, Any, str]] = [
        ("Proposed", variation.proposed_at, _who(ledger, contract, variation.proposed_by))
    ]
    if variation.decided_by is not None and variation.status is not VariationStatus.PROPOSED:
        lines.append(
            (
                variation.status.value.capitalize(),
                variation.decided_at,
                _who(ledger, contract, variation.decided_by),
            )
        )
    return lines


def _who(ledger: Trustledger, contract: ServiceContract, actor: Actor) -> str:
    """The person and the organisation behind an event, as a commissioner would name them."""
    organisation = _party_names(contract).get(contract.party_of(actor), actor.organisation_id)
    try:
        person = ledger.get(UUID(actor.user_id), Account).display_name
    except (NotFound, ValueError):
        return organisation
    return f"{person}, {organisation}"


router = APIRouter()
router.include_router(pages)
router.include_router(negotiated)
