"""The `trustledger` command: serve the API, seed the demo, add the first admin, import public
data, run the projection workers."""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO, cast

import uvicorn

from api.dfe_import import DfeImport, Outcome, PublicationImported, import_dfe
from api.directory import SYSTEM
from api.logs import configure_logging
from api.ofsted import import_ofsted, read_file
from api.security import audit_signer
from api.settings import Settings
from domain.account import Account
from domain.actor import Actor, Role
from domain.application import Trustledger
from domain.errors import NotFound
from projections import verifier
from projections.audit_log import AuditStore, examine
from projections.worker import BATCH, VIEWS, request_rebuild, run_workers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trustledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)

    commands.add_parser("demo", help="seed the demo scenario (running it again adds nothing)")

    generating = commands.add_parser(
        "generate",
        help="generate a synthetic history at national scale (api/national.py)",
        description="Every English council's contract with its trust, ten years of monthly "
        "returns for 40 KPIs, governance and notices, and the real public record, loaded in "
        "batches and then taken into the views. Refused if the ledger already holds any of its "
        "councils.",
    )
    generating.add_argument(
        "--national", action="store_true", required=True, help="the national dataset"
    )
    generating.add_argument(
        "--fraction", type=float, default=1.0, help="this share of the 153 councils (0 to 1)"
    )
    generating.add_argument("--years", type=int, default=10, help="years of history (1 to 10)")
    generating.add_argument(
        "--database-url", help="load into this database instead of TRUSTLEDGER_DATABASE_URL's"
    )

    admin = commands.add_parser("add-admin", help="register an admin account")
    admin.add_argument("email")
    admin.add_argument("--name", default="Administrator")
    admin.add_argument(
        "--password-env",
        default="TRUSTLEDGER_ADMIN_PASSWORD",
        help="environment variable holding the password (asked for if unset)",
    )

    importing = commands.add_parser("import", help="import published public data")
    sources = importing.add_subparsers(dest="source", required=True)
    for source, help_text, description in [
        (
            "ofsted",
            "Ofsted's local authority inspection outcomes tables (CSV)",
            "Every row of every file is checked first; if any has a problem, nothing is "
            "imported. Importing a file again changes nothing.",
        ),
        (
            "dfe",
            "DfE's children's social care statistics (Explore Education Statistics CSVs)",
            "Every row of every file is checked first; if any has a problem, nothing is "
            "imported. Importing a file again changes nothing; a new edition of a table records "
            "what it changed. Published values their own counts do not give are listed.",
        ),
    ]:
        table = sources.add_parser(source, help=help_text, description=description)
        table.add_argument("files", nargs="+", type=Path, metavar="FILE")
        table.add_argument(
            "--as",
            dest="admin",
            metavar="EMAIL",
            help="the admin recorded as importing them (default: the system)",
        )

    project = commands.add_parser(
        "project",
        help="run the projection workers (dashboards, activity) until stopped",
        description="A worker per view; where another process already runs a view's worker, "
        "this one waits as its standby.",
    )
    project.add_argument(
        "--rebuild",
        metavar="VIEW",
        choices=sorted(VIEWS),
        help="build a new version of VIEW beside the one read, then switch reads to it",
    )
    project.add_argument(
        "--view", dest="views", action="append", choices=sorted(VIEWS), help="only these views"
    )
    project.add_argument("--batch", type=int, default=BATCH, help="events per transaction")

    verify = commands.add_parser(
        "verify",
        help="verify checkpoints and proofs, or examine the store for tampering",
        description="checkpoint, inclusion and consistency need only the files the service "
        "gave you and its public key (they are projections/verifier.py's checks); store "
        "re-derives every leaf from the stored events of TRUSTLEDGER_DATABASE_URL.",
    )
    checks = verify.add_subparsers(dest="check", required=True)
    verifier.add_checks(checks)
    checks.add_parser("store", help="re-derive every leaf and signed root from the store")

    args = parser.parse_args(argv)
    if args.command == "verify" and args.check != "store":
        return verifier.run(args)
    configure_logging()
    if args.command == "serve":
        return _serve(args.host, args.port, args.workers)
    settings = Settings()
    if args.command == "generate":
        if args.database_url is not None:
            settings = Settings(database_url=args.database_url)
        return _generate(parser, settings, args.fraction, args.years)
    if args.command == "project":
        return _project(settings, args.views or sorted(VIEWS), args.rebuild, args.batch)
    ledger = Trustledger(settings.ledger_env())
    try:
        if args.command == "verify":
            return _examine(ledger, audit_signer(settings).verifier_key, sys.stdout)
        if args.command == "import" and args.source == "dfe":
            return _import_dfe(ledger, args.files, args.admin, sys.stdout)
        if args.command == "import":
            return _import_ofsted(ledger, args.files, args.admin, sys.stdout)
        if args.command == "demo":
            from api.demo import seed_demo

            seed_demo(ledger, out=sys.stdout)
        else:
            from api.directory import add_admin

            password = os.environ.get(args.password_env) or getpass.getpass("Password: ")
            add_admin(ledger, args.email, args.name, password)
            print(f"admin {args.email} registered")
    finally:
        ledger.close()
    return 0


def _examine(ledger: Trustledger, verifier_key: str, out: TextIO) -> int:
    findings = list(examine(cast(AuditStore, ledger.recorder), verifier_key))
    for finding in findings:
        print(f"{finding.kind}: {finding.detail}", file=out)
    if findings:
        print(f"{len(findings)} findings: the store is not the history its log recorded", file=out)
        return 1
    size = cast(AuditStore, ledger.recorder).audit_size()
    print(f"every one of {size} leaves matches its stored event and every signed root", file=out)
    return 0


def _import_ofsted(ledger: Trustledger, files: list[Path], admin: str | None, out: TextIO) -> int:
    actor = SYSTEM if admin is None else _admin(ledger, admin)
    report = import_ofsted(ledger, [read_file(path) for path in files], actor)
    if not report.imported:
        print("nothing imported, because of these problems:", file=out)
        for problem in report.problems:
            print(f"{problem.file} line {problem.line}: {problem.message}", file=out)
        return 1
    for done in report.files:
        print(
            f"{done.file}: {done.rows} rows, {done.recorded} recorded, "
            f"{done.corrected} corrected, {done.unchanged} unchanged",
            file=out,
        )
    return 0


def _import_dfe(ledger: Trustledger, files: list[Path], admin: str | None, out: TextIO) -> int:
    actor = SYSTEM if admin is None else _admin(ledger, admin)
    report = import_dfe(ledger, files, actor)
    if not report.imported:
        print("nothing imported, because of these problems:", file=out)
        for problem in report.problems:
            print(f"{problem.file} line {problem.line}: {problem.message}", file=out)
        return 1
    for done in report.files:
        if done.outcome is Outcome.SKIPPED:
            print(f"{done.file}: skipped, no catalogue indicator is read from it", file=out)
            continue
        print(
            f"{done.file}: {_dfe_outcome(done)}, {done.values} values, {done.mismatches} "
            f"mismatches ({done.beyond_count_rounding} beyond the counts' rounding)",
            file=out,
        )
        _print_mismatches(report, done.file, out)
    return 0


def _dfe_outcome(done: PublicationImported) -> str:
    if done.outcome is Outcome.RESTATED:
        return f"restated ({done.added} added, {done.removed} removed, {done.changed} changed)"
    return str(done.outcome)


def _print_mismatches(report: DfeImport, file: str, out: TextIO) -> None:
    """The published values no rounding of their counts explains: shown, never hidden."""
    for mismatch in report.mismatches:
        value = mismatch.value
        if value.file == file and not mismatch.within_count_rounding:
            print(
                f"  line {value.line}: {value.indicator} {value.year} {value.name}: published "
                f"{value.value}, its counts give {mismatch.recomputed}",
                file=out,
            )


def _admin(ledger: Trustledger, email: str) -> Actor:
    """The actor an admin's account acts as, for imports recorded under their name."""
    try:
        account = ledger.get(Account.id_for(email), Account)
    except NotFound:
        raise SystemExit(f"no account {email}") from None
    if account.role is not Role.ADMIN or account.is_disabled:
        raise SystemExit(f"{email} is not an enabled admin account")
    return Actor(user_id=str(account.id), organisation_id=account.organisation_id, role=Role.ADMIN)


def _generate(
    parser: argparse.ArgumentParser, settings: Settings, fraction: float, years: int
) -> int:
    from api.national import NationalPlan, generate

    try:
        plan = NationalPlan.of(fraction, years=years)
    except ValueError as error:
        parser.error(str(error))
    env = settings.ledger_env()
    ledger = Trustledger(env)
    try:
        return generate(ledger, env, plan, sys.stdout)
    finally:
        ledger.close()


def _project(settings: Settings, views: list[str], rebuild: str | None, batch: int) -> int:
    env = settings.ledger_env()
    if rebuild is not None:
        version = request_rebuild(rebuild, env)
        print(f"rebuilding {rebuild} as version {version}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    run_workers(views, env, stop, batch=batch)
    return 0


def _serve(host: str, port: int, workers: int) -> int:
    uvicorn.run(
        "api.app:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
