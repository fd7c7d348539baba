"""Slow clients (slowloris): a few hundred connections that each send a request's headers a
line at a time and never finish them. Meanwhile ordinary requests are all served; their
latencies are printed beside the same requests' without the slow clients (no assertion on
time: this machine's load is not the service's)."""

from __future__ import annotations

import select
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

import pytest

from tests.api.client import Client
from tests.faults.conftest import Api, Ledger

SLOW_CLIENTS = 300
ORDINARY_REQUESTS = 200
# How often each slow client sends one more header line: often enough to look alive to a
# server that drops idle connections, never enough to finish.
TRICKLE_SECONDS = 1.0


class Slowloris:
    """Connections that trickle a request's headers, in one thread, until stopped."""

    def __init__(self, url: str, connections: int) -> None:
        address = urlsplit(url)
        assert address.hostname is not None
        assert address.port is not None
        self.sockets = [
            socket.create_connection((address.hostname, address.port), timeout=10)
            for _ in range(connections)
        ]
        for each in self.sockets:
            each.sendall(b"GET /health HTTP/1.1\r\nHost: trustledger.test\r\n")
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        line = 0
        while not self._stopping.wait(TRICKLE_SECONDS):
            line += 1
            for each in self.sockets:
                try:
                    each.sendall(f"X-Slow-{line}: still coming\r\n".encode())
                except OSError:
                    continue  # the server closed it: nothing more to trickle

    def still_open(self) -> int:
        """How many connections the server still holds open, waiting for the rest: those with
        nothing to read (an answer or a close would be readable)."""
        readable, _, _ = select.select(self.sockets, [], [], 0)
        return len(self.sockets) - len(readable)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        for each in self.sockets:
            each.close()


@pytest.fixture(scope="module")
def api(shared_postgres: Ledger) -> Api:
    return shared_postgres.api()


def timed_reads(client: Client, contract_id: str) -> list[float]:
    """Milliseconds each of the ordinary requests took, after checking it was served."""
    taken = []
    for _ in range(ORDINARY_REQUESTS):
        started = time.perf_counter()
        response = client.contract(contract_id)
        taken.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return taken


def test_ordinary_requests_are_served_while_hundreds_of_slow_clients_hold_connections(
    api: Api, shared_postgres: Ledger
) -> None:
    people = shared_postgres.people(api.url)
    commissioner: Client = people["commissioner"]
    drafted = commissioner.draft_contract(
        trust_organisation_id=people["trust_id"],
        title="Service delivery contract for children's social care",
        term={"starts": "2018-04-01", "ends": "2028-03-31", "extension_options": []},
        scope=["front-door"],
        contract_sums={"2018-19": 5_800_000_000},
    )
    assert drafted.status_code == 201, drafted.text
    contract_id = drafted.json()["id"]
    alone = timed_reads(commissioner, contract_id)

    # Given a few hundred connections trickling headers they never finish
    slow = Slowloris(api.url, SLOW_CLIENTS)
    try:
        # When a commissioner reads a contract, again and again
        # Then every read is served (timed_reads checks each one)
        beside = timed_reads(commissioner, contract_id)
        held = slow.still_open()
    finally:
        slow.stop()

    # And the slow clients were still being held open meanwhile, not turned away
    assert held == SLOW_CLIENTS
    print(
        f"\n{ORDINARY_REQUESTS} reads of a contract: alone p50 {_p(alone, 50):.1f} ms, "
        f"p99 {_p(alone, 99):.1f} ms; beside {held} slow clients p50 {_p(beside, 50):.1f} ms, "
        f"p99 {_p(beside, 99):.1f} ms"
    )


def _p(samples: list[float], percentile: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percentile - 1]
