"""Scale-out: two API processes and two projection workers (`trustledger project`) on one
PostgreSQL. Writes race on one contract and one KPI through both APIs: optimistic concurrency
turns every race into 409 or 412, never a silent overwrite; each view has one active worker at
a time; and once caught up, the dashboards agree with the ledger."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from projections.worker import VIEWS
from tests.api.client import Client
from tests.faults.conftest import Api, Ledger, ProjectionWorkers, eventually

REREFERRALS = "rereferrals_12m"
QUARTERLY: dict[str, Any] = {
    "reference": "A1",
    "frequency": "quarterly",
    "due_working_days": 10,
    "targets": {"2023-24": "21.0", "2024-25": "21.0"},
    "tolerances": {"2023-24": "23.0", "2024-25": "23.0"},
}
QUARTERS = [f"{year} Q{q}" for year in ("2023-24", "2024-25") for q in (1, 2, 3, 4)]
WRITERS_PER_API = 8


def per_thousand(numerator: int) -> dict[str, int]:
    return {"numerator": numerator, "denominator": 1000}


@dataclass
class Scaled:
    apis: list[Api]
    workers: list[ProjectionWorkers]
    # Each person signed in once, with a client on each API: a token is good on both.
    commissioner: list[Client]
    provider: list[Client]
    trust_id: str


def on(client: Client, api: Api) -> Client:
    return Client(api.url, client.http.headers["Authorization"].removeprefix("Bearer "))


@pytest.fixture(scope="module")
def scaled(shared_postgres: Ledger) -> Scaled:
    workers = [shared_postgres.workers("worker-1"), shared_postgres.workers("worker-2")]
    apis = shared_postgres.apis("api-a", "api-b")
    people = shared_postgres.people(apis[0].url)
    return Scaled(
        apis,
        workers,
        [on(people["commissioner"], api) for api in apis],
        [on(people["provider"], api) for api in apis],
        people["trust_id"],
    )


def signed_contract(scaled: Scaled) -> dict[str, Any]:
    """A contract drafted and scheduled through one API, signed by each party through each."""
    council, trust = scaled.commissioner, scaled.provider
    drafted = council[0].draft_contract(
        trust_organisation_id=scaled.trust_id,
        title="Service delivery contract for children's social care",
        term={"starts": "2018-04-01", "ends": "2028-03-31", "extension_options": []},
        scope=["front-door"],
        contract_sums={"2018-19": 5_800_000_000},
    )
    assert drafted.status_code == 201, drafted.text
    contract_id = drafted.json()["id"]
    scheduled = council[1].schedule_kpi(contract_id, REREFERRALS, **QUARTERLY)
    assert scheduled.status_code == 200, scheduled.text
    first = council[0].sign(contract_id, scheduled.headers["ETag"])
    assert first.status_code == 200, first.text
    second = trust[1].sign(contract_id, first.headers["ETag"])
    assert second.status_code == 200, second.text
    return dict(second.json())


def race(attempts: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the attempts at once, each in its own thread, released together."""
    start = threading.Barrier(len(attempts))
    answers: list[httpx.Response | None] = [None] * len(attempts)

    def run(index: int) -> None:
        start.wait()
        answers[index] = attempts[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def test_reports_racing_through_two_apis_on_one_contract_lose_no_update(scaled: Scaled) -> None:
    # Given a live contract, read by the trust through both APIs
    contract = signed_contract(scaled)
    contract_id = contract["id"]

    # When sixteen clients, half on each API, each read the contract and report a financial
    # position against the version they read, over and over
    answers: list[tuple[int, httpx.Response]] = []
    lock = threading.Lock()

    def report(client: Client, forecasts: range) -> Callable[[], httpx.Response]:
        def go() -> httpx.Response:
            for forecast in forecasts:
                read = client.contract(contract_id)
                assert read.status_code == 200, read.text
                response = client.report_financial_position(
                    contract_id,
                    read.headers["ETag"],
                    financial_year="2018-19",
                    period="Q3",
                    forecast_outturn=forecast,
                    commentary=f"forecast {forecast}",
                )
                with lock:
                    answers.append((forecast, response))
            return response

        return go

    clients = [scaled.provider[i % 2] for i in range(2 * WRITERS_PER_API)]
    race(
        [
            report(client, range(6_000_000_000 + 100 * i, 6_000_000_000 + 100 * i + 5))
            for i, client in enumerate(clients)
        ]
    )

    # Then each was either recorded or refused as stale (412) or in conflict (409)
    assert {r.status_code for _, r in answers} <= {200, 409, 412}, [
        r.text for _, r in answers if r.status_code not in (200, 409, 412)
    ]
    recorded = [(f, r) for f, r in answers if r.status_code == 200]
    refused = [r for _, r in answers if r.status_code != 200]
    assert recorded, "no report was recorded"
    assert refused, "no report raced another"
    for response in refused:
        assert response.headers["content-type"] == "application/problem+json"
    # And no two writers were told they made the same version
    versions = [int(r.headers["ETag"].strip('"')) for _, r in recorded]
    assert len(set(versions)) == len(versions)
    # And the ledger holds exactly the reports recorded, each once: none silently overwritten
    final = scaled.commissioner[1].contract(contract_id).json()
    assert final["version"] == contract["version"] + len(recorded)
    assert sorted(p["forecast_outturn"] for p in final["financial_positions"]) == sorted(
        f for f, _ in recorded
    )

    # And once the workers have taken the reports in, each API's dashboard shows the last one
    position = max(int(r.headers["Trustledger-Position"]) for _, r in recorded)
    for commissioner in scaled.commissioner:
        board = caught_up(commissioner, contract_id, position)
        [latest] = board["contract"]["finances"]["latest_positions"]
        assert latest["forecast_outturn"] == final["financial_positions"][-1]["forecast_outturn"]


def test_the_same_return_sent_through_both_apis_lands_once(scaled: Scaled) -> None:
    # Given a live contract with a quarterly KPI
    contract = signed_contract(scaled)

    # When the trust sends each quarter's return through both APIs at once, with different
    # figures
    winners: dict[str, str] = {}
    positions: list[int] = []
    for quarter in QUARTERS:
        a, b = race(
            [
                lambda q=quarter: scaled.provider[0].submit_return(
                    contract["id"], REREFERRALS, period=q, value="20.0", **per_thousand(200)
                ),
                lambda q=quarter: scaled.provider[1].submit_return(
                    contract["id"], REREFERRALS, period=q, value="25.0", **per_thousand(250)
                ),
            ]
        )
        # Then exactly one lands, and the other is refused: the return already exists (409)
        assert sorted([a.status_code, b.status_code]) == [201, 409], (a.text, b.text)
        loser = a if a.status_code == 409 else b
        assert loser.headers["content-type"] == "application/problem+json"
        winners[quarter] = "20.0" if a.status_code == 201 else "25.0"
        positions.append(int((a if a.status_code == 201 else b).headers["Trustledger-Position"]))

    # And the series holds the winner's figure for each quarter, once
    series = scaled.commissioner[0].kpi_series(contract["id"], REREFERRALS)
    assert series.status_code == 200, series.text
    returns = series.json()["returns"]
    assert {period: r["value"] for period, r in returns.items()} == winners
    assert series.json()["version"] == 1 + len(QUARTERS)  # started, then one return each

    # And once the workers have caught up, both APIs' dashboards show the same figures
    position = max(positions)
    for commissioner in scaled.commissioner:
        board = caught_up(commissioner, contract["id"], position)
        [kpi] = board["contract"]["kpis"]
        assert kpi["trend"], "the dashboard shows no trend"
        for point in kpi["trend"]:  # the latest quarters, as many as the trend draws
            assert point["value"] == winners[point["period"]]
        assert kpi["latest"]["period"] == QUARTERS[-1]
        assert kpi["latest"]["value"] == winners[QUARTERS[-1]]


def test_each_view_has_one_active_worker_and_one_standing_by(scaled: Scaled) -> None:
    # Given two `trustledger project` processes, each offering to keep every view
    # Then each view is kept by exactly one of them while the other stands by
    for view in VIEWS:
        eventually(
            lambda v=view: (
                [_says(w, "projection worker active", v) for w in scaled.workers].count(True) == 1
            ),
            f"one worker to be active for {view}",
        )
        standing_by = [_says(w, "projection worker standing by", view) for w in scaled.workers]
        assert standing_by.count(True) == 1
    assert all(worker.alive() for worker in scaled.workers)


def caught_up(client: Client, contract_id: str, position: int) -> dict[str, Any]:
    """The contract's dashboard once the views have reached the position (the API waits)."""
    response = client.dashboard(contract_id, min_position=position)
    assert response.status_code == 200, response.text
    assert response.json()["position"] >= position
    board: dict[str, Any] = response.json()["dashboard"]
    return board


def _says(worker: ProjectionWorkers, event: str, view: str) -> bool:
    """Whether the worker logged this event for this view (its log is JSON lines)."""
    for line in worker.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == event and entry.get("view") == view:
                return True
    return False


def test_32_writers_at_once_on_one_contract_each_land_once_or_are_refused(scaled: Scaled) -> None:
    # Given a live contract, read once by everyone
    contract = signed_contract(scaled)
    read_version = f'"{contract["version"]}"'

    # When 32 clients, half on each API, report at the same instant:
    # those with If-Match all name the version read, the others name none
    def report(index: int) -> Callable[[], httpx.Response]:
        return lambda: scaled.provider[index % 2].report_financial_position(
            contract["id"],
            read_version if index % 4 < 2 else None,
            financial_year="2018-19",
            period="Q3",
            forecast_outturn=7_000_000_000 + index,
            commentary=f"writer {index}",
        )

    attempts = [report(index) for index in range(32)]
    answers = race(attempts)

    # Then each either landed or was refused with 409 or 412 (a stale If-Match)
    assert {a.status_code for a in answers} <= {200, 409, 412}
    landed = [i for i, a in enumerate(answers) if a.status_code == 200]
    with_if_match = [i for i in range(32) if i % 4 < 2]
    assert len(set(landed) & set(with_if_match)) <= 1, "two writers acted on the same version"
    # And what landed is in the ledger once each, and nothing else is
    final = scaled.commissioner[0].contract(contract["id"]).json()
    assert final["version"] == contract["version"] + len(landed)
    assert sorted(p["forecast_outturn"] for p in final["financial_positions"]) == [
        7_000_000_000 + i for i in landed
    ]
    assert len({answers[i].headers["ETag"] for i in landed}) == len(landed)


def test_each_process_of_a_served_api_logs_every_request_as_a_json_line(
    shared_postgres: Ledger,
) -> None:
    # Given the API served by two worker processes, each started afresh by uvicorn
    [api] = shared_postgres.apis("api-two-workers", args=("--workers", "2"))

    # When requests, each on a connection of its own and naming its own id, are sent until
    # both processes have served some
    sent: list[str] = []

    def served_by_both() -> bool:
        request_id = f"{len(sent):032x}"
        response = httpx.get(f"{api.url}/health", headers={"X-Request-ID": request_id})
        assert response.status_code == 200, response.text
        sent.append(request_id)
        return len({entry["pid"] for entry in logged(api).values()}) == 2

    eventually(served_by_both, "requests served by both processes")

    # Then each request is one JSON line of its process's log, with its id and status
    eventually(lambda: set(sent) <= logged(api).keys(), "every request logged")
    assert all(logged(api)[request_id]["status"] == 200 for request_id in sent)
    # And so are the lines of the standard library's loggers: uvicorn's, from each process
    started = [entry for entry in json_lines(api) if entry.get("logger") == "uvicorn.error"]
    assert {"Application startup complete."} <= {entry["event"] for entry in started}
    assert len({entry["pid"] for entry in started}) >= 2


def json_lines(api: Api) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in api.log.read_text(errors="replace").splitlines()
        if line.startswith('{"')
    ]


def logged(api: Api) -> dict[str, dict[str, Any]]:
    """The API's `request` lines for /health, by request id (every other line is ignored)."""
    return {
        entry["request_id"]: entry
        for entry in json_lines(api)
        if entry.get("event") == "request" and entry.get("path") == "/health"
    }
