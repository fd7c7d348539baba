"""Commands per second through Trustledger's group-commit writer, against the library's plain
`Application.save()` per command, with the same commands from the same number of threads.

    python -m bench.group_commit [--threads 64] [--commands 3000]   (PostgreSQL from
    TRUSTLEDGER_DATABASE_URL or TRUSTLEDGER_TEST_DATABASE_URL, in a scratch schema)
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.application import Application

from api.settings import Settings
from domain.actor import Actor, Role
from domain.application import Session, Trustledger, Write
from domain.organisation import Organisation, OrganisationKind
from domain.transcodings import register_domain_transcodings

ACTOR = Actor(user_id="bench", organisation_id="bench", role=Role.ADMIN)


class PlainApplication(Application[uuid.UUID]):
    """The library's defaults: one transaction per save."""

    def register_transcodings(self, transcoder):  # type: ignore[no-untyped-def]
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


def _registration(name: str) -> Callable[[Session], Organisation]:
    return lambda _: Organisation.register(name=name, kind=OrganisationKind.TRUST, actor=ACTOR)


def _drive(threads: int, commands: int, rename: Callable[[int, int], Any]) -> float:
    per_thread = commands // threads

    def work(t: int) -> None:
        for n in range(per_thread):
            rename(t, n)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return per_thread * threads / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--commands", type=int, default=3000)
    args = parser.parse_args()
    url = os.environ.get("TRUSTLEDGER_DATABASE_URL") or os.environ["TRUSTLEDGER_TEST_DATABASE_URL"]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        env = Settings(database_url=url, database_schema=schema, postgres_pool_size=20).ledger_env()
        names = [f"Bench organisation {t}" for t in range(args.threads)]

        ledger = Trustledger(env)
        for name in names:
            ledger.create(_registration(name), actor=ACTOR, write=Write())
        grouped = _drive(
            args.threads,
            args.commands,
            lambda t, n: ledger.change(
                Organisation,
                Organisation.id_for(names[t]),
                lambda o: o.rename(name=f"{names[t]} {n}", reason="bench", actor=ACTOR),
                actor=ACTOR,
                write=Write(),
            ),
        )
        ledger.close()

        # The library's own recorder, in the same schema: its events table is the same shape.
        plain_env = {k: v for k, v in env.items() if k != "APPLICATION_RECORDER_TOPIC"}
        plain = PlainApplication(plain_env)
        ids = []
        for name in names:
            organisation = Organisation.register(
                name=name + " plain", kind=OrganisationKind.TRUST, actor=ACTOR
            )
            plain.save(organisation)
            ids.append(organisation.id)

        def plain_rename(t: int, n: int) -> None:
            organisation: Organisation = plain.repository.get(ids[t])
            organisation.rename(name=f"{names[t]} plain {n}", reason="bench", actor=ACTOR)
            plain.save(organisation)

        single = _drive(args.threads, args.commands, plain_rename)
        plain.close()
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    print(f"{'path':<44}{'commands/s':>12}")
    print(f"{'Trustledger group commit':<44}{grouped:>12.0f}")
    print(f"{'library Application.save() per command':<44}{single:>12.0f}")
    print(f"ratio: {grouped / single:.2f}x  ({args.threads} threads, {args.commands} commands)")


if __name__ == "__main__":
    main()
