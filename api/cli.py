"""The `trustledger` command: serve the API, seed the demo, add the first admin."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

import uvicorn

from api.logs import configure_logging
from api.settings import Settings
from domain.application import Trustledger


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trustledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)

    commands.add_parser("demo", help="seed the demo scenario (running it again adds nothing)")

    admin = commands.add_parser("add-admin", help="register an admin account")
    admin.add_argument("email")
    admin.add_argument("--name", default="Administrator")
    admin.add_argument(
        "--password-env",
        default="TRUSTLEDGER_ADMIN_PASSWORD",
        help="environment variable holding the password (asked for if unset)",
    )

    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "serve":
        return _serve(args.host, args.port, args.workers)
    settings = Settings()
    ledger = Trustledger(settings.ledger_env())
    try:
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


def _serve(host: str, port: int, workers: int) -> int:
    uvicorn.run(
        "api.app:create_app",
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
