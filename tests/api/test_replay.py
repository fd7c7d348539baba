"""Record, then replay: a contract's life is driven over HTTP, and after every step the instant
and what the API then answered (the contract, the KPI summary, each KPI's series) are recorded.
Then every recorded instant is asked again with `as_at`: the ledger must answer exactly as it
did at the time, body, status and ETag, on both stores.

The story is Sandwell's re-referrals (A1, annual) and children in care's placement stability
(B2, annual) from the KPI specs, with a quarterly KPI added by variation; the figures beyond
Sandwell's published 2024-25 re-referrals are illustrative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.api.conftest import World, succeeded
from tests.api.test_kpis import (
    A1,
    ASSESSMENTS,
    B2,
    B7,
    DUPLICATES,
    REREFERRALS,
    SANDWELL_2024_25,
    STABILITY,
    YEAR,
)

CODES = (REREFERRALS, STABILITY, ASSESSMENTS)


@dataclass(frozen=True)
class Answer:
    """What one read answered: enough to tell any difference a client could see."""

    status: int
    etag: str | None
    body: Any

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        body = response.json()
        if response.status_code != 200:
            # A problem names the request it answers; what it says of the ledger is the rest.
            body = {name: body[name] for name in ("type", "title", "status", "detail")}
        return cls(response.status_code, response.headers.get("ETag"), body)


@dataclass(frozen=True)
class Recorded:
    step: str
    instant: datetime
    position: int
    reads: dict[str, Answer]


class Recorder:
    """Drives the story and records, after each step, the instant and every read's answer."""

    def __init__(self, world: World, contract_id: str) -> None:
        self.world = world
        self.contract_id = contract_id
        self.steps: list[Recorded] = []

    def step(self, name: str, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        written = succeeded(response, status)
        reads = self.now()
        self.steps.append(
            Recorded(
                name,
                datetime.now(UTC),
                int(response.headers["Trustledger-Position"]),
                reads,
            )
        )
        return written

    def now(self) -> dict[str, Answer]:
        reader, cid = self.world.commissioner, self.contract_id
        reads = {
            "contract": Answer.of(reader.contract(cid)),
            "KPI summary": Answer.of(reader.kpi_summary(cid)),
        }
        for code in CODES:
            reads[f"series {code}"] = Answer.of(reader.kpi_series(cid, code))
        return reads

    def as_at(self, instant: datetime) -> dict[str, Answer]:
        # An auditor granted the contract reads it back, as the issue's auditor would.
        reader, cid = self.world.auditor, self.contract_id
        reads = {
            "contract": Answer.of(reader.contract_as_at(cid, instant)),
            "KPI summary": Answer.of(reader.kpi_summary_as_at(cid, instant)),
        }
        for code in CODES:
            reads[f"series {code}"] = Answer.of(reader.kpi_series_as_at(cid, code, instant))
        return reads


def the_story(world: World) -> Recorder:
    commissioner, provider = world.commissioner, world.provider
    draft = world.draft()
    cid = draft["id"]
    story = Recorder(world, cid)
    story.step("A1 scheduled", commissioner.schedule_kpi(cid, REREFERRALS, **A1))
    drafted = story.step("B2 scheduled", commissioner.schedule_kpi(cid, STABILITY, **B2))
    signed = story.step("council signed", commissioner.sign(cid, f'"{drafted["version"]}"'))
    story.step("trust signed", provider.sign(cid, f'"{signed["version"]}"'))

    def on_a1(name: str, write: Callable[..., httpx.Response], *args: Any, **body: Any) -> Any:
        return story.step(name, write(cid, REREFERRALS, YEAR, *args, **body))

    story.step("A1 returned", provider.submit_return(cid, REREFERRALS, **SANDWELL_2024_25), 201)
    stability: dict[str, Any] = {
        "period": YEAR,
        "value": "68",
        "numerator": 187,
        "denominator": 275,
    }
    story.step("B2 returned", provider.submit_return(cid, STABILITY, **stability), 201)
    raised = story.step(
        "A1 queried",
        commissioner.query_return(cid, REREFERRALS, YEAR, "Why did re-referrals rise?"),
        201,
    )
    on_a1("A1 answered", provider.answer_query, raised["id"], "Contacts were counted twice")
    on_a1("A1 accepted", commissioner.accept_return)
    on_a1(
        "A1 restated",
        provider.restate_return,
        value="20.9",
        numerator=778,
        denominator=3723,
        reason=DUPLICATES,
    )
    created = story.step(
        "variation proposed",
        commissioner.propose_variation(
            cid,
            changes={
                "kpis": [
                    {"indicator_code": ASSESSMENTS, **B7},
                    {"indicator_code": REREFERRALS, **A1, "targets": {YEAR: "22.0"}},
                ],
                "contract_sums": {"2019-20": 6_300_000_000},
            },
            rationale="Assessments drifting: monitor them quarterly; re-referral target eased",
        ),
        201,
    )
    story.step(
        "variation agreed",
        provider.agree_variation(cid, created["id"], f'"{created["contract"]["version"]}"'),
    )
    story.step(
        "B7 returned",
        provider.submit_return(
            cid, ASSESSMENTS, period="2024-25 Q1", value="86.3", numerator=1312, denominator=1520
        ),
        201,
    )
    on_a1(
        "A1 restated again",
        provider.restate_return,
        value="21.1",
        numerator=786,
        denominator=3723,
        reason="Twenty-two closures were reopened on review",
    )
    story.step("A1 accepted again", commissioner.accept_return(cid, REREFERRALS, YEAR))
    notice = story.step(
        "notice issued",
        commissioner.issue_notice(
            cid,
            grounds="Placement stability below target for two years",
            kpi_codes=[STABILITY],
            clauses=["7.2"],
            remedy="A placement sufficiency plan",
            issued_on="2025-05-02",
            response_due="2025-05-30",
        ),
        201,
    )
    story.step(
        "remedial plan submitted",
        provider.submit_remedial_plan(
            notice["id"],
            summary="More in-house foster carers",
            actions=[{"description": "Recruit twenty foster carers", "due": "2025-12-31"}],
        ),
    )
    return story


def test_every_read_as_at_a_recorded_instant_answers_as_the_api_did_then(world: World) -> None:
    story = the_story(world)
    assert world.admin.grant(world.auditor_id, story.contract_id).status_code == 200
    # Every step but the notice's changed what the reads say: the replay is no tautology.
    unchanged = [
        after.step
        for before, after in zip(story.steps, story.steps[1:], strict=False)
        if before.reads == after.reads
    ]
    assert unchanged == ["notice issued", "remedial plan submitted"]

    for recorded in story.steps:
        replayed = story.as_at(recorded.instant)

        for read, then in recorded.reads.items():
            assert replayed[read] == then, f"{read} as at {recorded.step}"


def test_each_recorded_instant_is_read_at_the_log_position_of_its_step(world: World) -> None:
    story = the_story(world)

    for recorded in story.steps:
        response = world.commissioner.contract_as_at(story.contract_id, recorded.instant)
        assert int(response.headers["Trustledger-Position"]) == recorded.position, recorded.step


def test_the_changes_between_two_recorded_instants_are_the_step_between_them(
    world: World,
) -> None:
    story = the_story(world)

    for before, after in zip(story.steps, story.steps[1:], strict=False):
        response = world.commissioner.changes(story.contract_id, before.instant, after.instant)
        assert response.status_code == 200, response.text
        changes = response.json()["changes"]
        assert changes, after.step
        assert changes[-1]["position"] == after.position, after.step
        assert all(before.position < change["position"] for change in changes), after.step
