"""Sign-in throttling: after repeated failures for one account from one address, refuse further
tries for a while, so that a password cannot be guessed at the speed of the network.

The count is kept in memory, per process: with N API processes an attacker gets at most N times
the allowance, and a restart forgets it. That bounds guessing well enough for accounts whose
passwords are argon2id-hashed; a shared store (the database, or a proxy's rate limit) is the
step up if the service is ever exposed to the open internet at scale. The web form and the API's
token endpoint share one throttle, so neither is a way round the other.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

# Five failures for one account from one address within fifteen minutes: enough for a person who
# mistypes, far too few to guess a password.
FAILURES_ALLOWED = 5
WINDOW_SECONDS = 15 * 60
# A bound on the memory an attacker can make the process use by trying many accounts.
MAX_TRACKED = 100_000


class SignInThrottle:
    def __init__(
        self,
        failures_allowed: int = FAILURES_ALLOWED,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self._allowed = failures_allowed
        self._window = window_seconds
        self._clock = clock
        self._max = max_tracked
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        # Handlers run in a thread pool.
        self._lock = threading.Lock()

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds until this account may be tried again from this address; None if it may now."""
        key = _key(email, address)
        with self._lock:
            failures = self._recent(key)
            if len(failures) < self._allowed:
                return None
            return max(1, int(failures[0] + self._window - self._clock()) + 1)

    def failed(self, email: str, address: str) -> None:
        key = _key(email, address)
        with self._lock:
            failures = self._recent(key)
            failures.append(self._clock())
            self._failures[key] = failures
            self._failures.move_to_end(key)
            while len(self._failures) > self._max:
                self._failures.popitem(last=False)

    def succeeded(self, email: str, address: str) -> None:
        with self._lock:
            self._failures.pop(_key(email, address), None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.get(key, deque())
        horizon = self._clock() - self._window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures


def _key(email: str, address: str) -> tuple[str, str]:
    return email.strip().casefold(), address
