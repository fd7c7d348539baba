"""The auditor's pages about one contract: who did what (the activity feed), the contract as the
ledger knew it at the end of a day, and what changed between two days.

Each page asks exactly what the API's route for the same read asks: `require_role` for its
action, then the organisation rule through the API's own functions (`Caller.check`, the
contracts router's `readable`, the dashboards router's `readable`), before anything is read.
The as-at dashboard is folded by the same `dashboard_at` the API's `as_at` uses, at the log
position `Trustledger.as_at` finds for the instant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api.deps import Ledger, Reading, instant, today
from api.policy import Principal
from api.problems import Problem
from api.routers import contracts as contracts_router
from api.routers import dashboards as dashboards_router
from api.routers.contracts import parties
from api.routers.dashboards import Activity
from api.schemas.changes import ChangesView, ChangeView
from api.web.dates import DateInput, end_of, read_date, start_of
from api.web.formats import UK, moment
from api.web.forms import caller
from api.web.people import People, Who
from api.web.routing import NegotiatedPageRoute
from api.web.session import SignedIn, Visit
from api.web.templating import render
from domain.actor import Actor
from domain.application import AsAt, Trustledger
from domain.errors import DomainError
from domain.service_contract import ServiceContract
from projections.activity import ActivityEntry
from projections.dashboard_view import Dashboard, DashboardReader, dashboard_at

ACTIVITY_PAGE_SIZE = 25
CHANGES_PAGE_SIZE = 50

# On paths the API serves too (/contracts/{id}/activity and /changes): a browser gets the page.
negotiated = APIRouter(route_class=NegotiatedPageRoute, include_in_schema=False)


def kpi_names(contract: ServiceContract) -> dict[str, str]:
    """Each KPI the contract schedules by its reference and title ("A1 Re-referrals ...")."""
    return {
        code: f"{kpi.reference} {kpi.indicator.title}"
        for code, kpi in contract.kpi_schedule.items()
    }


# -- the activity feed ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityLine:
    when: str
    who: Who
    what: str
    about: str
    position: int
    recorded_at: datetime


def activity_line(entry: ActivityEntry, people: People, kpis: Mapping[str, str]) -> ActivityLine:
    code, _, period = entry.subject.partition(" ")
    about = " ".join(part for part in (kpis.get(code, code), period) if part)
    return ActivityLine(
        when=moment(entry.recorded_at),
        who=people.of(
            Actor(user_id=entry.user_id, organisation_id=entry.organisation_id, role=entry.role)
        ),
        what=entry.what[:1].upper() + entry.what[1:],
        about=about or "The contract",
        position=entry.position,
        recorded_at=entry.recorded_at,
    )


@negotiated.get("/contracts/{contract_id}/activity")
def activity_page(
    contract_id: UUID,
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    reader: Activity,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    reading = caller(request, visit, "activity.read")
    contract = ledger.get(contract_id, ServiceContract)
    reading.check(contract.id, parties(contract))
    found = reader.activity(contract_id, page, ACTIVITY_PAGE_SIZE)
    pages_count = max(1, math.ceil(found.total / ACTIVITY_PAGE_SIZE))
    if page > pages_count:
        raise Problem(404, "Not found", f"the activity feed has {pages_count} pages")
    people, kpis = People(ledger), kpi_names(contract)
    title = f"Activity: {contract.title}"
    return render(
        request,
        visit,
        "activity.html",
        title if pages_count == 1 else f"{title} (page {page} of {pages_count})",
        nav="portfolio",
        contract=contract,
        lines=[activity_line(entry, people, kpis) for entry in found.entries],
        total=found.total,
        page=page,
        pages_count=pages_count,
        address=f"/contracts/{contract_id}/activity?page=",
        position=reader.position(),
    )


# -- the contract as at the end of a day ----------------------------------------------------------


@dataclass(frozen=True)
class AsAtAsked:
    """What the reader asked of the dashboard page: now, the end of a day they typed, or an
    exact instant (a link from a change); with the date input to show back."""

    field: DateInput
    at: AsAt | None = None

    @property
    def errors(self) -> list[dict[str, str]]:
        return self.field.summary()

    @property
    def status(self) -> int:
        return 400 if self.field.error else 200

    @property
    def shown(self) -> str:
        """The exact instant shown, as the banner states it."""
        return "" if self.at is None else f"{moment(self.at.instant)}, UK time"


def as_at_asked(request: Request, ledger: Trustledger) -> AsAtAsked:
    """The instant the reader asked for, found in the log as the API's `as_at` finds it.

    The end of today has not come yet, and the ledger answers only for instants that have
    passed; so today means now, and the banner says so by giving the instant."""
    query = request.query_params
    typed = read_date(query, "as-at", "the date", past_only=True)
    if typed.value is not None:
        wanted = min(end_of(typed.value), datetime.now(UTC))
        return AsAtAsked(typed, ledger.as_at(wanted))
    exact = query.get("as_at")
    if typed.blank and exact:
        try:
            at = ledger.as_at(instant(exact, "as_at"))
        except DomainError as refused:
            return AsAtAsked(typed.refused(f"Enter a date: {refused}"))
        local = at.instant.astimezone(UK)
        shown = DateInput("as-at", str(local.day), str(local.month), str(local.year), local.date())
        return AsAtAsked(shown, at)
    return AsAtAsked(typed)


def dashboard_as_asked(
    reading: Principal,
    contract_id: UUID,
    ledger: Trustledger,
    reader: DashboardReader,
    asked: AsAtAsked,
    today: date,
) -> tuple[Dashboard, int, AsAtAsked]:
    """The dashboard the reader may read, as the views keep it now or folded from the log as at
    the instant asked; with the view's position and what was asked (refused, and the dashboard
    of now, when the contract was not yet in the ledger then)."""
    if asked.at is not None:
        found = dashboard_at(ledger, contract_id, asked.at.position, Reading(asked.at).day)
        if found is not None:
            return dashboards_router.readable(reading, contract_id, found), asked.at.position, asked
    # A stranger is refused before learning whether the contract existed at any instant.
    now = dashboards_router.readable(reading, contract_id, reader.dashboard(contract_id, today))
    if asked.at is not None:
        asked = AsAtAsked(
            asked.field.refused(
                f"The ledger held no record of this contract at {asked.shown}: enter a later date"
            )
        )
    return now, reader.position(), asked


# -- the changes between two days -----------------------------------------------------------------


@dataclass(frozen=True)
class ChangeLine:
    when: str
    who: Who
    what: str
    about: str
    reason: str | None
    as_at: str  # the contract's page as the ledger stood once this was recorded


def change_line(
    change: ChangeView, contract_id: UUID, people: People, kpis: Mapping[str, str]
) -> ChangeLine:
    kpi = None if change.indicator is None else kpis.get(change.indicator, change.indicator)
    about = " ".join(part for part in (kpi, change.period) if part)
    as_at = urlencode({"as_at": change.recorded_at.isoformat()})
    # A bare participle ("signed") says what it happened to, as the activity feed does.
    what = change.event if " " in change.event else f"{change.subject} {change.event}"
    return ChangeLine(
        when=moment(change.recorded_at),
        who=people.of(change.actor),
        what=what[:1].upper() + what[1:],
        about=about or change.subject[:1].upper() + change.subject[1:],
        reason=change.reason,
        as_at=f"/contracts/{contract_id}?{as_at}",
    )


@negotiated.get("/contracts/{contract_id}/changes")
def changes_page(
    contract_id: UUID,
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    reading = caller(request, visit, "contract.read")
    contract = contracts_router.readable(ledger, reading, contract_id)
    query = request.query_params
    start = read_date(query, "from", "the start date", past_only=True)
    end = read_date(query, "to", "the end date", past_only=True)
    context: dict[str, Any] = {
        "contract": contract,
        "start": start,
        "end": end,
        "view": None,
        "lines": [],
    }
    if start.blank and end.blank:
        # The first visit: the form, with today as the end of the span.
        now = today()
        context["end"] = DateInput("to", str(now.day), str(now.month), str(now.year))
        return _changes(request, visit, contract, context)
    if start.blank:
        start = start.refused("Enter the start date")
    if end.blank:
        end = end.refused("Enter the end date")
    if start.value and end.value and start.value > end.value:
        start = start.refused("The start date must be the same as or before the end date")
    errors = start.summary() + end.summary()
    if errors or start.value is None or end.value is None:
        context.update(start=start, end=end)
        return _changes(request, visit, contract, context, errors)
    since = ledger.as_at(start_of(start.value))
    until = ledger.as_at(min(end_of(end.value), datetime.now(UTC)))
    view = ChangesView.of(
        contract,
        since,
        until,
        ledger.changes(contract, since, until, after=after, limit=CHANGES_PAGE_SIZE),
    )
    people, kpis = People(ledger), kpi_names(contract)
    lines = [change_line(change, contract.id, people, kpis) for change in view.changes]
    dates = {**start.query(), **end.query()}
    context.update(
        view=view,
        lines=lines,
        # The span starts just before the first day begins; it shows as that day's first moment.
        since=f"{moment(since.instant + timedelta(microseconds=1))}, UK time",
        until=f"{moment(until.instant)}, UK time",
        first_page=None if after is None else f"?{urlencode(dates)}",
        next_page=None
        if view.next_after is None
        else f"?{urlencode({**dates, 'after': view.next_after})}",
    )
    return _changes(request, visit, contract, context)


def _changes(
    request: Request,
    visit: Visit,
    contract: ServiceContract,
    context: dict[str, Any],
    errors: list[dict[str, str]] | None = None,
) -> Response:
    return render(
        request,
        visit,
        "changes.html",
        f"Changes: {contract.title}",
        status_code=400 if errors else 200,
        nav="portfolio",
        errors=errors or [],
        **context,
    )
