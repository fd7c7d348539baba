"""The national dataset (api/national.py) loaded in growing steps into one scratch PostgreSQL
schema, with at each size the bulk load's rate, the views' build rate, and the reads users make
through the HTTP API, each beside a raw psycopg read of the same rows in the same run.

    python -m bench.national [--fractions 0.1,0.25,0.5,1] [--years 10] [--reads 100]
                             [--as-at-reads 10]

PostgreSQL comes from TRUSTLEDGER_DATABASE_URL or TRUSTLEDGER_TEST_DATABASE_URL. Each step adds
the councils the next fraction holds beyond the last (a larger fraction holds every council of a
smaller one, each with the same history), so the whole run loads the country once; a step's load
rate beside the first step's says whether the cost per event grows with the ledger.

The reads go through `trustledger serve` in a process of its own, with keys of its own under a
scratch directory, each timed from request to the body read:
- a commissioner's dashboard of their contract (GET /contracts/{id}/dashboard), against a raw
  SELECT of the contract's stored row and its authority's Ofsted row;
- the portfolio (GET /portfolio) of that commissioner (one contract) and of an admin (every
  contract loaded), against a raw SELECT of the same portfolio rows;
- the dashboard as at an instant (?as_at=), an instant at which the ledger had recorded a random
  part of the contract's history (the commit time of one of its transactions), against a raw
  SELECT of the stored events of the contract's aggregates up to that instant's position (what
  any replay must at least read). Each replays up to a contract's ~11,000 events, so only 10 are
  taken per size by default (their p99 is then their slowest) to keep `make bench` within its
  time.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg

from api.directory import add_admin, ensure_account
from api.national import (
    Loaded,
    NationalPlan,
    build_views,
    council_name,
    load_history,
    load_public_record,
)
from api.settings import Settings
from bench.replay import scratch_store
from bench.results import Result, report
from domain.actor import Role
from domain.application import Trustledger
from domain.organisation import Organisation
from domain.service_contract import ServiceContract

PASSWORD = "bench-national-password"  # noqa: S105 - a scratch schema's accounts, dropped after
ADMIN = "admin@bench.national.test"
COMMISSIONER = "commissioner@bench.national.test"
DASHBOARD_TARGET_MS = 50.0
AS_AT_TARGET_MS = 250.0


@dataclass(frozen=True)
class Timings:
    p50: float
    p99: float


def timed(read: Callable[[], Any], count: int) -> Timings:
    """p50 and p99 of `count` reads, after one untimed read: a served process is warm."""
    read()
    took = []
    for _ in range(count):
        started = time.perf_counter()
        read()
        took.append((time.perf_counter() - started) * 1000)
    quantiles = statistics.quantiles(took, n=100, method="inclusive")
    return Timings(quantiles[49], quantiles[98])


@contextmanager
def served(settings: Settings, var_dir: Path) -> Iterator[str]:
    """`trustledger serve` on a free port, in a process of its own, until left."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "TRUSTLEDGER_DATABASE_URL": settings.database_url or "",
        "TRUSTLEDGER_DATABASE_SCHEMA": settings.database_schema or "",
        "TRUSTLEDGER_VAR_DIR": str(var_dir),
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/docs", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("trustledger serve did not start") from None
                time.sleep(0.05)  # between asking whether the port answers yet
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def signed_in(base: str, email: str) -> httpx.Client:
    answer = httpx.post(
        f"{base}/auth/token", data={"username": email, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    token = answer.json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600)


def read_ok(client: httpx.Client, path: str, **params: str) -> Callable[[], Any]:
    def read() -> Any:
        answer = client.get(path, params=params)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {answer.status_code} {answer.text[:300]}")
        return answer.content

    return read


class RawReads:
    """The same rows read straight from PostgreSQL: the floor under each API read."""

    def __init__(self, settings: Settings, ledger: Trustledger) -> None:
        assert settings.database_url is not None
        self.connection = psycopg.connect(settings.database_url, autocommit=True)
        self.connection.execute(f'SET search_path TO "{settings.database_schema}"')
        self.events = ledger.recorder.events_table_name  # type: ignore[attr-defined]

    def dashboard(self, contract_id: UUID) -> Callable[[], Any]:
        return lambda: self.connection.execute(
            "SELECT c.dashboard, a.ofsted FROM dashboard_contracts c LEFT JOIN "
            "dashboard_authorities a ON a.ons_code = c.ons_code WHERE c.contract_id = %s",
            (str(contract_id),),
        ).fetchall()

    def portfolio(self, contract_ids: list[UUID] | None) -> Callable[[], Any]:
        statement = (
            "SELECT c.portfolio, a.latest_grade FROM dashboard_contracts c "
            "LEFT JOIN dashboard_authorities a ON a.ons_code = c.ons_code"
        )
        if contract_ids is None:
            return lambda: self.connection.execute(statement).fetchall()
        ids = [str(i) for i in contract_ids]
        return lambda: self.connection.execute(
            statement + " WHERE c.contract_id = ANY(%s)", (ids,)
        ).fetchall()

    def members(self, contract_id: UUID, ons_code: str) -> list[UUID]:
        rows = self.connection.execute(
            "SELECT aggregate_id FROM dashboard_members WHERE owner = ANY(%s)",
            ([str(contract_id), ons_code],),
        ).fetchall()
        return [UUID(row[0]) for row in rows]

    def events_up_to(self, members: list[UUID], positions: list[int]) -> Callable[[], Any]:
        rng = random.Random(3)  # noqa: S311 - repeatable choices, not a secret

        def read() -> Any:
            return self.connection.execute(
                f"SELECT state FROM {self.events} "  # noqa: S608 - the library's table name
                "WHERE originator_id = ANY(%s) AND notification_id <= %s",
                (members, rng.choice(positions)),
            ).fetchall()

        return read

    def instants(self, contract_id: UUID) -> list[datetime]:
        """When each of the transactions that wrote the contract's events was recorded."""
        rows = self.connection.execute(
            f"SELECT DISTINCT b.recorded_at FROM {self.events} e "  # noqa: S608
            "CROSS JOIN LATERAL (SELECT recorded_at FROM audit_batches "
            "WHERE last_notification >= e.notification_id ORDER BY last_notification LIMIT 1) b "
            "WHERE e.originator_id = %s ORDER BY 1",
            (contract_id,),
        ).fetchall()
        return [row[0] for row in rows]


def contract_of(ledger: Trustledger, organisation_id: UUID) -> ServiceContract:
    for notification in ledger.notifications(ServiceContract.Drafted):
        contract = ledger.get(UUID(str(notification.originator_id)), ServiceContract)
        if contract.council.organisation_id == str(organisation_id):
            return contract
    raise LookupError(f"no contract of {organisation_id}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fractions", default="0.1,0.25,0.5,1")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--as-at-reads", type=int, default=10)
    args = parser.parse_args()
    fractions = [float(f) for f in args.fractions.split(",")]
    results: list[Result] = []
    sizes: list[tuple[str, int, Loaded, Loaded]] = []
    with scratch_store("postgres") as settings, tempfile.TemporaryDirectory() as var:
        env = settings.ledger_env()
        ledger = Trustledger(env)
        try:
            public = load_public_record(ledger)
            print(f"public record: {public.events} events in {public.seconds:.1f} s", flush=True)
            add_admin(ledger, ADMIN, "Bench admin", PASSWORD)
            previous: NationalPlan | None = None
            with served(settings, Path(var)) as base:
                for fraction in fractions:
                    plan = NationalPlan.of(fraction, years=args.years)
                    loaded = load_history(
                        ledger, plan if previous is None else plan.beyond(previous)
                    )
                    views = build_views(ledger, env)
                    if previous is None:
                        first = plan.authorities[0]
                        council = Organisation.id_for(council_name(first))
                        ensure_account(
                            ledger,
                            COMMISSIONER,
                            "Bench commissioner",
                            council,
                            Role.COMMISSIONER,
                            PASSWORD,
                        )
                        contract = contract_of(ledger, council)
                    previous = plan
                    label = f"national {fraction * 100:g}% ({len(plan.authorities)} councils)"
                    head = ledger.recorder.max_notification_id() or 0
                    sizes.append((label, head, loaded, views))
                    print(
                        f"{label}: {head} events in the ledger; loaded {loaded.events} "
                        f"in {loaded.seconds:.1f} s ({loaded.rate:,.0f}/s); views took in "
                        f"{views.events} in {views.seconds:.1f} s ({views.rate:,.0f}/s)",
                        flush=True,
                    )
                    results += reads(
                        label, ledger, settings, base, contract, len(plan.authorities), args
                    )
        finally:
            ledger.close()
    label, head, _, _ = sizes[-1]
    load_seconds = sum(loaded.seconds for _, _, loaded, _ in sizes) + public.seconds
    view_seconds = sum(views.seconds for _, _, _, views in sizes)
    print(
        f"{label}, the whole load: {head:,} events recorded in {load_seconds:.0f} s "
        f"(the public record and every step), their views built in {view_seconds:.0f} s",
        flush=True,
    )
    _, _, first_load, first_views = sizes[0]
    for label, _, loaded, views in sizes:
        results.append(
            Result(
                f"{label}: bulk load",
                loaded.rate,
                "events/s",
                "the first step's load",
                first_load.rate,
            )
        )
        results.append(
            Result(
                f"{label}: views built",
                views.rate,
                "events/s",
                "the first step's build",
                first_views.rate,
            )
        )
    report(results)


def reads(
    label: str,
    ledger: Trustledger,
    settings: Settings,
    base: str,
    contract: ServiceContract,
    councils: int,
    args: argparse.Namespace,
) -> list[Result]:
    raw = RawReads(settings, ledger)
    commissioner, admin = signed_in(base, COMMISSIONER), signed_in(base, ADMIN)
    dashboard_path = f"/contracts/{contract.id}/dashboard"
    instants = raw.instants(contract.id)
    positions = [ledger.as_at(instant).position for instant in instants]
    members = raw.members(contract.id, contract.council.ons_code)
    rng = random.Random(11)  # noqa: S311 - repeatable instants, not a secret

    def as_at() -> Any:
        instant = rng.choice(instants).isoformat()
        return read_ok(commissioner, dashboard_path, as_at=instant)()

    measured = {
        "dashboard": (
            timed(read_ok(commissioner, dashboard_path), args.reads),
            "raw SELECT of the row",
            timed(raw.dashboard(contract.id), args.reads),
        ),
        "portfolio, a commissioner's (1 contract)": (
            timed(read_ok(commissioner, "/portfolio"), args.reads),
            "raw SELECT of the row",
            timed(raw.portfolio([contract.id]), args.reads),
        ),
        f"portfolio, an admin's ({councils} contracts)": (
            timed(read_ok(admin, "/portfolio"), max(20, args.reads // 4)),
            f"raw SELECT of {councils} rows",
            timed(raw.portfolio(None), max(20, args.reads // 4)),
        ),
        "dashboard as at an instant": (
            timed(as_at, args.as_at_reads),
            "raw SELECT of its events",
            timed(raw.events_up_to(members, positions), args.as_at_reads),
        ),
    }
    commissioner.close()
    admin.close()
    raw.connection.close()
    results = []
    for read, (over_http, baseline_name, baseline) in measured.items():
        for quantile in ("p50", "p99"):
            results.append(
                Result(
                    f"{label}: {read} over HTTP, {quantile}",
                    getattr(over_http, quantile),
                    "ms",
                    f"{baseline_name}, {quantile}",
                    getattr(baseline, quantile),
                    lower_is_better=True,
                )
            )
    for read, target in (
        ("dashboard", DASHBOARD_TARGET_MS),
        ("dashboard as at an instant", AS_AT_TARGET_MS),
    ):
        results.append(
            Result(
                f"{label}: {read} over HTTP, p99 against its target",
                measured[read][0].p99,
                "ms",
                "the target",
                target,
                target=1.0,
                lower_is_better=True,
            )
        )
    return results


if __name__ == "__main__":
    main()
