"""Sign-in throttling: five failures for an account from an address within fifteen minutes,
then nothing until the oldest of them is fifteen minutes old."""

from __future__ import annotations

from api.throttle import SignInThrottle
from tests.clock import Clock


def test_five_failures_hold_the_account_at_that_address_until_the_window_passes() -> None:
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for _ in range(4):
        throttle.failed("Someone@Council.test", "10.0.0.1")
        clock.now += 60
    assert throttle.retry_after("someone@council.test", "10.0.0.1") is None

    throttle.failed("someone@council.test", "10.0.0.1")

    # The first failure, at 1000, leaves the window at 1000 + 900.
    assert throttle.retry_after("someone@council.test", "10.0.0.1") == 1000 + 900 - clock.now + 1
    assert throttle.retry_after("someone@council.test", "10.0.0.2") is None
    assert throttle.retry_after("other@council.test", "10.0.0.1") is None
    clock.now = 1000 + 900
    assert throttle.retry_after("someone@council.test", "10.0.0.1") is None


def test_a_success_clears_the_failures() -> None:
    throttle = SignInThrottle(clock=Clock())
    for _ in range(4):
        throttle.failed("someone@council.test", "10.0.0.1")

    throttle.succeeded("someone@council.test", "10.0.0.1")
    throttle.failed("someone@council.test", "10.0.0.1")

    assert throttle.retry_after("someone@council.test", "10.0.0.1") is None


def test_the_number_of_accounts_tracked_is_bounded() -> None:
    throttle = SignInThrottle(clock=Clock(), max_tracked=2)
    for email in ("a@x.test", "b@x.test", "c@x.test"):
        for _ in range(5):
            throttle.failed(email, "10.0.0.1")

    assert throttle.retry_after("a@x.test", "10.0.0.1") is None  # forgotten, the oldest
    assert throttle.retry_after("c@x.test", "10.0.0.1") is not None
