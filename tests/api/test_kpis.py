"""The KPI schedule and its returns over HTTP: the council schedules KPIs while drafting (or by
variation once signed), the trust submits a return for each period once it has ended, the
council queries and accepts it, and the trust restates a figure found wrong.

The figures are Sandwell's re-referrals for the year to 31 March 2025 (844 of 3,723 referrals,
22.7%); targets, tolerances, the assessment figures and the local indicator are illustrative.
The API dates each return today, so the specs return for periods long over, which are late.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from api.deps import today
from tests.api.conftest import (
    NOT_THE_COUNCIL,
    NOT_THE_TRUST,
    World,
    denied,
    refused,
    succeeded,
)

REREFERRALS = "rereferrals_12m"
STABILITY = "cla_long_term_stability"
ASSESSMENTS = "assessments_45_working_days"
VISITS = "visits_within_timescale"

# Lower is better: 21.0% met, up to 23.0% amber, beyond it red.
A1: dict[str, Any] = {
    "reference": "A1",
    "frequency": "annual",
    "due_working_days": 10,
    "targets": {"2024-25": "21.0"},
    "tolerances": {"2024-25": "23.0"},
}
# Higher is better: 65% met, down to 60% amber.
B2: dict[str, Any] = {
    "reference": "B2",
    "frequency": "annual",
    "due_working_days": 10,
    "targets": {"2024-25": "65"},
    "tolerances": {"2024-25": "60"},
}
B7: dict[str, Any] = {
    "reference": "B7",
    "frequency": "quarterly",
    "due_working_days": 20,
    "targets": {"2024-25": "85.0"},
    "tolerances": {"2024-25": "80.0"},
}
C1: dict[str, Any] = {
    "reference": "C1",
    "frequency": "monthly",
    "due_working_days": 10,
    "targets": {"2025-26": "90.0"},
    "tolerances": {"2025-26": "85.0"},
}
VISITS_DEFINED: dict[str, Any] = {
    "code": VISITS,
    "title": "Statutory visits to children in care made within timescale",
    "unit": "percentage",
    "polarity": "higher-is-better",
    "decimals": 1,
    "has_fraction": True,
    "definition": "Visits due in the month that were made on time, as a percentage of visits due.",
}

YEAR = "2024-25"
# Sandwell's figure, due 10 working days after 31 March 2025 (Easter fell later that year).
SANDWELL_2024_25: dict[str, Any] = {
    "period": YEAR,
    "value": "22.7",
    "numerator": 844,
    "denominator": 3723,
}
DUE_2024_25 = "2025-04-14"
DUPLICATES = "66 re-referrals were the same contact recorded twice in the case system"

# A term long enough that periods relative to today lie within it for years to come.
LONG_TERM: dict[str, Any] = {"starts": "2018-04-01", "ends": "2038-03-31"}

# Who may read a contract's KPIs: its parties, an admin, and auditors it is granted to.
NOT_A_READER = [
    ("anonymous", 401),
    ("auditor", 403),
    ("other_commissioner", 403),
    ("other_provider", 403),
]
# Every write is one party's: nobody else, not even an admin, makes it.
ONLY_THE_COUNCIL = [*NOT_THE_COUNCIL, ("admin", 403), ("other_provider", 403)]
ONLY_THE_TRUST = [*NOT_THE_TRUST, ("admin", 403), ("other_commissioner", 403)]


def scheduled(world: World, **overrides: Any) -> dict[str, Any]:
    """Sandwell's contract with re-referrals (A1) on its schedule, signed by both."""
    contract = world.draft(**overrides)
    drafted = succeeded(world.commissioner.schedule_kpi(contract["id"], REREFERRALS, **A1))
    return world.signed_by_both(drafted)


def submitted(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """A signed contract, and the series once the trust has returned Sandwell's 2024-25 figure."""
    contract = scheduled(world)
    series = succeeded(
        world.provider.submit_return(contract["id"], REREFERRALS, **SANDWELL_2024_25), 201
    )
    return contract, series


def queried(world: World) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A submitted return the council has queried: the contract, the query id, the series."""
    contract, _ = submitted(world)
    raised = succeeded(
        world.commissioner.query_return(
            contract["id"], REREFERRALS, YEAR, "Why did re-referrals rise by two points?"
        ),
        201,
    )
    return contract, raised["id"], raised["series"]


def summary_of(world: World, contract: dict[str, Any], reference: str) -> dict[str, Any]:
    response = world.commissioner.kpi_summary(contract["id"])
    assert response.status_code == 200, response.text
    [kpi] = [kpi for kpi in response.json()["kpis"] if kpi["reference"] == reference]
    return dict(kpi)


def series_of(world: World, contract: dict[str, Any]) -> dict[str, Any]:
    response = world.commissioner.kpi_series(contract["id"], REREFERRALS)
    assert response.status_code == 200, response.text
    series: dict[str, Any] = response.json()
    assert response.headers["ETag"] == f'"{series["version"]}"'
    return series


def the_return(series: dict[str, Any], period: str) -> dict[str, Any]:
    """The series' return for the period with this label, as the write URLs name it."""
    found: dict[str, Any] = series["returns"][period]
    return dict(found)


def last_month() -> str:
    """The label of the month before this one, which has ended but whose return is not late."""
    return f"{today().replace(day=1) - timedelta(days=1):%Y-%m}"


def test_the_full_story_from_schedule_to_a_restated_return(world: World) -> None:
    draft = world.draft()
    succeeded(world.commissioner.schedule_kpi(draft["id"], REREFERRALS, **A1))
    succeeded(world.commissioner.schedule_kpi(draft["id"], STABILITY, **B2))
    succeeded(world.commissioner.define_local_indicator(draft["id"], **VISITS_DEFINED))
    drafted = succeeded(world.commissioner.schedule_kpi(draft["id"], VISITS, **C1))
    assert sorted(drafted["kpi_schedule"]) == sorted([REREFERRALS, STABILITY, VISITS])
    contract = world.signed_by_both(drafted)
    kpis = world.provider.kpi_summary(contract["id"]).json()["kpis"]
    assert [kpi["reference"] for kpi in kpis] == ["A1", "B2", "C1"]
    assert [kpi["latest"] for kpi in kpis] == [None, None, None]

    # The trust returns Sandwell's 2024-25 figure, long after it fell due.
    series = succeeded(
        world.provider.submit_return(contract["id"], REREFERRALS, **SANDWELL_2024_25), 201
    )
    made = the_return(series, "2024-25")
    assert made["period"] == {"starts": "2024-04-01", "ends": "2025-03-31", "frequency": "annual"}
    assert (made["value"], made["numerator"], made["denominator"]) == ("22.7", 844, 3723)
    assert (made["due_on"], made["late"], made["status"]) == (DUE_2024_25, True, "submitted")
    assert made["submitted_on"] == today().isoformat()
    assert world.who(made["submitted_by"]) == "provider"
    assert series_of(world, contract) == series
    a1 = summary_of(world, contract, "A1")
    assert a1["latest"] == {
        "period": YEAR,
        "value": "22.7",
        "late": True,
        "restated": False,
        "status": "submitted",
    }
    assert (a1["target"], a1["tolerance"], a1["rag"]) == ("21.0", "23.0", "amber")
    assert a1["late"] == [YEAR]
    assert YEAR not in a1["overdue"]
    assert "2023-24" in a1["overdue"]

    # The council queries it, and cannot accept it until the trust answers.
    raised = succeeded(
        world.commissioner.query_return(
            contract["id"], REREFERRALS, YEAR, "Why did re-referrals rise by two points?"
        ),
        201,
    )
    [query] = the_return(raised["series"], "2024-25")["queries"]
    assert query["query_id"] == raised["id"]
    assert world.who(query["asked_by"]) == "commissioner"
    assert query["answer"] is None
    assert summary_of(world, contract, "A1")["open_queries"] == 1

    refused(world.commissioner.accept_return(contract["id"], REREFERRALS, YEAR), 409, "query-open")

    answered = succeeded(
        world.provider.answer_query(
            contract["id"], REREFERRALS, YEAR, raised["id"], "A new front door counted contacts"
        )
    )
    [query] = the_return(answered, "2024-25")["queries"]
    assert query["answer"] == "A new front door counted contacts"
    assert world.who(query["answered_by"]) == "provider"
    assert summary_of(world, contract, "A1")["open_queries"] == 0

    accepted = succeeded(world.commissioner.accept_return(contract["id"], REREFERRALS, YEAR))
    assert the_return(accepted, "2024-25")["status"] == "accepted"
    assert summary_of(world, contract, "A1")["latest"]["status"] == "accepted"

    # A figure found wrong is restated, with its reason; both values stay in the history.
    restated = succeeded(
        world.provider.restate_return(
            contract["id"],
            REREFERRALS,
            YEAR,
            value="20.9",
            numerator=778,
            denominator=3723,
            reason=DUPLICATES,
        )
    )
    made = the_return(restated, "2024-25")
    assert [(value["value"], value["reason"]) for value in made["history"]] == [
        ("22.7", None),
        ("20.9", DUPLICATES),
    ]
    assert world.who(made["history"][1]["given_by"]) == "provider"
    assert (made["value"], made["restated"], made["status"]) == ("20.9", True, "submitted")
    assert series_of(world, contract) == restated
    a1 = summary_of(world, contract, "A1")
    assert a1["latest"] == {
        "period": YEAR,
        "value": "20.9",
        "late": True,
        "restated": True,
        "status": "submitted",
    }
    assert a1["rag"] == "green"


# -- the catalogue ------------------------------------------------------------------------------


def test_anyone_signed_in_lists_the_national_indicators(world: World) -> None:
    for reader in (world.commissioner, world.provider, world.auditor, world.admin):
        response = reader.indicators()
        assert response.status_code == 200, response.text
        indicators = {indicator["code"]: indicator for indicator in response.json()}
        assert len(indicators) >= 14
        assert all(indicator["national"] for indicator in indicators.values())
        rereferrals = indicators[REREFERRALS]
        assert (rereferrals["unit"], rereferrals["polarity"], rereferrals["decimals"]) == (
            "percentage",
            "lower-is-better",
            1,
        )
        stability = indicators[STABILITY]
        assert (stability["unit"], stability["polarity"], stability["decimals"]) == (
            "percentage",
            "higher-is-better",
            0,
        )
        assert indicators["sw_caseload"]["unit"] == "ratio"
        assert indicators["sw_caseload"]["has_fraction"] is False


def test_listing_the_indicators_needs_a_token(world: World) -> None:
    denied(world.anonymous().indicators(), 401)


# -- the schedule, while drafting ---------------------------------------------------------------


def test_the_council_schedules_a_kpi_while_drafting(world: World) -> None:
    draft = world.draft()

    response = world.commissioner.schedule_kpi(draft["id"], REREFERRALS, **A1)

    contract = succeeded(response)
    assert int(response.headers["Trustledger-Position"]) > 0
    line = contract["kpi_schedule"][REREFERRALS]
    assert line["indicator"]["code"] == REREFERRALS
    assert line["indicator"]["polarity"] == "lower-is-better"
    assert (line["reference"], line["frequency"], line["due_working_days"]) == ("A1", "annual", 10)
    assert (line["targets"], line["tolerances"]) == ({YEAR: "21.0"}, {YEAR: "23.0"})
    assert line["agreed_in"] is None
    [change] = contract["kpi_schedule_history"]
    assert (change["indicator_code"], change["kpi"], change["agreed_in"]) == (
        REREFERRALS,
        line,
        None,
    )
    assert world.who(change["changed_by"]) == "commissioner"


def test_scheduling_a_kpi_again_replaces_its_line(world: World) -> None:
    draft = world.draft()
    succeeded(world.commissioner.schedule_kpi(draft["id"], REREFERRALS, **A1))

    contract = succeeded(
        world.commissioner.schedule_kpi(
            draft["id"], REREFERRALS, **{**A1, "targets": {YEAR: "20.0"}}
        )
    )

    assert contract["kpi_schedule"][REREFERRALS]["targets"] == {YEAR: "20.0"}
    assert len(contract["kpi_schedule_history"]) == 2


def test_a_tolerance_on_the_better_side_of_its_target_is_invalid(world: World) -> None:
    draft = world.draft()

    response = world.commissioner.schedule_kpi(
        draft["id"], REREFERRALS, **{**A1, "tolerances": {YEAR: "19.0"}}
    )

    refused(response, 422, "invalid-tolerance")
    assert world.version_of(draft) == draft["version"]


def test_a_kpi_by_an_indicator_neither_catalogued_nor_defined_is_refused(world: World) -> None:
    draft = world.draft()

    response = world.commissioner.schedule_kpi(draft["id"], VISITS, **C1)

    refused(response, 422, "unknown-indicator")
    assert world.version_of(draft) == draft["version"]


def test_the_council_defines_a_local_indicator_and_schedules_it_monthly(world: World) -> None:
    draft = world.draft()

    defined = succeeded(world.commissioner.define_local_indicator(draft["id"], **VISITS_DEFINED))
    contract = succeeded(world.commissioner.schedule_kpi(draft["id"], VISITS, **C1))

    assert defined["local_indicators"][VISITS] == {
        **VISITS_DEFINED,
        "source": "local",
        "national": False,
    }
    line = contract["kpi_schedule"][VISITS]
    assert line["indicator"] == defined["local_indicators"][VISITS]
    assert line["frequency"] == "monthly"


def test_a_local_indicator_may_not_take_a_national_code(world: World) -> None:
    draft = world.draft()

    response = world.commissioner.define_local_indicator(
        draft["id"], **{**VISITS_DEFINED, "code": REREFERRALS}
    )

    refused(response, 422, "invalid-indicator")
    assert world.version_of(draft) == draft["version"]


def test_the_council_takes_a_kpi_off_the_draft_schedule(world: World) -> None:
    draft = world.draft()
    succeeded(world.commissioner.schedule_kpi(draft["id"], REREFERRALS, **A1))

    contract = succeeded(world.commissioner.unschedule_kpi(draft["id"], REREFERRALS))

    assert contract["kpi_schedule"] == {}
    assert [change["kpi"] is None for change in contract["kpi_schedule_history"]] == [False, True]
    assert world.commissioner.kpi_summary(draft["id"]).json() == {"kpis": []}


def test_taking_off_a_kpi_the_schedule_does_not_hold_is_invalid(world: World) -> None:
    draft = world.draft()

    refused(world.commissioner.unschedule_kpi(draft["id"], STABILITY), 422, "not-on-schedule")
    assert world.version_of(draft) == draft["version"]


def test_once_signed_the_schedule_changes_only_by_variation(world: World) -> None:
    contract = scheduled(world)

    for response in (
        world.commissioner.schedule_kpi(contract["id"], STABILITY, **B2),
        world.commissioner.unschedule_kpi(contract["id"], REREFERRALS),
        world.commissioner.define_local_indicator(contract["id"], **VISITS_DEFINED),
    ):
        refused(response, 409, "contract-not-draft")
    assert world.version_of(contract) == contract["version"]


def test_scheduling_under_a_contract_the_ledger_does_not_hold_is_not_found(world: World) -> None:
    refused(world.commissioner.schedule_kpi(uuid4(), REREFERRALS, **A1), 404, "not-found")


@pytest.mark.parametrize(("who", "status"), ONLY_THE_COUNCIL)
def test_only_the_council_may_schedule_a_kpi(world: World, who: str, status: int) -> None:
    draft = world.draft()

    denied(world.person(who).schedule_kpi(draft["id"], REREFERRALS, **A1), status)
    assert world.version_of(draft) == draft["version"]


@pytest.mark.parametrize(("who", "status"), ONLY_THE_COUNCIL)
def test_only_the_council_may_take_a_kpi_off_the_schedule(
    world: World, who: str, status: int
) -> None:
    draft = world.draft()
    contract = succeeded(world.commissioner.schedule_kpi(draft["id"], REREFERRALS, **A1))

    denied(world.person(who).unschedule_kpi(draft["id"], REREFERRALS), status)
    assert world.version_of(contract) == contract["version"]


@pytest.mark.parametrize(("who", "status"), ONLY_THE_COUNCIL)
def test_only_the_council_may_define_a_local_indicator(world: World, who: str, status: int) -> None:
    draft = world.draft()

    denied(world.person(who).define_local_indicator(draft["id"], **VISITS_DEFINED), status)
    assert world.version_of(draft) == draft["version"]


# -- the schedule, by variation -----------------------------------------------------------------


def test_a_variation_agreed_after_signing_puts_a_kpi_on_the_schedule(world: World) -> None:
    contract = scheduled(world)
    created = succeeded(
        world.commissioner.propose_variation(
            contract["id"],
            changes={"kpis": [{"indicator_code": ASSESSMENTS, **B7}]},
            rationale="Ofsted found assessments drifting: monitor their timeliness quarterly",
        ),
        201,
    )
    assert ASSESSMENTS not in created["contract"]["kpi_schedule"]

    agreed = succeeded(
        world.provider.agree_variation(
            contract["id"], created["id"], f'"{created["contract"]["version"]}"'
        )
    )

    line = agreed["kpi_schedule"][ASSESSMENTS]
    assert (line["reference"], line["frequency"]) == ("B7", "quarterly")
    assert line["agreed_in"] == created["id"]
    assert agreed["kpi_schedule_history"][-1]["agreed_in"] == created["id"]
    assert agreed["kpi_schedule"][REREFERRALS]["agreed_in"] is None
    assert world.commissioner.contract(contract["id"]).json() == agreed
    b7 = summary_of(world, contract, "B7")
    assert b7["indicator"]["code"] == ASSESSMENTS
    assert b7["latest"] is None
    # Periods that ended before the variation was agreed were never owed.
    assert "2024-25 Q1" not in b7["overdue"]

    # It is returned like any KPI signed with the contract.
    series = succeeded(
        world.provider.submit_return(
            contract["id"],
            ASSESSMENTS,
            period="2024-25 Q1",
            value="86.3",
            numerator=1312,
            denominator=1520,
        ),
        201,
    )
    assert the_return(series, "2024-25 Q1")["value"] == "86.3"
    assert summary_of(world, contract, "B7")["rag"] == "green"


def test_a_variation_agreed_after_signing_takes_a_kpi_off_the_schedule(world: World) -> None:
    contract, _ = submitted(world)
    created = succeeded(
        world.provider.propose_variation(
            contract["id"],
            changes={"kpis_removed": [REREFERRALS]},
            rationale="Re-referrals are reported to the children's partnership instead",
        ),
        201,
    )

    agreed = succeeded(
        world.commissioner.agree_variation(
            contract["id"], created["id"], f'"{created["contract"]["version"]}"'
        )
    )

    assert REREFERRALS not in agreed["kpi_schedule"]
    last = agreed["kpi_schedule_history"][-1]
    assert (last["indicator_code"], last["kpi"], last["agreed_in"]) == (
        REREFERRALS,
        None,
        created["id"],
    )
    assert world.commissioner.kpi_summary(contract["id"]).json() == {"kpis": []}
    response = world.provider.submit_return(
        contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "period": "2023-24"}
    )
    refused(response, 422, "not-on-schedule")


# -- reading ------------------------------------------------------------------------------------


def test_the_parties_an_admin_and_a_granted_auditor_read_the_summary_and_series(
    world: World,
) -> None:
    contract, series = submitted(world)
    assert world.admin.grant(world.auditor_id, contract["id"]).status_code == 200

    for reader in (world.commissioner, world.provider, world.admin, world.auditor):
        summary = reader.kpi_summary(contract["id"])
        assert summary.status_code == 200, summary.text
        assert [kpi["reference"] for kpi in summary.json()["kpis"]] == ["A1"]
        read = reader.kpi_series(contract["id"], REREFERRALS)
        assert read.status_code == 200, read.text
        assert read.headers["ETag"] == f'"{series["version"]}"'
        assert read.json() == series


@pytest.mark.parametrize(("who", "status"), NOT_A_READER)
def test_only_readers_of_the_contract_may_read_its_kpi_summary(
    world: World, who: str, status: int
) -> None:
    contract, _ = submitted(world)

    denied(world.person(who).kpi_summary(contract["id"]), status)


@pytest.mark.parametrize(("who", "status"), NOT_A_READER)
def test_only_readers_of_the_contract_may_read_a_kpis_series(
    world: World, who: str, status: int
) -> None:
    contract, _ = submitted(world)

    denied(world.person(who).kpi_series(contract["id"], REREFERRALS), status)


def test_the_summary_of_a_contract_the_ledger_does_not_hold_is_not_found(world: World) -> None:
    refused(world.commissioner.kpi_summary(uuid4()), 404, "not-found")


def test_a_scheduled_kpi_without_returns_has_no_series_yet(world: World) -> None:
    contract = scheduled(world)

    refused(world.provider.kpi_series(contract["id"], REREFERRALS), 404, "not-found")
    a1 = summary_of(world, contract, "A1")
    assert (a1["latest"], a1["target"], a1["rag"], a1["open_queries"]) == (None, None, "none", 0)
    assert a1["overdue"][:2] == ["2018-19", "2019-20"]


def test_the_series_of_a_kpi_not_on_the_schedule_is_refused(world: World) -> None:
    contract = scheduled(world)

    refused(world.provider.kpi_series(contract["id"], STABILITY), 422, "not-on-schedule")


# -- submitting returns -------------------------------------------------------------------------


def test_a_suppressed_value_is_kept_as_its_code_and_never_read_as_zero(world: World) -> None:
    contract = scheduled(world)

    series = succeeded(
        world.provider.submit_return(
            contract["id"],
            REREFERRALS,
            period=YEAR,
            value="c",
            commentary="Fewer than ten re-referrals: suppressed as DfE would",
        ),
        201,
    )

    made = the_return(series, "2024-25")
    assert (made["value"], made["numerator"], made["denominator"]) == ("c", None, None)
    assert made["history"][0]["value"] == "c"
    a1 = summary_of(world, contract, "A1")
    assert a1["latest"]["value"] == "c"
    assert a1["rag"] == "none"
    assert series_of(world, contract) == series


def test_a_return_made_before_its_due_date_is_not_late_and_one_after_it_is(
    world: World,
) -> None:
    contract = world.draft(term=LONG_TERM)
    succeeded(world.commissioner.define_local_indicator(contract["id"], **VISITS_DEFINED))
    drafted = succeeded(
        world.commissioner.schedule_kpi(
            contract["id"],
            VISITS,
            **{**C1, "due_working_days": 60, "targets": {}, "tolerances": {}},
        )
    )
    world.signed_by_both(drafted)
    month = last_month()

    on_time = succeeded(
        world.provider.submit_return(
            contract["id"], VISITS, period=month, value="90.0", numerator=45, denominator=50
        ),
        201,
    )
    late = succeeded(
        world.provider.submit_return(
            contract["id"], VISITS, period="2020-03", value="80.0", numerator=40, denominator=50
        ),
        201,
    )

    made = the_return(on_time, month)
    assert made["late"] is False
    assert made["due_on"] > today().isoformat()
    assert the_return(late, "2020-03")["late"] is True
    c1 = summary_of(world, contract, "C1")
    assert c1["latest"]["period"] == month
    assert c1["late"] == ["2020-03"]
    # A month before last month and its due date is overdue; last month is neither.
    assert "2020-02" in c1["overdue"]
    assert month not in c1["overdue"]


def test_a_return_long_after_its_due_date_is_late(world: World) -> None:
    contract = scheduled(world)

    series = succeeded(
        world.provider.submit_return(
            contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "period": "2019-20"}
        ),
        201,
    )

    made = the_return(series, "2019-20")
    # Ten working days after 31 March 2020, over Good Friday and Easter Monday.
    assert (made["due_on"], made["late"]) == ("2020-04-16", True)
    assert summary_of(world, contract, "A1")["late"] == ["2019-20"]


def test_a_monthly_return_for_a_local_indicator(world: World) -> None:
    contract = world.draft()
    succeeded(world.commissioner.define_local_indicator(contract["id"], **VISITS_DEFINED))
    world.signed_by_both(succeeded(world.commissioner.schedule_kpi(contract["id"], VISITS, **C1)))

    series = succeeded(
        world.provider.submit_return(
            contract["id"], VISITS, period="2025-06", value="90.0", numerator=45, denominator=50
        ),
        201,
    )

    assert series["indicator"]["national"] is False
    made = the_return(series, "2025-06")
    assert made["period"]["frequency"] == "monthly"
    assert made["due_on"] == "2025-07-14"
    c1 = summary_of(world, contract, "C1")
    assert (c1["latest"]["period"], c1["target"], c1["tolerance"], c1["rag"]) == (
        "2025-06",
        "90.0",
        "85.0",
        "green",
    )


def test_a_value_that_disagrees_with_its_counts_is_refused_naming_both(world: World) -> None:
    contract = scheduled(world)

    response = world.provider.submit_return(
        contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "value": "22.8"}
    )

    problem = refused(response, 422, "value-disagrees-with-counts")
    assert "22.8" in problem["detail"]
    assert "22.7" in problem["detail"]
    # The series the first return would have started is undone with it.
    refused(world.provider.kpi_series(contract["id"], REREFERRALS), 404, "not-found")


def test_a_value_with_more_decimals_than_the_indicator_publishes_is_invalid(
    world: World,
) -> None:
    contract = scheduled(world)

    response = world.provider.submit_return(
        contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "value": "22.67"}
    )

    refused(response, 422, "invalid-value")


def test_a_second_return_for_the_same_period_is_a_conflict(world: World) -> None:
    contract, series = submitted(world)

    response = world.provider.submit_return(
        contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "value": "20.9", "numerator": 778}
    )

    refused(response, 409, "return-already-submitted")
    assert series_of(world, contract) == series


def test_a_return_for_a_kpi_not_on_the_schedule_is_invalid(world: World) -> None:
    contract = scheduled(world)

    response = world.provider.submit_return(
        contract["id"], STABILITY, period=YEAR, value="65", numerator=150, denominator=230
    )

    refused(response, 422, "not-on-schedule")
    assert world.commissioner.kpi_summary(contract["id"]).json()["kpis"][0]["latest"] is None


@pytest.mark.parametrize("period", ["2017-18", "2028-29"])
def test_a_return_for_a_period_outside_the_term_is_invalid(world: World, period: str) -> None:
    contract = scheduled(world)

    response = world.provider.submit_return(
        contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "period": period}
    )

    refused(response, 422, "period-outside-term")


@pytest.mark.parametrize("period", ["2024-25 Q1", "2024-06"])
def test_a_return_for_a_period_of_another_frequency_is_invalid(world: World, period: str) -> None:
    contract = scheduled(world)

    response = world.provider.submit_return(
        contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "period": period}
    )

    refused(response, 422, "wrong-frequency")


@pytest.mark.parametrize(
    ("period", "kind"),
    [
        ("2024/25", "invalid-period"),
        ("2024-26", "invalid-period"),
        ("2024-25 Q5", "invalid-period"),
        ("Q1 2024-25", "invalid-period"),
        ("2024-13", "invalid-period"),
        ("2011-12", "invalid-period"),  # before DfE's series, and ambiguous with a month
        ("24", "invalid-request"),
    ],
)
def test_a_malformed_period_label_is_invalid(world: World, period: str, kind: str) -> None:
    contract = scheduled(world)

    response = world.provider.submit_return(
        contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "period": period}
    )

    refused(response, 422, kind)


def test_a_return_for_a_period_not_yet_ended_is_invalid(world: World) -> None:
    contract = world.draft(term=LONG_TERM)
    world.signed_by_both(
        succeeded(world.commissioner.schedule_kpi(contract["id"], REREFERRALS, **A1))
    )

    response = world.provider.submit_return(
        contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "period": "2037-38"}
    )

    problem = refused(response, 422, "invalid-date")
    assert "2038-03-31" in problem["detail"]


def test_a_return_under_a_draft_contract_is_a_conflict(world: World) -> None:
    draft = world.draft()
    succeeded(world.commissioner.schedule_kpi(draft["id"], REREFERRALS, **A1))

    response = world.provider.submit_return(draft["id"], REREFERRALS, **SANDWELL_2024_25)

    refused(response, 409, "contract-not-live")
    refused(world.provider.kpi_series(draft["id"], REREFERRALS), 404, "not-found")


def test_a_return_under_a_contract_the_ledger_does_not_hold_is_not_found(world: World) -> None:
    response = world.provider.submit_return(uuid4(), REREFERRALS, **SANDWELL_2024_25)

    refused(response, 404, "not-found")


@pytest.mark.parametrize(("who", "status"), ONLY_THE_TRUST)
def test_only_the_trust_may_submit_a_return(world: World, who: str, status: int) -> None:
    contract = scheduled(world)

    denied(world.person(who).submit_return(contract["id"], REREFERRALS, **SANDWELL_2024_25), status)
    refused(world.provider.kpi_series(contract["id"], REREFERRALS), 404, "not-found")


# -- a quarter's label holds a space ------------------------------------------------------------


def test_a_quarterly_return_is_queried_answered_and_accepted_by_its_label(world: World) -> None:
    contract = world.draft()
    world.signed_by_both(
        succeeded(world.commissioner.schedule_kpi(contract["id"], ASSESSMENTS, **B7))
    )
    quarter = "2024-25 Q1"
    succeeded(
        world.provider.submit_return(
            contract["id"],
            ASSESSMENTS,
            period=quarter,
            value="86.3",
            numerator=1312,
            denominator=1520,
        ),
        201,
    )

    raised = succeeded(
        world.commissioner.query_return(contract["id"], ASSESSMENTS, quarter, "Which teams?"),
        201,
    )
    succeeded(
        world.provider.answer_query(
            contract["id"], ASSESSMENTS, quarter, raised["id"], "All four locality teams"
        )
    )
    accepted = succeeded(world.commissioner.accept_return(contract["id"], ASSESSMENTS, quarter))

    made = the_return(accepted, quarter)
    assert made["period"] == {
        "starts": "2024-04-01",
        "ends": "2024-06-30",
        "frequency": "quarterly",
    }
    assert (made["due_on"], made["status"]) == ("2024-07-26", "accepted")
    b7 = summary_of(world, contract, "B7")
    assert (b7["latest"]["period"], b7["rag"]) == (quarter, "green")


# -- the council's challenge --------------------------------------------------------------------


def test_querying_a_period_without_a_return_is_not_found(world: World) -> None:
    contract, series = submitted(world)

    response = world.commissioner.query_return(contract["id"], REREFERRALS, "2023-24", "Where?")

    refused(response, 404, "not-found")
    assert series_of(world, contract) == series


def test_querying_a_kpi_without_any_return_is_not_found(world: World) -> None:
    contract = scheduled(world)

    response = world.commissioner.query_return(contract["id"], REREFERRALS, YEAR, "Where?")

    refused(response, 404, "not-found")


@pytest.mark.parametrize(("who", "status"), ONLY_THE_COUNCIL)
def test_only_the_council_may_query_a_return(world: World, who: str, status: int) -> None:
    contract, series = submitted(world)

    denied(world.person(who).query_return(contract["id"], REREFERRALS, YEAR, "Why?"), status)
    assert series_of(world, contract) == series


def test_an_answer_to_a_query_the_ledger_does_not_hold_is_not_found(world: World) -> None:
    contract, _, series = queried(world)

    response = world.provider.answer_query(contract["id"], REREFERRALS, YEAR, uuid4(), "Because")

    refused(response, 404, "not-found")
    assert series_of(world, contract) == series


def test_an_answer_addressed_under_another_periods_return_is_not_found(world: World) -> None:
    contract, query_id, _ = queried(world)
    succeeded(
        world.provider.submit_return(
            contract["id"], REREFERRALS, **{**SANDWELL_2024_25, "period": "2023-24"}
        ),
        201,
    )
    series = series_of(world, contract)

    for period in ("2023-24", "2022-23"):
        response = world.provider.answer_query(
            contract["id"], REREFERRALS, period, query_id, "Because"
        )
        refused(response, 404, "not-found")
    assert series_of(world, contract) == series


def test_a_query_is_answered_once(world: World) -> None:
    contract, query_id, _ = queried(world)
    answered = succeeded(
        world.provider.answer_query(contract["id"], REREFERRALS, YEAR, query_id, "Because")
    )

    response = world.provider.answer_query(contract["id"], REREFERRALS, YEAR, query_id, "Again")

    refused(response, 409, "query-already-answered")
    assert series_of(world, contract) == answered


@pytest.mark.parametrize(("who", "status"), ONLY_THE_TRUST)
def test_only_the_trust_may_answer_a_query(world: World, who: str, status: int) -> None:
    contract, query_id, series = queried(world)

    denied(
        world.person(who).answer_query(contract["id"], REREFERRALS, YEAR, query_id, "Because"),
        status,
    )
    assert series_of(world, contract) == series


def test_the_council_accepts_a_return_without_open_queries(world: World) -> None:
    contract, _ = submitted(world)

    accepted = succeeded(world.commissioner.accept_return(contract["id"], REREFERRALS, YEAR))

    assert the_return(accepted, "2024-25")["status"] == "accepted"


def test_a_return_is_accepted_once_until_it_is_restated(world: World) -> None:
    contract, _ = submitted(world)
    accepted = succeeded(world.commissioner.accept_return(contract["id"], REREFERRALS, YEAR))

    response = world.commissioner.accept_return(contract["id"], REREFERRALS, YEAR)

    refused(response, 409, "return-already-accepted")
    assert series_of(world, contract) == accepted


def test_accepting_a_period_without_a_return_is_not_found(world: World) -> None:
    contract, series = submitted(world)

    refused(
        world.commissioner.accept_return(contract["id"], REREFERRALS, "2023-24"), 404, "not-found"
    )
    assert series_of(world, contract) == series


def test_an_acceptance_against_a_stale_etag_is_refused(world: World) -> None:
    contract, query_id, _ = queried(world)
    answered = succeeded(
        world.provider.answer_query(contract["id"], REREFERRALS, YEAR, query_id, "Because")
    )

    response = world.commissioner.accept_return(
        contract["id"], REREFERRALS, YEAR, if_match=f'"{answered["version"] - 1}"'
    )

    refused(response, 412, "stale-version")
    assert series_of(world, contract) == answered
    assert the_return(answered, "2024-25")["status"] == "submitted"


def test_an_acceptance_against_the_current_etag_is_made(world: World) -> None:
    contract, _ = submitted(world)
    etag = world.commissioner.kpi_series(contract["id"], REREFERRALS).headers["ETag"]

    response = world.commissioner.accept_return(contract["id"], REREFERRALS, YEAR, if_match=etag)

    accepted = succeeded(response)
    assert response.headers["ETag"] == f'"{int(etag.strip(chr(34))) + 1}"'
    assert the_return(accepted, "2024-25")["status"] == "accepted"


@pytest.mark.parametrize(("who", "status"), ONLY_THE_COUNCIL)
def test_only_the_council_may_accept_a_return(world: World, who: str, status: int) -> None:
    contract, series = submitted(world)

    denied(world.person(who).accept_return(contract["id"], REREFERRALS, YEAR), status)
    assert series_of(world, contract) == series


# -- restating ----------------------------------------------------------------------------------


def test_a_restatement_that_changes_nothing_is_invalid(world: World) -> None:
    contract, series = submitted(world)

    response = world.provider.restate_return(
        contract["id"],
        REREFERRALS,
        YEAR,
        value="22.7",
        numerator=844,
        denominator=3723,
        reason="Checked again",
    )

    refused(response, 422, "restatement-changes-nothing")
    assert series_of(world, contract) == series


def test_a_restatement_needs_its_reason(world: World) -> None:
    contract, series = submitted(world)

    response = world.provider.restate_return(
        contract["id"], REREFERRALS, YEAR, value="20.9", numerator=778, denominator=3723, reason=""
    )

    refused(response, 422, "invalid-request")
    assert series_of(world, contract) == series


def test_restating_a_period_without_a_return_is_not_found(world: World) -> None:
    contract, series = submitted(world)

    response = world.provider.restate_return(
        contract["id"],
        REREFERRALS,
        "2023-24",
        value="20.9",
        numerator=778,
        denominator=3723,
        reason=DUPLICATES,
    )

    refused(response, 404, "not-found")
    assert series_of(world, contract) == series


@pytest.mark.parametrize(("who", "status"), ONLY_THE_TRUST)
def test_only_the_trust_may_restate_a_return(world: World, who: str, status: int) -> None:
    contract, series = submitted(world)

    response = world.person(who).restate_return(
        contract["id"],
        REREFERRALS,
        YEAR,
        value="20.9",
        numerator=778,
        denominator=3723,
        reason=DUPLICATES,
    )

    denied(response, status)
    assert series_of(world, contract) == series


# -- versions and log positions -----------------------------------------------------------------


def test_each_write_answers_with_the_series_version_and_its_log_position(world: World) -> None:
    contract = scheduled(world)
    positions = []

    def written(response: Any, status: int = 200) -> dict[str, Any]:
        body = succeeded(response, status)
        positions.append(int(response.headers["Trustledger-Position"]))
        return body

    series = written(
        world.provider.submit_return(contract["id"], REREFERRALS, **SANDWELL_2024_25), 201
    )
    raised = written(
        world.commissioner.query_return(contract["id"], REREFERRALS, YEAR, "Why?"), 201
    )
    answered = written(
        world.provider.answer_query(contract["id"], REREFERRALS, YEAR, raised["id"], "Because")
    )
    accepted = written(
        world.commissioner.accept_return(
            contract["id"], REREFERRALS, YEAR, if_match=f'"{answered["version"]}"'
        )
    )
    restated = written(
        world.provider.restate_return(
            contract["id"],
            REREFERRALS,
            YEAR,
            value="20.9",
            numerator=778,
            denominator=3723,
            reason=DUPLICATES,
        )
    )

    # The series is started by its first return (version 1), which is version 2.
    versions = [
        body["version"] for body in (series, raised["series"], answered, accepted, restated)
    ]
    assert versions == [2, 3, 4, 5, 6]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert series_of(world, contract) == restated
