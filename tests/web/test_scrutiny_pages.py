"""The auditor's pages over HTTP, on both stores: the activity feed, the contract as the ledger
stood at the end of a day, the changes between two days, and the audit log with its "Verify".

A day typed into a page is a day of recorded time, and everything a spec writes is recorded
today. So the spec that needs a past day has the ledger record its first events on 11 April
2025: it moves the recorded time of the leaves written so far back to that day, as an insider
with the database's password could (recorded time is not part of a leaf's hash, and the times
still rise with the log). That is how the time is passed in; nothing else about the ledger
changes.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
import pytest

from api.web import audit_log, scrutiny
from tests.api.client import Client
from tests.api.conftest import World, succeeded
from tests.api.test_kpis import A1, REREFERRALS, SANDWELL_2024_25, YEAR
from tests.tampering import rewrite_leaf_hash
from tests.web.browser import Browser, form_fields, is_page

pytestmark = pytest.mark.usefixtures("workers")

SANDWELL_COMMISSIONER = "commissioner@sandwell.test"
SANDWELL_PROVIDER = "provider@sandwell-trust.test"
BIRMINGHAM_COMMISSIONER = "commissioner@birmingham.test"
AUDITOR = "auditor@dfe.test"
# The day the ledger is made to have recorded the story's first events, at midday UK time.
RECORDED_ON = datetime(2025, 4, 11, 11, 0, tzinfo=UTC)
RE_REFERRALS = "A1 Re-referrals within 12 months"  # the KPI as the contract schedules it
# What the story records of the contract: drafted, a KPI scheduled, signed by each party, the
# KPI's series started, a return submitted.
EVENTS = 6
DUPLICATES = "Duplicate referrals from the new front door were counted twice"


# -- addresses ------------------------------------------------------------------------------------


def activity(contract_id: str, page: int | None = None) -> str:
    return f"/contracts/{contract_id}/activity" + ("" if page is None else f"?page={page}")


def as_at(contract_id: str, day: str, month: str, year: str) -> str:
    query = urlencode({"as-at-day": day, "as-at-month": month, "as-at-year": year})
    return f"/contracts/{contract_id}?{query}"


def changes(contract_id: str, start: tuple[str, str, str], end: tuple[str, str, str]) -> str:
    parts = ("day", "month", "year")
    fields = {f"from-{part}": value for part, value in zip(parts, start, strict=True)}
    fields |= {f"to-{part}": value for part, value in zip(parts, end, strict=True)}
    return f"/contracts/{contract_id}/changes?{urlencode(fields)}"


AUDIT_LOG = "/audit-log"
VERIFY = "/audit-log/verify"


# -- the story ------------------------------------------------------------------------------------


def sandwell_with_a_return(world: World) -> dict[str, Any]:
    """Sandwell's contract, signed, with re-referrals scheduled and 2024-25's 22.7% returned,
    granted to the auditor and taken in by the views."""
    drafted = world.draft(title="Sandwell's contract under audit")
    drafted = succeeded(world.commissioner.schedule_kpi(drafted["id"], REREFERRALS, **A1))
    contract = world.signed_by_both(drafted)
    response = world.provider.submit_return(contract["id"], REREFERRALS, **SANDWELL_2024_25)
    succeeded(response, 201)
    assert world.admin.grant(world.auditor_id, contract["id"]).status_code == 200
    _views_reach(world, contract["id"], response)
    return contract


def _views_reach(world: World, contract_id: str, response: httpx.Response) -> None:
    position = response.headers["Trustledger-Position"]
    for read in (
        world.admin.portfolio(min_position=position),
        world.admin.activity(contract_id, min_position=position),
    ):
        assert read.status_code == 200, read.text


@contextmanager
def the_store(world: World) -> Iterator[Any]:
    """A connection to the world's tables behind the service's back, committed on leaving;
    its `execute` takes `?` placeholders on both stores."""
    settings = world.settings
    if settings.is_postgres:
        assert settings.database_url is not None
        with psycopg.connect(settings.database_url, autocommit=True) as pg:
            pg.execute(f'SET search_path TO "{settings.database_schema}"')
            yield _Placeholders(pg)
        return
    with closing(sqlite3.connect(settings.var_dir / "trustledger.sqlite3")) as lite, lite:
        yield lite


class _Placeholders:
    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.connection.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]


def recorded_on_11_april_2025(world: World) -> None:
    """Make the ledger have recorded every event so far at midday on 11 April 2025."""
    value: Any = RECORDED_ON
    if not world.settings.is_postgres:
        value = RECORDED_ON.isoformat(timespec="microseconds")
    with the_store(world) as store:
        store.execute("UPDATE audit_batches SET recorded_at = ?", (value,))


@pytest.fixture(scope="module")
def restated(world: World, workers: None) -> dict[str, Any]:
    return restated_since_april_2025(world)


def restated_since_april_2025(world: World) -> dict[str, Any]:
    """Sandwell's 22.7%, recorded on 11 April 2025; then, today, restated to 20.9% with a
    reason."""
    contract = sandwell_with_a_return(world)
    recorded_on_11_april_2025(world)
    response = world.provider.restate_return(
        contract["id"],
        REREFERRALS,
        YEAR,
        value="20.9",
        numerator=778,
        denominator=3723,
        reason=DUPLICATES,
    )
    assert response.status_code == 200, response.text
    _views_reach(world, contract["id"], response)
    return contract


def rows_of(html: str) -> list[str]:
    """The text of each body row of the page's first table, tags taken out."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', html, re.S)
    assert body is not None, "the page has no table"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def error_summary(html: str) -> list[tuple[str, str]]:
    """(link, message) for each entry of the page's GOV.UK error summary."""
    summary = re.search(r'class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary is not None, "the page has no error summary"
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary.group(0))


def banner(html: str) -> str:
    found = re.search(r'<div class="govuk-notification-banner[^"]*".*?</div>\s*</div>', html, re.S)
    assert found is not None, "the page has no notification banner"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))).strip()


# -- the activity feed ----------------------------------------------------------------------------


def test_the_activity_feed_says_who_did_what_and_when_newest_first(world: World) -> None:
    contract = sandwell_with_a_return(world)

    page = Browser.signed_in(world.url, AUDITOR).visit(activity(contract["id"]))

    assert page.status_code == 200
    is_page(page, "Activity: Sandwell&#39;s contract under audit")
    rows = rows_of(page.text)
    assert len(rows) == EVENTS
    newest, *_, oldest = rows
    assert "Return submitted" in newest
    assert f"{RE_REFERRALS} 2024-25" in newest  # about which KPI and period
    assert SANDWELL_PROVIDER in newest  # the person, by the name their account gives
    assert "Trust, Sandwell Children&#39;s Trust" in newest  # their role and organisation
    assert "Contract drafted" in oldest
    assert "Commissioner, Sandwell Metropolitan Borough Council" in oldest
    # When, in UK time to the second.
    assert re.search(r"\d{2}:\d{2}:\d{2} on \d{1,2} \w+ \d{4}", newest)


def test_the_activity_feed_is_paged_with_gov_uk_pagination(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = sandwell_with_a_return(world)
    monkeypatch.setattr(scrutiny, "ACTIVITY_PAGE_SIZE", 2)
    reader = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)

    second = reader.visit(activity(contract["id"], page=2))
    beyond = reader.visit(activity(contract["id"], page=4))

    is_page(second, "Activity: Sandwell&#39;s contract under audit (page 2 of 3)")
    assert len(rows_of(second.text)) == 2
    assert '<nav class="govuk-pagination" aria-label="Pagination">' in second.text
    assert f'href="{activity(contract["id"], page=1)}" rel="prev"' in second.text
    assert f'href="{activity(contract["id"], page=3)}" rel="next"' in second.text
    assert 'aria-current="page">2</a>' in second.text
    assert beyond.status_code == 404


# -- the contract as at the end of a day ----------------------------------------------------------


def test_the_dashboard_as_at_a_past_date_shows_the_earlier_value_and_says_when(
    world: World, restated: dict[str, Any]
) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)

    then = reader.visit(as_at(restated["id"], "11", "4", "2025"))
    now = reader.visit(f"/contracts/{restated['id']}")

    assert then.status_code == 200
    is_page(then, "Sandwell&#39;s contract under audit: Sandwell Children&#39;s Trust")
    assert (
        "You are looking at the contract as the ledger stood at 23:59:59 on 11 April 2025, "
        "UK time" in banner(then.text)
    )
    assert f'href="/contracts/{restated["id"]}">See the contract as it stands now' in then.text
    assert "22.7%" in then.text
    assert "20.9%" not in then.text
    # The date stays in the fields, to be changed.
    assert 'id="as-at-day" name="as-at-day" type="text" inputmode="numeric" value="11"' in then.text
    # As it stands: the restated value, and no banner claiming another instant.
    assert "20.9%" in now.text
    assert "You are looking at the contract as the ledger stood" not in now.text


def test_the_day_before_the_first_event_is_refused_with_the_instant_named(
    world: World, restated: dict[str, Any]
) -> None:
    page = Browser.signed_in(world.url, AUDITOR).visit(as_at(restated["id"], "10", "4", "2025"))

    assert page.status_code == 400
    is_page(page, "Error: Sandwell&#39;s contract under audit: Sandwell Children&#39;s Trust")
    assert error_summary(page.text) == [
        (
            "as-at-day",
            "The ledger held no record of this contract at 23:59:59 on 10 April 2025, UK time: "
            "enter a later date",
        )
    ]


@pytest.mark.parametrize(
    ("day", "month", "year", "link", "message"),
    [
        ("31", "2", "2022", "as-at-day", "The date must be a real date"),
        ("1", "", "2022", "as-at-month", "The date must include a month"),
        ("1", "3", "22", "as-at-year", "Year must include 4 numbers"),
        ("1", "1", "2999", "as-at-day", "The date must be today or in the past"),
        ("x", "3", "2022", "as-at-day", "The date must be a real date"),
    ],
)
def test_a_date_that_is_not_one_is_named_in_the_error_summary(
    world: World, day: str, month: str, year: str, link: str, message: str
) -> None:
    contract = sandwell_with_a_return(world)

    page = Browser.signed_in(world.url, AUDITOR).visit(as_at(contract["id"], day, month, year))

    assert page.status_code == 400
    assert error_summary(page.text) == [(link, message)]
    assert '<p id="as-at-error" class="govuk-error-message">' in page.text
    assert "You are looking at the contract as the ledger stood" not in page.text


def test_a_month_may_be_typed_as_its_name(world: World, restated: dict[str, Any]) -> None:
    page = Browser.signed_in(world.url, AUDITOR).visit(as_at(restated["id"], "11", "April", "2025"))

    assert page.status_code == 200
    assert "23:59:59 on 11 April 2025, UK time" in banner(page.text)


# -- the changes between two days -----------------------------------------------------------------


def test_the_changes_between_two_dates_list_what_who_when_and_why(
    world: World, restated: dict[str, Any]
) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)
    today = datetime.now(UTC)
    day = (str(today.day), str(today.month), str(today.year))

    in_april_2025 = reader.visit(changes(restated["id"], ("1", "4", "2025"), ("11", "4", "2025")))
    today_only = reader.visit(changes(restated["id"], day, day))

    assert in_april_2025.status_code == 200
    is_page(in_april_2025, "Changes: Sandwell&#39;s contract under audit")
    assert (
        "Recorded from 00:00:00 on 1 April 2025, UK time to 23:59:59 on 11 April 2025, UK time"
        in in_april_2025.text
    )
    april = rows_of(in_april_2025.text)
    # 11:00 UTC was midday in London: British Summer Time had begun on 30 March.
    assert april[0].startswith("12:00:00 on 11 April 2025")
    whats = " | ".join(april)
    assert "Contract drafted" in whats
    assert "Return submitted" in whats
    assert "Return restated" not in whats
    [restatement] = rows_of(today_only.text)
    assert "Return restated" in restatement
    assert f"{RE_REFERRALS} 2024-25" in restatement
    assert SANDWELL_PROVIDER in restatement
    assert DUPLICATES in restatement
    # Each change leads to the contract as the ledger stood once it was recorded.
    link = re.search(rf'href="(/contracts/{restated["id"]}\?as_at=[^"]+)"', today_only.text)
    assert link is not None
    after_it = reader.visit(link.group(1))
    assert "You are looking at the contract as the ledger stood at" in banner(after_it.text)
    assert "20.9%" in after_it.text


def test_the_changes_page_first_asks_for_the_dates_with_today_as_the_end(world: World) -> None:
    contract = sandwell_with_a_return(world)
    today = datetime.now(UTC)

    page = Browser.signed_in(world.url, AUDITOR).visit(f"/contracts/{contract['id']}/changes")

    assert page.status_code == 200
    assert f'name="to-year" type="text" inputmode="numeric" value="{today.year}"' in page.text
    assert "<table" not in page.text


def test_a_start_after_the_end_is_refused(world: World) -> None:
    contract = sandwell_with_a_return(world)

    page = Browser.signed_in(world.url, AUDITOR).visit(
        changes(contract["id"], ("2", "3", "2022"), ("1", "3", "2022"))
    )

    assert page.status_code == 400
    assert error_summary(page.text) == [
        ("from-day", "The start date must be the same as or before the end date")
    ]


# -- the audit log --------------------------------------------------------------------------------


def summary_value(html: str, key: str) -> str:
    found = re.search(
        rf'<dt class="govuk-summary-list__key">{key}</dt>\s*<dd[^>]*>(.*?)</dd>', html, re.S
    )
    assert found is not None, f"no {key} in the summary list"
    return re.sub(r"<[^>]+>", " ", found.group(1)).split()[0]


def test_the_audit_log_shows_the_latest_signed_checkpoint_and_those_before(
    world: World,
) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)
    first = reader.visit(AUDIT_LOG)
    sandwell_with_a_return(world)

    page = reader.visit(AUDIT_LOG)

    assert page.status_code == 200
    is_page(page, "Audit log")
    latest = world.auditor.checkpoint().json()
    assert summary_value(page.text, "Tree size") == f"{latest['tree_size']:,}"
    assert summary_value(page.text, "Root hash") == latest["root_hash"]
    assert summary_value(page.text, "Origin") == latest["checkpoint"].split("\n")[0]
    key = world.auditor.public_key().text.strip()
    assert summary_value(page.text, "Key") == "+".join(key.split("+")[:2])
    # The checkpoint the first visit signed is among those before it.
    assert summary_value(first.text, "Root hash") in " ".join(rows_of(page.text))


def verify(reader: Browser, leaf: str = "") -> httpx.Response:
    fields = form_fields(reader.visit(AUDIT_LOG).text)
    return reader.post(VERIFY, {**fields, "leaf": leaf})


def test_verify_checks_the_signature_the_consistency_proof_and_a_leaf(world: World) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)
    reader.visit(AUDIT_LOG)  # signs a checkpoint of the log as it stands
    sandwell_with_a_return(world)  # the log grows

    result = verify(reader, leaf="3")

    assert result.status_code == 200
    said = banner(result.text)
    assert said.startswith("Success The audit log verified")
    size = world.auditor.checkpoint().json()["tree_size"]
    assert f"Signature: passed. The checkpoint of {size} leaves with root" in said
    assert re.search(rf"Consistency: passed\. The tree of {size} leaves .* extends the tree", said)
    assert "Leaf 3: passed. The event at log position" in said


def test_earlier_checkpoints_are_paged_largest_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)
    for _ in range(3):  # each visit after a write signs a checkpoint of the grown log
        world.draft(title="A contract that grows the log")
        reader.visit(AUDIT_LOG)
    monkeypatch.setattr(audit_log, "CHECKPOINTS_PAGE_SIZE", 1)
    sizes = [c["tree_size"] for c in world.auditor.checkpoints(limit=3).json()["checkpoints"]]

    first = reader.visit(AUDIT_LOG)
    older = reader.visit(f"{AUDIT_LOG}?before={sizes[1]}")

    assert [row.split()[0] for row in rows_of(first.text)] == [f"{sizes[1]:,}"]
    assert f'href="{AUDIT_LOG}?before={sizes[1]}" rel="next"' in first.text
    assert [row.split()[0] for row in rows_of(older.text)] == [f"{sizes[2]:,}"]
    assert f'href="{AUDIT_LOG}" rel="prev"' in older.text


def test_verify_is_refused_without_the_forms_csrf_token(world: World) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)

    refused = reader.post(VERIFY, {"leaf": ""})

    assert refused.status_code == 403
    is_page(refused, "You do not have permission to see this page")
    assert "verified" not in refused.text


def test_a_leaf_number_outside_the_log_is_named_in_the_error_summary(world: World) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)
    size = world.auditor.checkpoint().json()["tree_size"]

    result = verify(reader, leaf="99999999999999999999999")

    assert result.status_code == 400
    assert error_summary(result.text) == [
        ("leaf", f"Leaf number must be a whole number from 0 to {size - 1}")
    ]


def test_verify_fails_when_the_stored_checkpoint_was_rewritten(world: World) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)
    latest = world.auditor.checkpoint().json()
    size, note = latest["tree_size"], latest["checkpoint"]
    forged = note.replace(latest["root_hash"], "A" * 43 + "=")
    with the_store(world) as store:
        store.execute("UPDATE audit_checkpoints SET note = ? WHERE tree_size = ?", (forged, size))
    try:
        result = verify(reader)
    finally:
        with the_store(world) as store:
            store.execute("UPDATE audit_checkpoints SET note = ? WHERE tree_size = ?", (note, size))

    said = banner(result.text)
    assert said.startswith("Warning The audit log did not verify")
    assert f"Signature: failed. The checkpoint stored for {size} leaves" in said
    assert "does not verify" in said


def test_verify_fails_when_a_stored_leaf_was_rewritten(world: World) -> None:
    reader = Browser.signed_in(world.url, AUDITOR)
    with the_store(world) as store:
        original = rewrite_leaf_hash(store, 2, bytes(32))
    try:
        result = verify(reader, leaf="2")
    finally:
        with the_store(world) as store:
            rewrite_leaf_hash(store, 2, original)

    said = banner(result.text)
    assert said.startswith("Warning The audit log did not verify")
    assert "Leaf 2: failed. The event stored at log position" in said
    assert "it is not the event that was logged" in said


# -- who may see them -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        lambda cid: activity(cid),
        lambda cid: changes(cid, ("1", "3", "2022"), ("31", "3", "2022")),
        lambda cid: as_at(cid, "1", "1", "2000"),
    ],
    ids=["activity", "changes", "as at"],
)
def test_another_councils_commissioner_gets_the_permission_page(world: World, address: Any) -> None:
    contract = sandwell_with_a_return(world)

    page = Browser.signed_in(world.url, BIRMINGHAM_COMMISSIONER).visit(address(contract["id"]))

    assert page.status_code == 403
    is_page(page, "You do not have permission to see this page")
    assert "Sandwell&#39;s contract under audit" not in page.text


@pytest.mark.parametrize("page_of", ["activity", "changes"])
def test_an_unknown_contract_is_the_not_found_page(world: World, page_of: str) -> None:
    page = Browser.signed_in(world.url, AUDITOR).visit(
        f"/contracts/6c3f43c4-8f4e-4b8a-9f55-c4d1d3d3a001/{page_of}"
    )

    assert page.status_code == 404
    is_page(page, "Page not found")


def test_an_auditor_not_granted_the_contract_gets_the_permission_page(world: World) -> None:
    sandwell_with_a_return(world)
    other = world.draft(title="Not granted to the auditor")

    page = Browser.signed_in(world.url, AUDITOR).visit(activity(other["id"]))

    assert page.status_code == 403


@pytest.mark.parametrize("address", [AUDIT_LOG, "/contracts/{cid}/activity"])
def test_nobody_signed_in_is_sent_to_sign_in(world: World, address: str) -> None:
    contract = sandwell_with_a_return(world)

    response = Browser(world.url).visit(address.format(cid=contract["id"]))

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


def test_the_api_keeps_its_json_for_the_feed_and_the_changes(world: World) -> None:
    contract = sandwell_with_a_return(world)

    feed = world.auditor.activity(contract["id"])
    listed = world.auditor.changes(contract["id"], "2000-01-01T00:00:00Z")
    stranger = Client.signed_in(world.url, BIRMINGHAM_COMMISSIONER).activity(contract["id"])

    assert feed.status_code == 200
    assert feed.json()["total"] == EVENTS
    assert listed.status_code == 200
    assert len(listed.json()["changes"]) == EVENTS
    assert stranger.status_code == 403
    assert stranger.headers["content-type"] == "application/problem+json"
