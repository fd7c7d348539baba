"""The demo scenario: Sandwell's contract with its children's trust as the council's published
papers tell it, and Birmingham's beside it so that organisation boundaries show.

The public record (../shared/data/README.md; Sandwell Cabinet decision 616 of 28 September 2022;
Express & Star, 25 June 2019) gives the term, the 2018-19 sum, the £5m of 2019, the Ofsted
milestone and its 2022 variation, the contract review and the inspections. Every other date,
sum, board, meeting and action below is illustrative, and says so.

Each command is made as the demo person whose organisation would make it, so the history names
real actors, and under an idempotency key naming its step: a second run replays each step's
stored outcome and records nothing, and a run that stopped part way is finished by the next.
The events' own times are when the seed ran; the business dates are the commands' parameters.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TextIO, TypeVar
from uuid import UUID

from api.directory import OPERATOR, ensure_account, ensure_organisation
from domain.account import Account
from domain.actor import Actor, Role
from domain.application import Outcome, Session, Trustledger, Write
from domain.ledger import LedgerAggregate
from domain.organisation import Organisation, OrganisationKind
from domain.performance_notice import PerformanceNotice, RemedialAction
from domain.service_contract import (
    AgreedAction,
    BoardKind,
    Council,
    ObligationChange,
    ServiceContract,
    Term,
    Trust,
    VariationChanges,
)
from domain.services import ServiceLine

A = TypeVar("A", bound=LedgerAggregate)
R = TypeVar("R")

# Published on purpose: `api/routers/auth.py` refuses every .demo account outside demo mode.
DEMO_PASSWORD = "demo-password"  # noqa: S105

POUND = 100  # contract money is integer pence


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: OrganisationKind
    la_number: str | None = None
    ons_code: str | None = None

    @property
    def id(self) -> UUID:
        return Organisation.id_for(self.name)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: Role
    organisation: DemoOrganisation

    @property
    def id(self) -> UUID:
        return Account.id_for(self.email)

    @property
    def actor(self) -> Actor:
        return Actor(
            user_id=str(self.id), organisation_id=str(self.organisation.id), role=self.role
        )


SANDWELL_COUNCIL = DemoOrganisation(
    "Sandwell Metropolitan Borough Council", OrganisationKind.COUNCIL, "333", "E08000028"
)
SANDWELL_TRUST = DemoOrganisation("Sandwell Children's Trust", OrganisationKind.TRUST)
BIRMINGHAM_COUNCIL = DemoOrganisation(
    "Birmingham City Council", OrganisationKind.COUNCIL, "330", "E08000025"
)
BIRMINGHAM_TRUST = DemoOrganisation("Birmingham Children's Trust", OrganisationKind.TRUST)
DFE = DemoOrganisation("Department for Education", OrganisationKind.AUDIT_BODY)
OPERATOR_ORGANISATION = DemoOrganisation(OPERATOR, OrganisationKind.OPERATOR)

SANDWELL_COMMISSIONER = DemoAccount(
    "commissioner@sandwell.demo",
    "Sandwell commissioner (demo)",
    Role.COMMISSIONER,
    SANDWELL_COUNCIL,
)
SANDWELL_PROVIDER = DemoAccount(
    "provider@sandwell-trust.demo",
    "Sandwell Children's Trust contract lead (demo)",
    Role.PROVIDER,
    SANDWELL_TRUST,
)
BIRMINGHAM_COMMISSIONER = DemoAccount(
    "commissioner@birmingham.demo",
    "Birmingham commissioner (demo)",
    Role.COMMISSIONER,
    BIRMINGHAM_COUNCIL,
)
BIRMINGHAM_PROVIDER = DemoAccount(
    "provider@birmingham-trust.demo",
    "Birmingham Children's Trust contract lead (demo)",
    Role.PROVIDER,
    BIRMINGHAM_TRUST,
)
AUDITOR = DemoAccount("auditor@dfe.demo", "DfE auditor (demo)", Role.AUDITOR, DFE)
ADMIN = DemoAccount(
    "admin@trustledger.demo", "Trustledger admin (demo)", Role.ADMIN, OPERATOR_ORGANISATION
)

DEMO_ORGANISATIONS = (
    SANDWELL_COUNCIL,
    SANDWELL_TRUST,
    BIRMINGHAM_COUNCIL,
    BIRMINGHAM_TRUST,
    DFE,
    OPERATOR_ORGANISATION,
)
DEMO_ACCOUNTS = (
    SANDWELL_COMMISSIONER,
    SANDWELL_PROVIDER,
    BIRMINGHAM_COMMISSIONER,
    BIRMINGHAM_PROVIDER,
    AUDITOR,
    ADMIN,
)

TITLE = "Service delivery contract for children's social care"
# Both councils' contracts run ten years from 1 April 2018 (Sandwell's papers; Birmingham's
# budget pages speak of its "10-year contract"). Sandwell's break clause is no option to extend,
# so the term has none: it is decided by `consider_break_clause`.
TEN_YEARS_FROM_APRIL_2018 = Term(starts=date(2018, 4, 1), ends=date(2028, 3, 31))
# The statutory children's social care a full-service trust runs. Illustrative: the papers cited
# do not schedule the services line by line. Early help and youth justice are left out, as many
# councils keep them in multi-agency partnerships outside the trust.
CHILDRENS_SOCIAL_CARE = (
    ServiceLine.FRONT_DOOR,
    ServiceLine.ASSESSMENT,
    ServiceLine.CHILD_IN_NEED,
    ServiceLine.CHILD_PROTECTION,
    ServiceLine.EDGE_OF_CARE,
    ServiceLine.CHILDREN_IN_CARE,
    ServiceLine.CARE_LEAVERS,
    ServiceLine.FOSTERING,
    ServiceLine.ADOPTION,
    ServiceLine.RESIDENTIAL_CARE,
    ServiceLine.DISABLED_CHILDREN,
    ServiceLine.EMERGENCY_DUTY,
    ServiceLine.INDEPENDENT_REVIEWING,
    ServiceLine.LADO,
)


def seed_demo(ledger: Trustledger, out: TextIO) -> None:
    """Seed the demo, then tell `out` what was added or already there, and how to sign in."""
    directory_added = _register_directory(ledger)
    sandwell, birmingham = _Story(ledger, "sandwell"), _Story(ledger, "birmingham")
    sandwell_contract = _tell_sandwell(sandwell)
    birmingham_contract = _tell_birmingham(birmingham)
    grants = _Story(ledger, "grants")

    def grant(step: str, contract_id: UUID) -> None:
        grants.change(
            step,
            ADMIN.actor,
            Account,
            AUDITOR.id,
            lambda account: account.grant_contract(contract_id, actor=ADMIN.actor),
        )

    grant("grant the auditor Sandwell's contract", sandwell_contract)
    grant("grant the auditor Birmingham's contract", birmingham_contract)

    total = len(DEMO_ORGANISATIONS) + len(DEMO_ACCOUNTS)
    directory = "already there" if directory_added == 0 else f"{directory_added} of {total} new"
    print("Trustledger demo", file=out)
    print(f"  organisations and accounts: {directory}", file=out)
    print(f"  Sandwell's contract {sandwell_contract}: {sandwell.result}", file=out)
    print(f"  Birmingham's contract {birmingham_contract}: {birmingham.result}", file=out)
    print(f"  {AUDITOR.email} granted both contracts: {grants.result}", file=out)
    print(file=out)
    print(f"Demo sign-ins, all with the password {DEMO_PASSWORD!r}", file=out)
    print("(accepted only when the service runs with TRUSTLEDGER_DEMO_MODE=true):", file=out)
    for account in DEMO_ACCOUNTS:
        line = f"  {account.email:<32} {account.role:<13} {account.organisation.name}"
        print(line, file=out)
    port = os.environ.get("PORT", "8000")
    print(
        f"Open http://127.0.0.1:{port}/docs, press Authorize and sign in as one of them.", file=out
    )
    print("Dates and sums beyond the councils' published papers are illustrative.", file=out)
    print(
        "Contains public sector information licensed under the Open Government Licence v3.0.",
        file=out,
    )


def _register_directory(ledger: Trustledger) -> int:
    """Register each demo organisation and account the ledger lacks; how many it lacked."""
    ids = [o.id for o in DEMO_ORGANISATIONS] + [a.id for a in DEMO_ACCOUNTS]
    lacking = sum(1 for each in ids if each not in ledger.repository)
    for organisation in DEMO_ORGANISATIONS:
        ensure_organisation(
            ledger,
            organisation.name,
            organisation.kind,
            la_number=organisation.la_number,
            ons_code=organisation.ons_code,
        )
    for account in DEMO_ACCOUNTS:
        ensure_account(
            ledger,
            account.email,
            account.display_name,
            account.organisation.id,
            account.role,
            DEMO_PASSWORD,
        )
    return lacking


class _Story:
    """One part of the demo, told as commands each made under a key that names its step."""

    def __init__(self, ledger: Trustledger, name: str) -> None:
        self._ledger = ledger
        self._name = name
        self._steps: set[str] = set()
        self._new = 0
        self._replayed = 0

    @property
    def result(self) -> str:
        if self._new == 0:
            return "already there"
        if self._replayed == 0:
            return f"seeded ({self._new} commands)"
        return f"completed ({self._new} of {self._new + self._replayed} commands were missing)"

    def create(self, step: str, actor: Actor, create: Callable[[Session], A]) -> UUID:
        return self._told(self._ledger.create(create, actor=actor, write=self._write(step)))

    def change(
        self,
        step: str,
        actor: Actor,
        cls: type[A],
        aggregate_id: UUID,
        command: Callable[[A], R],
    ) -> R:
        outcome = self._ledger.change(
            cls, aggregate_id, command, actor=actor, write=self._write(step)
        )
        return self._told(outcome)

    def _write(self, step: str) -> Write:
        # A step named twice would be handed the first one's stored outcome instead of running.
        assert step not in self._steps, f"the {self._name} story names the step {step!r} twice"
        self._steps.add(step)
        return Write(idempotency_key=f"demo:{self._name}:{step}")

    def _told(self, outcome: Outcome[R]) -> R:
        if outcome.replayed:
            self._replayed += 1
        else:
            self._new += 1
        return outcome.value


def _council(organisation: DemoOrganisation) -> Council:
    # The demo's councils are declared with both codes above.
    assert organisation.la_number is not None
    assert organisation.ons_code is not None
    return Council(
        la_number=organisation.la_number,
        ons_code=organisation.ons_code,
        name=organisation.name,
        organisation_id=str(organisation.id),
    )


def _trust(organisation: DemoOrganisation) -> Trust:
    return Trust(name=organisation.name, organisation_id=str(organisation.id))


def _tell_sandwell(story: _Story) -> UUID:
    """Sandwell's contract from its drafting in early 2018 to the Ofsted "Good" of 2025."""
    council, trust = SANDWELL_COMMISSIONER.actor, SANDWELL_PROVIDER.actor
    contract_id = story.create(
        "draft the contract",
        council,
        lambda _: ServiceContract.draft(
            council=_council(SANDWELL_COUNCIL),
            trust=_trust(SANDWELL_TRUST),
            title=TITLE,
            term=TEN_YEARS_FROM_APRIL_2018,
            scope=CHILDRENS_SOCIAL_CARE,
            # £58m in 2018-19 (Express & Star, 25 June 2019). The 2019-20 sum drafted at the
            # same level is illustrative; the £5m of 2019 is added to it by variation below.
            contract_sums={"2018-19": 58_000_000 * POUND, "2019-20": 58_000_000 * POUND},
            actor=council,
        ),
    )

    def contract(step: str, actor: Actor, command: Callable[[ServiceContract], R]) -> R:
        return story.change(step, actor, ServiceContract, contract_id, command)

    # "Within four years of contract commencement (March 2022)": decision 616.
    ofsted_good = contract(
        "set the Ofsted Good obligation",
        council,
        lambda c: c.set_obligation(
            description="Achieve an Ofsted judgement of Good within four years",
            due_on=date(2022, 3, 31),
            actor=council,
        ),
    )
    contract("sign for the council", council, lambda c: c.sign(actor=council))
    contract("sign for the trust", trust, lambda c: c.sign(actor=trust))

    # Governance, payments and the first year's finances: illustrative.
    strategic = contract(
        "establish the Strategic Partnership Board",
        council,
        lambda c: c.establish_board(
            kind=BoardKind.STRATEGIC_MONITORING_BOARD,
            name="Strategic Partnership Board",
            actor=council,
        ),
    )
    operational = contract(
        "establish the Operational Group",
        council,
        lambda c: c.establish_board(
            kind=BoardKind.OPERATIONAL_GROUP, name="Contract Operational Group", actor=council
        ),
    )

    def meeting(
        step: str,
        actor: Actor,
        board_id: UUID,
        on: date,
        decisions: list[str],
        actions: list[AgreedAction],
    ) -> tuple[UUID, ...]:
        meeting_id = contract(
            f"schedule {step}",
            actor,
            lambda c: c.schedule_meeting(board_id=board_id, scheduled_for=on, actor=actor),
        )
        return contract(
            f"hold {step}",
            actor,
            lambda c: c.hold_meeting(
                meeting_id=meeting_id, held_on=on, decisions=decisions, actions=actions, actor=actor
            ),
        )

    [first_kpi_report] = meeting(
        "the first Operational Group",
        trust,
        operational,
        date(2018, 5, 15),
        decisions=["Monthly performance reports follow the contract's KPI schedule"],
        actions=[
            AgreedAction(
                "Send the first monthly KPI report",
                "Head of performance, Sandwell Children's Trust",
                date(2018, 6, 15),
            )
        ],
    )
    contract(
        "complete the first KPI report",
        trust,
        lambda c: c.complete_action(
            action_id=first_kpi_report, completed_on=date(2018, 6, 14), actor=trust
        ),
    )
    meeting(
        "the first Strategic Partnership Board",
        council,
        strategic,
        date(2018, 7, 17),
        decisions=["The trust's improvement plan is endorsed as its route to an Ofsted Good"],
        actions=[
            AgreedAction(
                "Report progress on the improvement plan each quarter",
                "Chief executive, Sandwell Children's Trust",
                date(2018, 10, 16),
            )
        ],
    )

    def pay(quarter: str, paid_on: date) -> None:
        contract(
            f"pay 2018-19 {quarter}",
            council,
            lambda c: c.record_payment(
                amount=58_000_000 * POUND // 4,
                paid_on=paid_on,
                reference=f"SCT contract sum 2018-19 {quarter}",
                actor=council,
            ),
        )

    # 2018-19 paid in four equal quarterly instalments of the £58m.
    pay("Q1", date(2018, 4, 3))
    pay("Q2", date(2018, 7, 2))
    pay("Q3", date(2018, 10, 1))
    pay("Q4", date(2019, 1, 2))
    # The trust "predicted it would be £3.6m in the red by April" (Express & Star, 25 June
    # 2019); the quarter it said so in is illustrative.
    contract(
        "report the 2018-19 Q3 position",
        trust,
        lambda c: c.report_financial_position(
            financial_year="2018-19",
            period="Q3",
            forecast_outturn=61_600_000 * POUND,
            commentary="Forecast overspend of £3.6m: children in care up from just over 600 "
            "in April 2017 to more than 900",
            actor=trust,
        ),
    )
    business_plan = contract(
        "refer the 2019-20 business plan",
        trust,
        lambda c: c.refer_reserved_matter(
            subject="Sandwell Children's Trust annual business plan 2019-20", actor=trust
        ),
    )
    contract(
        "approve the 2019-20 business plan",
        council,
        lambda c: c.approve_reserved_matter(matter_id=business_plan, actor=council),
    )

    # The £5m agreed in June 2019 (Express & Star, 25 June 2019), added to the year it was
    # agreed in; the article does not say which year's sum it joined.
    five_million_more = contract(
        "propose £5m more for 2019-20",
        trust,
        lambda c: c.propose_variation(
            changes=VariationChanges(contract_sums={"2019-20": 63_000_000 * POUND}),
            rationale="Record numbers of children in care: £5m more to meet demand in 2019-20",
            actor=trust,
        ),
    )
    contract(
        "agree £5m more for 2019-20",
        council,
        lambda c: c.agree_variation(variation_id=five_million_more, actor=council),
    )
    contract(
        "review 2018-19",
        council,
        lambda c: c.hold_annual_review(
            contract_year="2018-19",
            held_on=date(2019, 7, 16),
            outcome="First contract year: demand for care exceeded the business case; "
            "£5m more agreed for 2019-20",
            actions=[
                AgreedAction(
                    "Present a plan to manage demand for care safely",
                    "Chief executive, Sandwell Children's Trust",
                    date(2019, 10, 15),
                )
            ],
            actor=council,
        ),
    )

    # A notice on assessment timeliness, coded A2 as Doncaster's trust contract codes it:
    # illustrative throughout.
    notice_id = story.create(
        "issue the A2 notice",
        council,
        lambda _: PerformanceNotice.issue(
            contract_id=contract_id,
            council_organisation_id=str(SANDWELL_COUNCIL.id),
            trust_organisation_id=str(SANDWELL_TRUST.id),
            grounds="Assessments completed within 45 working days fell below the contract's "
            "target in Q1 and Q2 2019-20",
            kpi_codes=["A2"],
            remedy="A remedial plan that brings assessment timeliness back within tolerance "
            "by the end of 2019-20",
            response_due=date(2019, 11, 4),
            issued_on=date(2019, 10, 7),
            actor=council,
        ),
    )

    def notice(step: str, actor: Actor, command: Callable[[PerformanceNotice], R]) -> R:
        return story.change(step, actor, PerformanceNotice, notice_id, command)

    notice(
        "submit the A2 remedial plan",
        trust,
        lambda n: n.submit_remedial_plan(
            summary="Clear the backlog of late assessments and track timeliness weekly",
            actions=[
                RemedialAction(
                    "A temporary assessment team for assessments open beyond 45 working days",
                    date(2019, 12, 20),
                ),
                RemedialAction(
                    "Weekly A2 timeliness by team, reviewed at the Operational Group",
                    date(2019, 11, 30),
                ),
            ],
            actor=trust,
        ),
    )
    notice("accept the A2 remedial plan", council, lambda n: n.accept_remedial_plan(actor=council))
    meeting(
        "the May 2020 Operational Group",
        council,
        operational,
        date(2020, 5, 12),
        decisions=["A2 back within tolerance in Q4 2019-20: the performance notice is resolved"],
        actions=[],
    )
    notice("resolve the A2 notice", council, lambda n: n.resolve(actor=council))

    contract(
        "report the 2019-20 Q4 position",
        trust,
        lambda c: c.report_financial_position(
            financial_year="2019-20",
            period="Q4",
            forecast_outturn=62_800_000 * POUND,
            commentary="Outturn within the varied contract sum of £63m",
            actor=trust,
        ),
    )
    contract(
        "review 2019-20",
        council,
        lambda c: c.hold_annual_review(
            contract_year="2019-20",
            held_on=date(2020, 7, 14),
            outcome="Spending within the varied sum; assessment timeliness recovered after "
            "the A2 notice",
            actions=[],
            actor=council,
        ),
    )
    contract(
        "review 2020-21",
        council,
        lambda c: c.hold_annual_review(
            contract_year="2020-21",
            held_on=date(2021, 7, 13),
            outcome="Services kept running through the pandemic; improvement plan on track",
            actions=[],
            actor=council,
        ),
    )

    # 2022, from the public record: Ofsted's ILACS inspection of 9-20 May 2022 (published 5 July
    # 2022) judged the services requires improvement to be good, and the Cabinet's contract
    # review of 28 September 2022 (decision 616) kept the break clause unused, asked for revised
    # contractual KPIs from 1 April 2023 and moved the Ofsted milestone.
    meeting(
        "the July 2022 Strategic Partnership Board",
        council,
        strategic,
        date(2022, 7, 12),
        decisions=[
            "Ofsted (ILACS, 9-20 May 2022) judged services requires improvement to be good, "
            "up from inadequate",
            "The contract review goes to Cabinet in September 2022",
        ],
        actions=[],
    )
    [revised_kpis] = contract(
        "review 2021-22",
        council,
        lambda c: c.hold_annual_review(
            contract_year="2021-22",
            held_on=date(2022, 9, 28),
            outcome="Contract review: break clause not used; revised contractual KPIs from "
            "1 April 2023; the Ofsted Good milestone moved to the next standard inspection",
            actions=[
                AgreedAction(
                    "Agree revised contractual KPIs with the trust, from 1 April 2023",
                    "Director of Children and Education, Sandwell Council",
                    date(2023, 3, 31),
                )
            ],
            actor=council,
        ),
    )
    contract(
        "decide not to use the break clause",
        council,
        lambda c: c.consider_break_clause(
            used=False,
            rationale="Cabinet (28 September 2022, decision 616) noted the move from inadequate "
            "to requires improvement to be good and did not recommend to the Secretary of "
            "State that the break clause be invoked",
            ends_on=None,
            actor=council,
        ),
    )
    # "The next standard ILACS inspection by Ofsted (within three years of the previous
    # inspection)": three years from the last day of the May 2022 inspection.
    next_inspection = contract(
        "propose moving the Ofsted milestone",
        council,
        lambda c: c.propose_variation(
            changes=VariationChanges(
                obligations=(
                    ObligationChange(
                        obligation_id=ofsted_good,
                        description="Achieve an Ofsted judgement of Good at the next standard "
                        "inspection",
                        due_on=date(2025, 5, 20),
                    ),
                )
            ),
            rationale="Contract review, Cabinet 28 September 2022 (decision 616)",
            actor=council,
        ),
    )
    contract(
        "agree moving the Ofsted milestone",
        trust,
        lambda c: c.agree_variation(variation_id=next_inspection, actor=trust),
    )
    contract(
        "complete the revised KPIs",
        council,
        lambda c: c.complete_action(
            action_id=revised_kpis, completed_on=date(2023, 3, 29), actor=council
        ),
    )
    contract(
        "record the Ofsted Good",
        council,
        lambda c: c.record_obligation_met(
            obligation_id=ofsted_good,
            met_on=date(2025, 12, 2),
            evidence="Ofsted ILACS standard inspection, 13-24 October 2025, published "
            "2 December 2025: overall effectiveness Good",
            actor=council,
        ),
    )
    return contract_id


def _tell_birmingham(story: _Story) -> UUID:
    """Enough of Birmingham's contract to show that neither pair sees the other's."""
    council, trust = BIRMINGHAM_COMMISSIONER.actor, BIRMINGHAM_PROVIDER.actor
    contract_id = story.create(
        "draft the contract",
        council,
        lambda _: ServiceContract.draft(
            council=_council(BIRMINGHAM_COUNCIL),
            trust=_trust(BIRMINGHAM_TRUST),
            title=TITLE,
            term=TEN_YEARS_FROM_APRIL_2018,
            scope=CHILDRENS_SOCIAL_CARE,
            # Illustrative: Birmingham renegotiates the sum every year and the demo's sources
            # do not give it.
            contract_sums={"2018-19": 180_000_000 * POUND},
            actor=council,
        ),
    )

    def contract(step: str, actor: Actor, command: Callable[[ServiceContract], R]) -> R:
        return story.change(step, actor, ServiceContract, contract_id, command)

    contract("sign for the council", council, lambda c: c.sign(actor=council))
    contract("sign for the trust", trust, lambda c: c.sign(actor=trust))
    board = contract(
        "establish the Partnership Board",
        council,
        lambda c: c.establish_board(
            kind=BoardKind.PARTNERSHIP_BOARD, name="Partnership Board", actor=council
        ),
    )
    first_meeting = contract(
        "schedule the first Partnership Board",
        council,
        lambda c: c.schedule_meeting(
            board_id=board, scheduled_for=date(2018, 6, 12), actor=council
        ),
    )
    contract(
        "hold the first Partnership Board",
        council,
        lambda c: c.hold_meeting(
            meeting_id=first_meeting,
            held_on=date(2018, 6, 12),
            decisions=["The trust's first-year business plan is noted"],
            actions=[],
            actor=council,
        ),
    )
    contract(
        "pay 2018-19 Q1",
        council,
        lambda c: c.record_payment(
            amount=180_000_000 * POUND // 4,
            paid_on=date(2018, 4, 3),
            reference="BCT contract sum 2018-19 Q1",
            actor=council,
        ),
    )
    return contract_id
