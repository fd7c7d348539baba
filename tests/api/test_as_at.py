"""Time travel over HTTP: a contract, its KPI summary and a KPI's series read as the ledger knew
them at an instant (recorded time); a period's return with every value it has had (valid time
beside recorded time); and what changed under a contract between two instants.

Instants are taken from the clock as the story goes, between one write's answer and the next
request: the ledger recorded everything before such an instant and nothing after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import httpx
import pytest

from api.deps import Reading
from domain.application import AsAt
from tests.api.client import Client
from tests.api.conftest import World, denied, refused, succeeded
from tests.api.test_kpis import (
    B2,
    DUPLICATES,
    REREFERRALS,
    SANDWELL_2024_25,
    STABILITY,
    YEAR,
    scheduled,
)

FIFTY_EIGHT_MILLION = 5_800_000_000
SIXTY_THREE_MILLION = 6_300_000_000
FIVE_MILLION_MORE: dict[str, Any] = {
    "changes": {"contract_sums": {"2019-20": SIXTY_THREE_MILLION}},
    "rationale": "Demand for children in care rose faster than planned: £5m more for 2019-20",
}
LATE_ASSESSMENTS: dict[str, Any] = {
    "grounds": "Assessments within 45 working days fell to 61% for two quarters running",
    "kpi_codes": [REREFERRALS],
    "clauses": ["7.2"],
    "remedy": "Restore timeliness to the 85% target",
    "issued_on": "2019-05-02",
    "response_due": "2019-05-30",
}
QUESTION = "Why did re-referrals rise by two points?"
ANSWER = "A new front door counted contacts"
# Who may not read a contract at any instant: nobody signed in, an auditor it was not granted
# to, and the other council's and trust's people.
NOT_A_READER = [
    ("anonymous", 401),
    ("auditor", 403),
    ("other_commissioner", 403),
    ("other_provider", 403),
]
# Every read that takes an instant, as a person would ask it of a contract.
READS_AS_AT = {
    "contract": lambda c, contract_id, at: c.contract_as_at(contract_id, at),
    "KPI summary": lambda c, contract_id, at: c.kpi_summary_as_at(contract_id, at),
    "KPI series": lambda c, contract_id, at: c.kpi_series_as_at(contract_id, REREFERRALS, at),
    "return history": lambda c, contract_id, at: c.return_history(
        contract_id, REREFERRALS, YEAR, at
    ),
    "changes from": lambda c, contract_id, at: c.changes(contract_id, at),
    "changes to": lambda c, contract_id, at: c.changes(contract_id, "2000-01-01T00:00:00Z", at),
}


def now() -> datetime:
    return datetime.now(UTC)


def granted(world: World, contract_id: str) -> Client:
    """The auditor, once an admin has granted them the contract."""
    assert world.admin.grant(world.auditor_id, contract_id).status_code == 200
    return world.auditor


def body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def a_story(world: World) -> dict[str, Any]:
    """Sandwell's contract with re-referrals (A1) on its schedule, signed; the trust returns its
    2024-25 figure, the council queries it, the trust answers, the council accepts it, and the
    trust restates it. Each step's instant and log position are kept under its name."""
    contract = scheduled(world)
    story: dict[str, Any] = {"contract": contract, "signed": now()}

    def step(name: str, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        written = succeeded(response, status)
        story[name] = now()
        story[f"{name} position"] = int(response.headers["Trustledger-Position"])
        return written

    cid = contract["id"]
    step("submitted", world.provider.submit_return(cid, REREFERRALS, **SANDWELL_2024_25), 201)
    raised = step("queried", world.commissioner.query_return(cid, REREFERRALS, YEAR, QUESTION), 201)
    story["query_id"] = raised["id"]
    step("answered", world.provider.answer_query(cid, REREFERRALS, YEAR, raised["id"], ANSWER))
    step("accepted", world.commissioner.accept_return(cid, REREFERRALS, YEAR))
    step(
        "restated",
        world.provider.restate_return(
            cid, REREFERRALS, YEAR, value="20.9", numerator=778, denominator=3723, reason=DUPLICATES
        ),
    )
    return story


# -- the contract as at an instant ----------------------------------------------------------------


def test_a_contract_read_as_at_before_a_variation_was_agreed_shows_the_old_terms(
    world: World,
) -> None:
    contract = world.signed(
        contract_sums={"2018-19": FIFTY_EIGHT_MILLION, "2019-20": FIFTY_EIGHT_MILLION}
    )
    created = succeeded(world.provider.propose_variation(contract["id"], **FIVE_MILLION_MORE), 201)
    proposed = world.commissioner.contract(contract["id"])
    before_agreement = now()
    agreed = succeeded(
        world.commissioner.agree_variation(
            contract["id"], created["id"], f'"{created["contract"]["version"]}"'
        )
    )
    assert agreed["contract_sums"]["2019-20"] == SIXTY_THREE_MILLION

    response = world.commissioner.contract_as_at(contract["id"], before_agreement)

    then = body(response)
    assert then == proposed.json()
    assert then["contract_sums"]["2019-20"] == FIFTY_EIGHT_MILLION
    [variation] = then["variations"]
    assert variation["status"] == "proposed"
    assert response.headers["ETag"] == proposed.headers["ETag"]
    assert body(world.commissioner.contract_as_at(contract["id"], now())) == agreed


def test_an_as_at_read_says_which_instant_and_log_position_it_shows(world: World) -> None:
    contract = world.draft()
    drafted_at = now()
    succeeded(
        world.commissioner.set_obligation(
            contract["id"], description="Ofsted: good by 2019", due_on="2019-03-31"
        ),
        201,
    )

    response = world.commissioner.contract_as_at(contract["id"], drafted_at)

    assert body(response)["version"] == contract["version"]
    assert datetime.fromisoformat(response.headers["Trustledger-As-At"]) == drafted_at
    # Nothing was recorded between the draft and the instant: its position is the draft's.
    changes = body(world.commissioner.changes(contract["id"], drafted_at - timedelta(hours=1)))
    [drafted, _] = changes["changes"]
    assert int(response.headers["Trustledger-Position"]) == drafted["position"]


def test_an_instant_in_another_offset_is_the_same_instant(world: World) -> None:
    contract = world.draft()
    drafted_at = now()
    in_new_york = drafted_at.astimezone(timezone(timedelta(hours=-5))).isoformat()
    in_london_summer = drafted_at.astimezone(timezone(timedelta(hours=1))).isoformat()

    for written in (in_new_york, in_london_summer, drafted_at.isoformat().replace("+00:00", "Z")):
        response = world.commissioner.contract_as_at(contract["id"], written)
        assert body(response)["version"] == contract["version"]
        assert datetime.fromisoformat(response.headers["Trustledger-As-At"]) == drafted_at


def test_a_contract_as_at_before_it_was_drafted_is_not_found(world: World) -> None:
    before = now()
    contract = world.draft()

    refused(world.commissioner.contract_as_at(contract["id"], before), 404, "not-found")
    refused(world.commissioner.kpi_summary_as_at(contract["id"], before), 404, "not-found")


def test_a_contract_the_ledger_never_held_is_not_found_at_any_instant(world: World) -> None:
    refused(world.commissioner.contract_as_at(uuid4(), now()), 404, "not-found")


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # Half past midnight in London in summer time is still the evening before in UTC...
        ("2025-06-30T23:30:00+00:00", date(2025, 7, 1)),
        # ...but not in winter, when London keeps UTC.
        ("2025-12-31T23:30:00+00:00", date(2025, 12, 31)),
        ("2026-01-01T00:30:00+01:00", date(2025, 12, 31)),
    ],
)
def test_a_read_as_at_an_instant_reckons_status_and_overdue_returns_on_that_day_in_england(
    instant: str, day: date
) -> None:
    assert Reading(AsAt(datetime.fromisoformat(instant), position=1)).day == day


# -- KPIs as at an instant ------------------------------------------------------------------------


def test_a_kpi_read_as_at_before_its_restatement_shows_the_original_value(world: World) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]

    summary = body(world.commissioner.kpi_summary_as_at(cid, story["accepted"]))
    [a1] = summary["kpis"]
    assert a1["latest"] == {
        "period": YEAR,
        "value": "22.7",
        "late": True,
        "restated": False,
        "status": "accepted",
    }
    assert a1["rag"] == "amber"
    series = body(world.commissioner.kpi_series_as_at(cid, REREFERRALS, story["accepted"]))
    made = series["returns"][YEAR]
    assert (made["value"], made["status"], made["restated"]) == ("22.7", "accepted", False)
    assert [value["value"] for value in made["history"]] == ["22.7"]

    [a1] = body(world.commissioner.kpi_summary_as_at(cid, story["restated"]))["kpis"]
    assert (a1["latest"]["value"], a1["latest"]["restated"], a1["rag"]) == ("20.9", True, "green")


def test_a_kpi_as_at_an_instant_shows_its_queries_as_they_then_stood(world: World) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]

    [a1] = body(world.commissioner.kpi_summary_as_at(cid, story["queried"]))["kpis"]
    assert a1["open_queries"] == 1
    series = world.commissioner.kpi_series_as_at(cid, REREFERRALS, story["queried"])
    [query] = body(series)["returns"][YEAR]["queries"]
    assert (query["question"], query["answer"]) == (QUESTION, None)
    assert series.headers["ETag"] == f'"{body(series)["version"]}"'
    assert int(series.headers["Trustledger-Position"]) == story["queried position"]


def test_a_kpi_series_as_at_before_its_first_return_is_not_found(world: World) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]

    refused(
        world.commissioner.kpi_series_as_at(cid, REREFERRALS, story["signed"]), 404, "not-found"
    )
    [a1] = body(world.commissioner.kpi_summary_as_at(cid, story["signed"]))["kpis"]
    assert (a1["latest"], a1["rag"], a1["open_queries"]) == (None, "none", 0)


def test_a_kpi_scheduled_after_an_instant_was_not_on_the_schedule_then(world: World) -> None:
    draft = world.draft()
    before = now()
    succeeded(world.commissioner.schedule_kpi(draft["id"], STABILITY, **B2))

    assert body(world.commissioner.kpi_summary_as_at(draft["id"], before)) == {"kpis": []}
    refused(
        world.commissioner.kpi_series_as_at(draft["id"], STABILITY, before), 422, "not-on-schedule"
    )


# -- a period's history -------------------------------------------------------------------------


def test_a_periods_history_lists_every_value_and_challenge_with_who_when_and_why(
    world: World,
) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]

    response = granted(world, cid).return_history(cid, REREFERRALS, YEAR)

    found = body(response)
    assert (found["contract_id"], found["indicator"], found["period"]) == (cid, REREFERRALS, YEAR)
    history = found["history"]
    assert [entry["kind"] for entry in history] == [
        "submitted",
        "queried",
        "answered",
        "accepted",
        "restated",
    ]
    assert [world.who(entry["actor"]) for entry in history] == [
        "provider",
        "commissioner",
        "provider",
        "commissioner",
        "provider",
    ]
    submitted, queried, answered, _, restated = history
    assert (submitted["value"], submitted["numerator"], submitted["denominator"]) == (
        "22.7",
        844,
        3723,
    )
    assert submitted["reason"] is None
    assert (queried["query_id"], queried["question"]) == (story["query_id"], QUESTION)
    assert (answered["query_id"], answered["answer"]) == (story["query_id"], ANSWER)
    assert (restated["value"], restated["numerator"], restated["reason"]) == (
        "20.9",
        778,
        DUPLICATES,
    )
    # Oldest first, each recorded before the instant its step was taken at.
    assert [entry["position"] for entry in history] == [
        story[f"{step} position"]
        for step in ("submitted", "queried", "answered", "accepted", "restated")
    ]
    recorded = [datetime.fromisoformat(entry["recorded_at"]) for entry in history]
    assert recorded == sorted(recorded)
    assert story["signed"] < recorded[0] <= story["submitted"] < recorded[1]
    assert recorded[4] <= story["restated"]
    assert [entry["version"] for entry in history] == [2, 3, 4, 5, 6]
    assert "Trustledger-As-At" not in response.headers


def test_a_periods_history_as_at_an_instant_ends_where_the_ledger_then_stood(
    world: World,
) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]

    response = world.commissioner.return_history(cid, REREFERRALS, YEAR, story["answered"])

    history = body(response)["history"]
    assert [entry["kind"] for entry in history] == ["submitted", "queried", "answered"]
    assert int(response.headers["Trustledger-Position"]) == story["answered position"]
    refused(
        world.commissioner.return_history(cid, REREFERRALS, YEAR, story["signed"]), 404, "not-found"
    )


def test_the_history_of_a_period_with_no_return_is_not_found(world: World) -> None:
    story = a_story(world)

    response = world.commissioner.return_history(story["contract"]["id"], REREFERRALS, "2023-24")

    refused(response, 404, "not-found")


def test_the_history_of_a_period_that_is_no_period_is_invalid(world: World) -> None:
    story = a_story(world)

    response = world.commissioner.return_history(story["contract"]["id"], REREFERRALS, "2024-26")

    refused(response, 422, "invalid-period")


def test_the_history_of_a_kpi_not_on_the_schedule_is_refused(world: World) -> None:
    story = a_story(world)

    response = world.commissioner.return_history(story["contract"]["id"], STABILITY, YEAR)

    refused(response, 422, "not-on-schedule")


def test_the_history_needs_a_period(world: World) -> None:
    story = a_story(world)

    response = world.commissioner.get(
        f"/contracts/{story['contract']['id']}/kpis/{REREFERRALS}/history"
    )

    refused(response, 422, "invalid-request")


# -- what changed between two instants -------------------------------------------------------------


def test_the_changes_between_two_instants_name_each_event_its_subject_actor_and_reason(
    world: World,
) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]
    # Another contract's events in the same interval are not this contract's changes.
    world.signed()
    notice = succeeded(world.commissioner.issue_notice(cid, **LATE_ASSESSMENTS), 201)
    issued = now()

    response = world.commissioner.changes(cid, story["submitted"], issued)

    found = body(response)
    assert found["contract_id"] == cid
    assert datetime.fromisoformat(found["from"]) == story["submitted"]
    assert datetime.fromisoformat(found["to"]) == issued
    assert found["from_position"] == story["submitted position"]
    assert int(response.headers["Trustledger-Position"]) == found["to_position"]
    assert found["next_after"] is None
    # The return's submission was recorded at or before `from`, so it is not a change after it.
    changes = found["changes"]
    assert [(c["subject"], c["event"]) for c in changes] == [
        ("KPI series", "return queried"),
        ("KPI series", "query answered"),
        ("KPI series", "return accepted"),
        ("KPI series", "return restated"),
        ("performance notice", "issued"),
    ]
    assert [c["position"] for c in changes[:4]] == [
        story[f"{step} position"] for step in ("queried", "answered", "accepted", "restated")
    ]
    restated = changes[3]
    assert (restated["indicator"], restated["period"], restated["reason"]) == (
        REREFERRALS,
        YEAR,
        DUPLICATES,
    )
    assert world.who(restated["actor"]) == "provider"
    assert restated["actor"]["user_id"]
    issue = changes[4]
    assert (issue["subject_id"], issue["indicator"], issue["period"]) == (notice["id"], None, None)
    assert world.who(issue["actor"]) == "commissioner"
    recorded = [datetime.fromisoformat(c["recorded_at"]) for c in changes]
    assert story["submitted"] < recorded[0]
    assert recorded == sorted(recorded)
    assert recorded[-1] <= issued


def test_the_changes_of_a_contracts_whole_life_begin_with_its_draft(world: World) -> None:
    before = now()
    contract = world.signed()
    created = succeeded(world.provider.propose_variation(contract["id"], **FIVE_MILLION_MORE), 201)

    changes = body(world.commissioner.changes(contract["id"], before))["changes"]

    assert [(c["subject"], c["event"], world.who(c["actor"])) for c in changes] == [
        ("contract", "drafted", "commissioner"),
        ("contract", "signed", "commissioner"),
        ("contract", "signed", "provider"),
        ("contract", "variation proposed", "provider"),
    ]
    assert changes[-1]["reason"] == FIVE_MILLION_MORE["rationale"]
    assert [c["version"] for c in changes] == [1, 2, 3, created["contract"]["version"]]


def test_the_changes_come_a_page_at_a_time_and_the_cursor_leads_through_them_all(
    world: World,
) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]
    everything = body(world.commissioner.changes(cid, story["signed"] - timedelta(hours=1)))
    until = everything["to"]

    pages, after = [], None
    while True:
        page = body(
            world.commissioner.changes(
                cid, story["signed"] - timedelta(hours=1), until, limit=2, **_after(after)
            )
        )
        pages.append(page["changes"])
        after = page["next_after"]
        if after is None:
            break

    assert [len(page) for page in pages[:-1]] == [2] * (len(pages) - 1)
    assert [c for page in pages for c in page] == everything["changes"]
    # Drafted, A1 scheduled and two signatures; A1's series started with its return, then four.
    assert len(everything["changes"]) == 10


def test_an_interval_that_ends_before_it_starts_is_refused(world: World) -> None:
    story = a_story(world)

    response = world.commissioner.changes(
        story["contract"]["id"], story["restated"], story["submitted"]
    )

    refused(response, 422, "invalid-instant")


def test_the_changes_need_the_instant_they_start_after(world: World) -> None:
    story = a_story(world)

    response = world.commissioner.get(f"/contracts/{story['contract']['id']}/changes")

    refused(response, 422, "invalid-request")


# -- instants that are not instants ------------------------------------------------------------


@pytest.mark.parametrize("read", READS_AS_AT)
@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("2025-03-03", "a date alone"),
        ("2025-03-03T17:00:00", "a local time"),
        ("3 March 2025", "not an ISO 8601 instant"),
        # An unencoded "+" in a query string arrives as a space.
        ("2025-03-03T17:00:00 01:00", "%2B"),
        ("2999-01-01T00:00:00Z", "still to come"),
    ],
)
def test_an_as_at_that_is_not_a_past_instant_with_its_offset_is_refused(
    world: World, read: str, written: str, says: str
) -> None:
    story = a_story(world) if read == "return history" else {"contract": world.signed()}

    response = READS_AS_AT[read](world.commissioner, story["contract"]["id"], written)

    problem = refused(response, 422, "invalid-instant")
    assert says in problem["detail"]


# -- who may travel in time ------------------------------------------------------------------------


@pytest.mark.parametrize("read", READS_AS_AT)
@pytest.mark.parametrize(("who", "status"), NOT_A_READER)
def test_only_readers_of_a_contract_may_read_it_at_an_instant(
    world: World, read: str, who: str, status: int
) -> None:
    story = a_story(world)

    response = READS_AS_AT[read](world.person(who), story["contract"]["id"], story["accepted"])

    denied(response, status)


@pytest.mark.parametrize(("who", "status"), NOT_A_READER)
def test_only_readers_of_a_contract_may_read_a_periods_history(
    world: World, who: str, status: int
) -> None:
    story = a_story(world)

    denied(world.person(who).return_history(story["contract"]["id"], REREFERRALS, YEAR), status)


@pytest.mark.parametrize("who", ["other_commissioner", "auditor"])
def test_a_stranger_asking_before_a_contract_existed_is_refused_not_told_it_did_not(
    world: World, who: str
) -> None:
    before = now()
    contract = world.draft()

    denied(world.person(who).contract_as_at(contract["id"], before), 403)
    denied(world.person(who).kpi_summary_as_at(contract["id"], before), 403)


@pytest.mark.parametrize("read", READS_AS_AT)
def test_an_auditor_granted_a_contract_now_reads_it_at_any_instant_before(
    world: World, read: str
) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]
    auditor = granted(world, cid)

    seen = [
        body(READS_AS_AT[read](reader, cid, story["accepted"]))
        for reader in (world.commissioner, world.provider, world.admin, auditor)
    ]

    # The same for every reader, but for "changes from", which run up to now.
    assert all(_before_now(found) == _before_now(seen[0]) for found in seen)


def test_an_auditor_who_reads_at_any_instant_still_writes_nothing(world: World) -> None:
    story = a_story(world)
    cid = story["contract"]["id"]
    auditor = granted(world, cid)
    assert body(auditor.kpi_series_as_at(cid, REREFERRALS, story["submitted"]))

    denied(
        auditor.restate_return(cid, REREFERRALS, YEAR, value="21.0", reason="the auditor thinks"),
        403,
    )
    assert body(world.commissioner.changes(cid, story["restated"]))["changes"] == []


def _after(cursor: int | None) -> dict[str, int]:
    return {} if cursor is None else {"after": cursor}


def _before_now(found: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in found.items() if name != "to"}
