"""Events per second rebuilding the dashboard view, against the library's default
`ProjectionRunner` (one transaction per event) and a raw read of the notification log, in the
same run, on the same ledger; and the activity feed's rebuild against the same raw read.

    python -m bench.projections [--contracts 20]   (PostgreSQL from TRUSTLEDGER_DATABASE_URL
    or TRUSTLEDGER_TEST_DATABASE_URL, in a scratch schema)

The ledger: `--contracts` ten-year contracts, each with a quarterly and a monthly KPI whose every
period is returned and accepted, about 330 events a contract, all of them events the dashboard
reads, so the three rates count the same events.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from datetime import date
from decimal import Decimal

import psycopg
from eventsourcing.projection import ProjectionRunner

from api.settings import Settings
from domain.actor import Actor, Role
from domain.application import Trustledger
from domain.indicator_series import IndicatorSeries
from domain.indicators import CATALOGUE
from domain.ledger import LedgerAggregate
from domain.reporting import Frequency, due_date, england, reporting_periods
from domain.service_contract import Council, ScheduledKpi, ServiceContract, Term, Trust
from domain.services import ServiceLine
from projections.activity_view import ACTIVITY
from projections.dashboard_view import DASHBOARD, DashboardProjection
from projections.view_store import VIEW_STORE_NAME, PostgresViewStore, ViewStore, view_store
from projections.worker import BATCH, VIEWS, ProjectionWorker

TERM = Term(starts=date(2018, 4, 1), ends=date(2028, 3, 31))
YEARS = [year.label for year in TERM.financial_years]
KPIS = (
    ScheduledKpi(
        indicator=CATALOGUE["rereferrals_12m"],
        reference="A1",
        frequency=Frequency.QUARTERLY,
        due_working_days=10,
        targets=dict.fromkeys(YEARS, Decimal("20.0")),
        tolerances=dict.fromkeys(YEARS, Decimal("23.0")),
    ),
    ScheduledKpi(
        indicator=CATALOGUE["cpp_second_or_subsequent"],
        reference="A2",
        frequency=Frequency.MONTHLY,
        due_working_days=5,
        targets=dict.fromkeys(YEARS, Decimal("22.0")),
    ),
)


def contract_history(n: int) -> list[LedgerAggregate.Event]:
    council_org, trust_org = f"bench-council-{n}", f"bench-trust-{n}"
    council = Actor(user_id=f"c{n}", organisation_id=council_org, role=Role.COMMISSIONER)
    trust = Actor(user_id=f"t{n}", organisation_id=trust_org, role=Role.PROVIDER)
    contract = ServiceContract.draft(
        council=Council(
            la_number="333", ons_code="E08000028", name=f"Council {n}", organisation_id=council_org
        ),
        trust=Trust(name=f"Trust {n}", organisation_id=trust_org),
        title=f"Bench contract {n}",
        term=TERM,
        scope=[ServiceLine.ASSESSMENT],
        contract_sums={"2018-19": 58_000_000_00},
        actor=council,
    )
    for kpi in KPIS:
        contract.schedule_kpi(kpi=kpi, actor=council)
    contract.sign(actor=council)
    contract.sign(actor=trust)
    events: list[LedgerAggregate.Event] = list(contract.collect_events())  # type: ignore[arg-type]
    for kpi in KPIS:
        series = IndicatorSeries.start(
            contract_id=contract.id,
            indicator=kpi.indicator,
            council_organisation_id=council_org,
            trust_organisation_id=trust_org,
            actor=trust,
        )
        for i, period in enumerate(reporting_periods(kpi.frequency, TERM.starts, TERM.ends)):
            due = due_date(period, kpi.due_working_days, england())
            numerator = 180 + (i * 7) % 60
            series.submit_return(
                period=period,
                value=kpi.indicator.value_of(numerator, 1000),
                numerator=numerator,
                denominator=1000,
                commentary="",
                due_on=due,
                submitted_on=due,
                actor=trust,
            )
            series.accept_return(period_label=period.label, actor=council)
        events += series.collect_events()  # type: ignore[arg-type]
    return events


def raw_read(ledger: Trustledger, head: int, *, decode: bool) -> float:
    """Pages of 500 from the log; with `decode`, made into domain events too, the least any
    projection in Python must do with each event."""
    started, after = time.perf_counter(), 0
    while after < head:
        page = ledger.recorder.select_notifications(after, 500, inclusive_of_start=False)
        if decode:
            for notification in page:
                ledger.mapper.to_domain_event(notification)
        after = page[-1].id
    return head / (time.perf_counter() - started)


def rebuild(ledger: Trustledger, store: ViewStore, head: int, view: str) -> float:
    """The worker's own rebuild: a new version beside the live one, then the switch."""
    worker = ProjectionWorker(VIEWS[view], ledger, store)
    while worker.run_once():
        pass  # the live version, first, so that the rebuild is all that is timed
    building = store.begin_rebuild(VIEWS[view].spec)
    started = time.perf_counter()
    while store.versions(view).current != building:
        worker.run_once()
    return head / (time.perf_counter() - started)


def default_runner(ledger: Trustledger, store: ViewStore, env: dict[str, str], head: int) -> float:
    """The library's ProjectionRunner, driving the same projection one event at a time."""
    version = store.begin_rebuild(DASHBOARD)

    class OneEventPerTransaction(DashboardProjection):
        # The runner names its tables' environment after the projection: this one shares the
        # view store's tracking table, so that the same tracking rows are watched.
        name = VIEW_STORE_NAME

        def __init__(self, view: ViewStore) -> None:
            super().__init__(view, ledger=ledger, version=version)

    done = threading.Event()
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=Trustledger,
        projection_class=OneEventPerTransaction,
        view_class=PostgresViewStore,
        env=env,
    ):
        while store.tracked("dashboard", version) < head:
            done.wait(0.05)
    return head / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("TRUSTLEDGER_DATABASE_URL") or os.environ["TRUSTLEDGER_TEST_DATABASE_URL"]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        env = Settings(database_url=url, database_schema=schema).ledger_env()
        ledger = Trustledger(env)
        for n in range(args.contracts):
            ledger.events.put(contract_history(n))
        head = ledger.recorder.max_notification_id() or 0
        store = view_store(env)
        store.prepare(DASHBOARD)
        store.prepare(ACTIVITY)

        read = raw_read(ledger, head, decode=False)
        decoded = raw_read(ledger, head, decode=True)
        rebuilt = rebuild(ledger, store, head, DASHBOARD.name)
        activity = rebuild(ledger, store, head, ACTIVITY.name)
        baseline = default_runner(ledger, store, env, head)
        ledger.close()
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    print(f"{'path':<52}{'events/s':>12}")
    print(f"{'raw read of the notification log (pages of 500)':<52}{read:>12.0f}")
    print(f"{'the same, decoded into domain events':<52}{decoded:>12.0f}")
    print(f"{f'dashboard rebuild ({BATCH} events per transaction)':<52}{rebuilt:>12.0f}")
    print(f"{f'activity rebuild ({BATCH} events per transaction)':<52}{activity:>12.0f}")
    print(f"{'library ProjectionRunner (one event per transaction)':<52}{baseline:>12.0f}")
    print(
        f"rebuild: {rebuilt / baseline:.1f}x the default runner, "
        f"{rebuilt / read:.0%} of the raw read, {rebuilt / decoded:.0%} of reading and decoding "
        f"({head} events, {args.contracts} contracts)"
    )
    print(f"activity rebuild: {activity / read:.0%} of the raw read")


if __name__ == "__main__":
    main()
