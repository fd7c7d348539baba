"""As-at reads of one contract with years of monthly returns, against the same reads of today's
view, in the same run: the contract, one KPI's series, and the KPI summary (the contract and
every KPI's series, as GET /contracts/{id}/kpis reads them). Each read is made from snapshots
and, interleaved with it, by a ledger over the same store that keeps none (replaying every
event), so the ratio between them is measured under the same load.

    python -m bench.replay [--store sqlite|postgres] [--years 10] [--reads 200] [--national]
                           [--snapshot-every N]

The contract schedules all 14 national indicators monthly; the trust returns each month through
the group-commit writer, the council queries one return a month and the trust answers it, and
one return in twelve is restated. With --national, the history is instead one council's of the
national dataset (api/national.py: 40 KPIs, about 11,000 events), saved by its bulk path. Each
as-at read takes a random instant recorded between two years' returns, so it replays a random
length of history. --snapshot-every takes snapshots every N events of a contract or a series
instead of the ledger's interval (domain.application.SNAPSHOT_EVERY). PostgreSQL comes from
TRUSTLEDGER_DATABASE_URL or TRUSTLEDGER_TEST_DATABASE_URL, in a scratch schema; SQLite is a file
in a scratch directory.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from api.deps import Reading
from api.national import NationalPlan, national_history
from api.settings import Settings
from domain import kpis
from domain.actor import Actor, Role
from domain.application import SNAPSHOT_EVERY, AsAt, Session, Trustledger, Write
from domain.indicator_series import IndicatorSeries
from domain.indicators import CATALOGUE, Indicator
from domain.periods import FinancialYear
from domain.reporting import Frequency, reporting_periods
from domain.service_contract import Council, ScheduledKpi, ServiceContract, Term, Trust
from domain.services import ServiceLine

COUNCIL = Actor(user_id="bench-council", organisation_id="bench-council", role=Role.COMMISSIONER)
TRUST = Actor(user_id="bench-trust", organisation_id="bench-trust", role=Role.PROVIDER)


@contextmanager
def scratch_store(store: str) -> Iterator[Settings]:
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as var:
            yield Settings(var_dir=Path(var))
        return
    url = os.environ.get("TRUSTLEDGER_DATABASE_URL") or os.environ["TRUSTLEDGER_TEST_DATABASE_URL"]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Settings(database_url=url, database_schema=schema)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _value(indicator: Indicator, rng: random.Random) -> dict[str, Any]:
    if not indicator.has_fraction:
        return {"value": Decimal(rng.randint(5, 30)), "numerator": None, "denominator": None}
    numerator, denominator = rng.randint(100, 900), 1000
    return {
        "value": indicator.value_of(numerator, denominator),
        "numerator": numerator,
        "denominator": denominator,
    }


def record_history(
    ledger: Trustledger, years: int, rng: random.Random
) -> tuple[UUID, list[datetime]]:
    """A contract of `years` years with every national KPI monthly; returns its id and an instant
    recorded after each year's returns."""
    term = Term(date(2015, 4, 1), date(2015 + years, 3, 31))
    contract_id: UUID = ledger.create(
        lambda _: ServiceContract.draft(
            council=Council("333", "E08000028", "Bench council", COUNCIL.organisation_id),
            trust=Trust("Bench trust", TRUST.organisation_id),
            title="Bench contract",
            term=term,
            scope=[ServiceLine.ASSESSMENT],
            contract_sums={},
            actor=COUNCIL,
        ),
        actor=COUNCIL,
        write=Write(),
    ).value
    targets = {year.label: Decimal(50) for year in term.financial_years}
    for n, indicator in enumerate(CATALOGUE.values(), start=1):
        _schedule(
            ledger, contract_id, ScheduledKpi(indicator, f"K{n}", Frequency.MONTHLY, 10, targets)
        )
    _on_contract(ledger, contract_id, COUNCIL, lambda c: c.sign(actor=COUNCIL))
    _on_contract(ledger, contract_id, TRUST, lambda c: c.sign(actor=TRUST))

    instants = []
    for period in reporting_periods(Frequency.MONTHLY, term.starts, term.ends):
        for indicator in CATALOGUE.values():
            _submit(ledger, contract_id, indicator.code, period.label, _value(indicator, rng))
        queried = rng.choice(list(CATALOGUE.values()))
        restated = _value(queried, rng) if rng.random() < 1 / 12 else None
        _challenge(ledger, contract_id, queried.code, period.label, restated)
        if period.ends == FinancialYear.containing(period.starts).ends:
            instants.append(datetime.now(UTC))
    return contract_id, instants


def _on_contract(
    ledger: Trustledger,
    contract_id: UUID,
    actor: Actor,
    command: Callable[[ServiceContract], None],
) -> None:
    ledger.change(ServiceContract, contract_id, command, actor=actor, write=Write())


def _schedule(ledger: Trustledger, contract_id: UUID, kpi: ScheduledKpi) -> None:
    _on_contract(ledger, contract_id, COUNCIL, lambda c: c.schedule_kpi(kpi=kpi, actor=COUNCIL))


def _submit(
    ledger: Trustledger, contract_id: UUID, code: str, period: str, value: dict[str, Any]
) -> None:
    def run(session: Session) -> tuple[IndicatorSeries, None]:
        series = kpis.submit_return(
            session,
            contract_id=contract_id,
            indicator_code=code,
            period_label=period,
            commentary="",
            submitted_on=date.today(),
            actor=TRUST,
            **value,
        )
        return series, None

    ledger.execute(run, actor=TRUST, write=Write())


def _challenge(
    ledger: Trustledger,
    contract_id: UUID,
    code: str,
    period: str,
    restated: dict[str, Any] | None,
) -> None:
    """The council queries a return and the trust answers; then, maybe, restates it."""
    series_id = IndicatorSeries.id_for(contract_id, code)

    def on_series(actor: Actor, command: Callable[[IndicatorSeries], Any]) -> Any:
        return ledger.change(IndicatorSeries, series_id, command, actor=actor, write=Write()).value

    query = on_series(
        COUNCIL, lambda s: s.query_return(period_label=period, question="Why?", actor=COUNCIL)
    )
    on_series(TRUST, lambda s: s.answer_query(query_id=query, answer="Because", actor=TRUST))
    if restated is not None:
        on_series(
            TRUST,
            lambda s: s.restate_return(
                period_label=period, reason="corrected", actor=TRUST, **restated
            ),
        )


def record_national(ledger: Trustledger, years: int) -> tuple[UUID, list[datetime]]:
    """One council's history from the national dataset; returns its contract's id and an
    instant recorded after each contract year."""
    plan = NationalPlan.of(1 / 1000, years=years)
    instants = []
    contract_id = None
    for batch in national_history(plan):
        ledger.save(*batch)
        contract_id = contract_id or next(
            (each.id for each in batch if isinstance(each, ServiceContract)), None
        )
        instants.append(datetime.now(UTC))
    assert contract_id is not None
    return contract_id, instants[1:]


def _summary(ledger: Trustledger, contract_id: Any, at: AsAt | None) -> None:
    contract = ledger.get_as_at(contract_id, ServiceContract, at)
    series = ledger.series_of(contract_id, contract.kpi_schedule, at)
    kpis.kpi_summary(contract, series, Reading(at).day)


def _read(ledger: Trustledger, aggregate_id: Any, cls: type[Any], at: AsAt | None) -> None:
    ledger.get_as_at(aggregate_id, cls, at)


def _time(reads: dict[str, Callable[[], None]], count: int) -> dict[str, list[float]]:
    """Each read `count` times, taking them in turn, so that the machine's load falls on all."""
    took: dict[str, list[float]] = {name: [] for name in reads}
    for _ in range(count):
        for name, read in reads.items():
            started = time.perf_counter()
            read()
            took[name].append((time.perf_counter() - started) * 1000)
    return took


def _p(took: list[float], q: int) -> float:
    return statistics.quantiles(took, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--national", action="store_true")
    parser.add_argument("--snapshot-every", type=int)
    args = parser.parse_args()
    if args.snapshot_every:
        for cls in SNAPSHOT_EVERY:
            SNAPSHOT_EVERY[cls] = args.snapshot_every
    rng = random.Random(7)  # noqa: S311 - repeatable figures and instants, not a secret
    with scratch_store(args.store) as settings:
        ledger = Trustledger(settings.ledger_env())
        # The same store read without snapshots: every read replays every event.
        replaying = Trustledger({**settings.ledger_env(), "IS_SNAPSHOTTING_ENABLED": "n"})
        try:
            built = time.perf_counter()
            if args.national:
                contract_id, instants = record_national(ledger, args.years)
            else:
                contract_id, instants = record_history(ledger, args.years, rng)
            built = time.perf_counter() - built
            events = ledger.recorder.max_notification_id() or 0
            series_id = IndicatorSeries.id_for(contract_id, next(iter(CATALOGUE)))
            # Resolving the instant to a log position is part of every as-at read. "Now" is the
            # baseline; as at the last year's end replays the same history as now does, so the
            # ratio is what time travel itself costs; as at a random year's end replays less.
            # Both ledgers of a pair read at the same instant.
            when: dict[str, Callable[[], datetime | None]] = {
                "now": lambda: None,
                "as at the last year end": lambda: instants[-1],
                "as at a random year end": lambda: rng.choice(instants),
            }
            reads: dict[str, Callable[[Trustledger, AsAt | None], None]] = {
                "contract": lambda on, at: _read(on, contract_id, ServiceContract, at),
                "one KPI series": lambda on, at: _read(on, series_id, IndicatorSeries, at),
                "KPI summary (contract, all series)": lambda on, at: _summary(on, contract_id, at),
            }
            every = ", ".join(f"{cls.__name__} {n}" for cls, n in SNAPSHOT_EVERY.items())
            print(
                f"{args.store}: {args.years} years, {events} events recorded in {built:.1f}s, "
                f"snapshots every {every} events; "
                f"{args.reads} reads each, from snapshots and replaying every event in turn"
            )
            print(
                f"{'read':<36}{'when':<26}{'p50 ms':>9}{'p99 ms':>9}"
                f"{'replay p50':>12}{'replay p99':>12}{'p99 ratio':>11}"
            )
            for name, read in reads.items():
                for moment, instant in when.items():
                    took = _time(_pair(ledger, replaying, read, instant), args.reads)
                    snap, replay = took["snapshots"], took["replay"]
                    print(
                        f"{name:<36}{moment:<26}{_p(snap, 50):>9.2f}{_p(snap, 99):>9.2f}"
                        f"{_p(replay, 50):>12.2f}{_p(replay, 99):>12.2f}"
                        f"{_p(snap, 99) / _p(replay, 99):>10.2f}x"
                    )
        finally:
            replaying.close()
            ledger.close()


def _pair(
    ledger: Trustledger,
    replaying: Trustledger,
    read: Callable[[Trustledger, AsAt | None], None],
    instant: Callable[[], datetime | None],
) -> dict[str, Callable[[], None]]:
    """The read from snapshots and by replaying, each resolving the same instant for itself."""
    chosen: list[datetime | None] = []

    def from_snapshots() -> None:
        chosen[:] = [instant()]
        read(ledger, None if chosen[0] is None else ledger.as_at(chosen[0]))

    def by_replaying() -> None:
        read(replaying, None if chosen[0] is None else replaying.as_at(chosen[0]))

    return {"snapshots": from_snapshots, "replay": by_replaying}


if __name__ == "__main__":
    main()
