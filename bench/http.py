"""The command path over HTTP: KPI returns submitted to Trustledger, against the ceiling of its
stack and against the library's plain save() per request (issue 9, first benchmark).

Three servers, each a real uvicorn process on a free port against the same PostgreSQL, each in
a scratch schema of its own:

- the ceiling: a bare FastAPI endpoint that validates the same body with the same pydantic
  schema and does one raw INSERT through a psycopg_pool pool (bench/bare_app.py, `insert`);
- the library: the same endpoint doing a plain `Application.save()` of one event (`save`);
- Trustledger itself (`trustledger serve`), seeded with a contract per English local authority
  and every catalogue KPI on monthly returns, so that every request submits a return for a
  period no earlier request used; the trusts' tokens are got before the clock starts.

Each is loaded at concurrency 1, 16 and 64 with one worker, and at 64 with two, by Debian's
`wrk` (installed here when missing and run as root): it is C, costs a few microseconds of CPU
per request where a Python client costs more than the ceiling's handler, and a Lua script gives
each request its own return. Its CPU per request is measured from its own rusage and printed
beside the servers', because it shares the machine's cores with them.

    python -m bench.http [--seconds 10] [--warmup 2] [--contracts 153]
    (PostgreSQL from TRUSTLEDGER_DATABASE_URL or TRUSTLEDGER_TEST_DATABASE_URL)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.security import hash_password
from api.settings import Settings
from bench.bare_app import prepare
from bench.results import Result, report
from domain.account import Account
from domain.actor import Actor, Role
from domain.application import Session, Trustledger, Write
from domain.indicators import CATALOGUE
from domain.organisation import Organisation, OrganisationKind
from domain.reporting import Frequency, ReportingPeriod
from domain.service_contract import Council, ScheduledKpi, ServiceContract, Term, Trust
from domain.services import ServiceLine

SYSTEM = Actor(user_id="bench", organisation_id="bench", role=Role.SYSTEM)
PASSWORD = "a bench password that is long enough"  # noqa: S105 - for scratch accounts only
# Monthly returns from April 2012 (the earliest period the ledger takes) to October 2026:
# enough periods that no two requests of a whole run, at any
# rate this machine reaches, submit the return for the same period of the same KPI.
TERM = Term(starts=date(2012, 4, 1), ends=date(2036, 3, 31))
FIRST_PERIOD = date(2012, 4, 1)
LAST_PERIOD = date(2026, 10, 1)
CONCURRENCIES = (1, 16, 64)
WRK = "/usr/bin/wrk"
APT = "/usr/bin/apt-get"


@dataclass(frozen=True)
class Target:
    """What the load generator sends to: contracts, their trusts' tokens, KPI codes, periods."""

    contracts: list[str]
    tokens: list[str]
    codes: list[str]
    figures: list[str]  # per code, the rest of a return's JSON body after its period
    periods: list[str]

    @property
    def series(self) -> int:
        return len(self.contracts) * len(self.codes)


@dataclass(frozen=True)
class Point:
    """One load run: throughput, latency percentiles, and what the load generator cost."""

    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    failed: int
    generator_cpu_us: float  # wrk's CPU (user + system) per request
    server_cpu_us: float  # the server processes' CPU per request


# -- the ledger's world --------------------------------------------------------------------------


def _monthly_periods() -> list[str]:
    labels, month = [], FIRST_PERIOD
    while month <= LAST_PERIOD:
        labels.append(ReportingPeriod.parse(f"{month:%Y-%m}").label)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return labels


def _schedule() -> list[ScheduledKpi]:
    return [
        ScheduledKpi(
            indicator=indicator,
            reference=f"K{n}",
            frequency=Frequency.MONTHLY,
            due_working_days=10,
            targets={},
            tolerances={},
        )
        for n, indicator in enumerate(CATALOGUE.values(), start=1)
    ]


def _figures(kpi: ScheduledKpi) -> str:
    """A return's value, with the counts it is made of where the indicator has them: Sandwell's
    844 re-referrals of 3,723 referrals, as the catalogue's rounding publishes them."""
    indicator = kpi.indicator
    if not indicator.has_fraction:
        return ',"value":"12.5"}'
    value = indicator.value_of(844, 3723)
    return f',"value":"{value}","numerator":844,"denominator":3723}}'


def seed(ledger: Trustledger, contracts: int) -> list[tuple[str, str]]:
    """A council, a trust, the trust's account and a signed contract scheduling every catalogue
    KPI monthly, per local authority; (contract id, the trust's email) of each."""
    password_hash = hash_password(PASSWORD)
    schedule = _schedule()
    seeded = []
    for n in range(contracts):
        council_name, trust_name = f"Bench Council {n}", f"Bench Children's Trust {n}"
        email = f"provider{n}@bench-trust.test"
        council = Organisation.register(
            name=council_name,
            kind=OrganisationKind.COUNCIL,
            la_number=f"{100 + n:03d}",
            ons_code=f"E{90_000_000 + n:08d}",
            actor=SYSTEM,
        )
        trust = Organisation.register(name=trust_name, kind=OrganisationKind.TRUST, actor=SYSTEM)
        commissioner = Actor(str(uuid.uuid4()), str(council.id), Role.COMMISSIONER)
        provider = Actor(str(Account.id_for(email)), str(trust.id), Role.PROVIDER)

        def everything(
            session: Session,
            council: Organisation = council,
            trust: Organisation = trust,
            email: str = email,
            commissioner: Actor = commissioner,
            provider: Actor = provider,
        ) -> tuple[ServiceContract, str]:
            session.add(council)
            session.add(trust)
            account = session.add(
                Account.register(
                    email=email,
                    display_name=email,
                    organisation_id=str(trust.id),
                    role=Role.PROVIDER,
                    actor=SYSTEM,
                )
            )
            session.store_password_hash(account.id, password_hash)
            contract = session.add(
                ServiceContract.draft(
                    council=Council(
                        la_number=council.la_number or "",
                        ons_code=council.ons_code or "",
                        name=council.name,
                        organisation_id=str(council.id),
                    ),
                    trust=Trust(name=trust.name, organisation_id=str(trust.id)),
                    title="Service delivery contract for children's social care",
                    term=TERM,
                    scope=[ServiceLine.FRONT_DOOR, ServiceLine.ASSESSMENT],
                    contract_sums={},
                    actor=commissioner,
                )
            )
            for kpi in schedule:
                contract.schedule_kpi(kpi=kpi, actor=commissioner)
            contract.sign(actor=commissioner)
            contract.sign(actor=provider)
            return contract, str(contract.id)

        outcome = ledger.execute(everything, actor=SYSTEM, write=Write())
        seeded.append((outcome.value, email))
    return seeded


# -- servers -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """User and system CPU of the server and every worker process it started."""
        return sum(_cpu_of(pid) for pid in _tree(self.process.pid))


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        i += 1
    return pids


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # utime and stime are the 14th and 15th fields of stat (the 12th and 13th after the name).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(command: Sequence[str], env: dict[str, str], log: Path) -> Iterator[Server]:
    """A uvicorn server started as its own process group, until it answers /health."""
    port = _free_port()
    with log.open("ab") as out:
        # The command is this module's own: this interpreter and fixed arguments.
        process = subprocess.Popen(  # noqa: S603
            [*command, "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}); see {log}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer within a minute; see {log}")
            # Polled for a condition (the server answering), not slept on for a duration.
            time.sleep(0.1)
        yield Server(url, process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- load ----------------------------------------------------------------------------------------

_LUA = """
local contracts = {%(contracts)s}
local tokens = {%(tokens)s}
local codes = {%(codes)s}
local figures = {%(figures)s}
local periods = {%(periods)s}
local first, threads = %(first)d, %(threads)d
local n = 0
local created = 0

function setup(thread)
  thread:set("id", created)
  created = created + 1
end

-- Request n of thread `id` is the g-th of the run: consecutive requests go to different
-- contracts, then to the next KPI, and only then to the next period, so that every request
-- submits a return no other request of the run submits.
function request()
  local g = n * threads + id
  n = n + 1
  local s = g %% (#contracts * #codes)
  local c = s %% #contracts + 1
  local k = math.floor(s / #contracts) + 1
  local p = first + math.floor(g / (#contracts * #codes)) + 1
  return wrk.format("POST", "/contracts/" .. contracts[c] .. "/kpis/" .. codes[k] .. "/returns",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[c]},
    '{"period":"' .. periods[p] .. '"' .. figures[k])
end
"""


def _lua_list(values: Sequence[str]) -> str:
    return ",".join(json.dumps(v) for v in values)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


class Load:
    """Runs wrk against one server, giving each run periods no earlier run of it has used."""

    def __init__(self, target: Target, workdir: Path) -> None:
        self.target = target
        self.workdir = workdir
        self.next_period = 0

    def run(self, server: Server, concurrency: int, seconds: int) -> Point:
        threads = min(2, concurrency)
        script = self.workdir / "submit.lua"
        script.write_text(
            _LUA
            % {
                "contracts": _lua_list(self.target.contracts),
                "tokens": _lua_list(self.target.tokens),
                "codes": _lua_list(self.target.codes),
                "figures": _lua_list(self.target.figures),
                "periods": _lua_list(self.target.periods),
                "first": self.next_period,
                "threads": threads,
            }
        )
        cpu_before = server.cpu_seconds()
        started = os.times()
        done = subprocess.run(  # noqa: S603 - wrk's fixed path and our own arguments
            [
                WRK,
                f"-t{threads}",
                f"-c{concurrency}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                str(script),
                server.url,
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        ended = os.times()
        server_cpu = server.cpu_seconds() - cpu_before
        generator_cpu = (ended.children_user - started.children_user) + (
            ended.children_system - started.children_system
        )
        out = done.stdout
        requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
        socket_errors = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        if socket_errors:
            failed += sum(int(n) for n in socket_errors.groups())
        # A thread may run ahead of the other: leave room for twice the requests made.
        used = 2 * (requests + concurrency)
        self.next_period += used // self.target.series + 1
        if self.next_period >= len(self.target.periods):
            raise RuntimeError("the run used up its periods: seed more contracts")
        latency = dict(re.findall(r"^\s*(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
        if set(latency) != {"50", "99"}:
            raise RuntimeError(f"wrk gave no latency distribution:\n{out}")
        return Point(
            requests=requests,
            per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            p50_ms=_ms(latency["50"]),
            p99_ms=_ms(latency["99"]),
            failed=failed,
            generator_cpu_us=generator_cpu / max(requests, 1) * 1e6,
            server_cpu_us=server_cpu / max(requests, 1) * 1e6,
        )


# -- the run -------------------------------------------------------------------------------------


def _ensure_wrk() -> None:
    """Debian's wrk, installed when missing and run as root (as `make chromium` does)."""
    if Path(WRK).exists():
        return
    if os.geteuid() != 0:
        raise SystemExit(f"{WRK} not found: install Debian's wrk as root (apt-get install wrk)")
    subprocess.run([APT, "update", "-q"], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [APT, "install", "-y", "-q", "--no-install-recommends", "wrk"],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        check=True,
    )


def _key_file(path: Path) -> Path:
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _sign_in(url: str, emails: Sequence[str]) -> list[str]:
    tokens = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for email in emails:
            response = client.post("/auth/token", data={"username": email, "password": PASSWORD})
            response.raise_for_status()
            tokens.append(response.json()["access_token"])
    return tokens


SERVERS = {
    "insert": "bare FastAPI + one psycopg INSERT",
    "save": "FastAPI + library Application.save()",
    "trustledger": "Trustledger",
}


def _command(kind: str, workers: int) -> list[str]:
    if kind == "trustledger":
        return [sys.executable, "-m", "api.cli", "serve", "--workers", str(workers)]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def measure(
    url: str, seconds: int, warmup: int, contracts: int, workdir: Path
) -> dict[tuple[str, int, int], Point]:
    """Every server at every point, in scratch schemas dropped afterwards."""
    run = uuid.uuid4().hex[:8]
    schemas = {kind: f"bench_http_{kind}_{run}" for kind in SERVERS}
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in schemas.values():
            conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        settings = Settings(database_url=url, database_schema=schemas["trustledger"])
        ledger = Trustledger(settings.ledger_env())
        try:
            started = time.perf_counter()
            seeded = seed(ledger, contracts)
            print(f"seeded {contracts} contracts in {time.perf_counter() - started:.1f} s")
        finally:
            ledger.close()
        prepare(url, schemas["insert"])
        env = {
            "insert": {"BENCH_BASELINE": "insert"},
            "save": {"BENCH_BASELINE": "save"},
            "trustledger": {
                "TRUSTLEDGER_DATABASE_URL": url,
                "TRUSTLEDGER_DATABASE_SCHEMA": schemas["trustledger"],
                "TRUSTLEDGER_VAR_DIR": str(workdir),
                "TRUSTLEDGER_TOKEN_KEY_FILE": str(_key_file(workdir / "token.pem")),
                "TRUSTLEDGER_AUDIT_KEY_FILE": str(_key_file(workdir / "audit.pem")),
                "TRUSTLEDGER_TOKEN_MINUTES": "600",
            },
        }
        for kind in ("insert", "save"):
            env[kind] |= {"BENCH_DATABASE_URL": url, "BENCH_SCHEMA": schemas[kind]}
        codes = [kpi.code for kpi in _schedule()]
        figures = [_figures(kpi) for kpi in _schedule()]
        tokens: list[str] = []
        points: dict[tuple[str, int, int], Point] = {}
        loads: dict[str, Load] = {}
        # Trustledger first: its trusts' tokens are sent to every server, which the baselines
        # ignore, so that all three read requests of the same size.
        for kind in ("trustledger", "insert", "save"):
            for workers in (1, 2):
                log = workdir / f"{kind}.log"
                with serving(_command(kind, workers), env[kind], log) as server:
                    if not tokens:
                        tokens = _sign_in(server.url, [email for _, email in seeded])
                    target = Target(
                        [c for c, _ in seeded], tokens, codes, figures, _monthly_periods()
                    )
                    load = loads.setdefault(kind, Load(target, workdir))
                    if warmup:
                        load.run(server, 16, warmup)
                    for concurrency in CONCURRENCIES if workers == 1 else (64,):
                        point = load.run(server, concurrency, seconds)
                        points[(kind, workers, concurrency)] = point
                        print(
                            f"{SERVERS[kind]:<40} workers {workers}  c{concurrency:<3} "
                            f"{point.per_second:8.0f} req/s  p50 {point.p50_ms:7.1f} ms  "
                            f"p99 {point.p99_ms:7.1f} ms  failed {point.failed}  "
                            f"server CPU {point.server_cpu_us:6.0f} us/req  "
                            f"wrk CPU {point.generator_cpu_us:4.0f} us/req",
                            flush=True,
                        )
        return points
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for schema in schemas.values():
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def results(points: dict[tuple[str, int, int], Point]) -> list[Result]:
    ledger = {(w, c): p for (k, w, c), p in points.items() if k == "trustledger"}
    insert = {(w, c): p for (k, w, c), p in points.items() if k == "insert"}
    save = {(w, c): p for (k, w, c), p in points.items() if k == "save"}
    rows = []
    for concurrency in CONCURRENCIES:
        rows.append(
            Result(
                f"HTTP returns c{concurrency} 1 worker: Trustledger",
                ledger[(1, concurrency)].per_second,
                "req/s",
                "bare FastAPI INSERT",
                insert[(1, concurrency)].per_second,
                target=1.0 if concurrency == 64 else None,
            )
        )
    for workers in (1, 2):
        if workers == 2:
            rows.append(
                Result(
                    "HTTP returns c64 2 workers: Trustledger",
                    ledger[(2, 64)].per_second,
                    "req/s",
                    "bare FastAPI INSERT",
                    insert[(2, 64)].per_second,
                    target=1.0,
                )
            )
        rows.append(
            Result(
                f"HTTP returns c64 {workers} worker{'s' * (workers > 1)}: Trustledger",
                ledger[(workers, 64)].per_second,
                "req/s",
                "library Application.save()",
                save[(workers, 64)].per_second,
                target=2.0,
            )
        )
    rows.append(
        Result(
            "HTTP returns c64: Trustledger 2 workers",
            ledger[(2, 64)].per_second,
            "req/s",
            "Trustledger 1 worker",
            ledger[(1, 64)].per_second,
            target=1.6,
        )
    )
    for workers in (1, 2):
        rows.append(
            Result(
                f"HTTP returns c64 {workers} worker{'s' * (workers > 1)}: Trustledger p99",
                ledger[(workers, 64)].p99_ms,
                "ms",
                "the target",
                100.0,
                target=1.0,
                lower_is_better=True,
            )
        )
    for concurrency in CONCURRENCIES:
        for percentile in ("p50", "p99"):
            rows.append(
                Result(
                    f"HTTP returns c{concurrency} 1 worker: Trustledger {percentile}",
                    getattr(ledger[(1, concurrency)], f"{percentile}_ms"),
                    "ms",
                    f"bare FastAPI INSERT {percentile}",
                    getattr(insert[(1, concurrency)], f"{percentile}_ms"),
                    lower_is_better=True,
                )
            )
    rows.append(
        Result(
            "HTTP c64: wrk's CPU per Trustledger request",
            ledger[(1, 64)].generator_cpu_us,
            "us",
            "the server's CPU per request",
            ledger[(1, 64)].server_cpu_us,
            lower_is_better=True,
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="load per point (whole seconds)")
    parser.add_argument("--warmup", type=int, default=2, help="load before each server's points")
    parser.add_argument("--contracts", type=int, default=153, help="one per local authority")
    args = parser.parse_args()
    _ensure_wrk()
    url = os.environ.get("TRUSTLEDGER_DATABASE_URL") or os.environ["TRUSTLEDGER_TEST_DATABASE_URL"]
    workdir = Path(tempfile.mkdtemp(prefix="bench-http-"))
    try:
        points = measure(url, args.seconds, args.warmup, args.contracts, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    failed = sum(p.failed for p in points.values())
    if failed:
        print(f"WARNING: {failed} requests failed; the figures count only those that succeeded")
    report(results(points))


if __name__ == "__main__":
    main()
