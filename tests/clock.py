"""A clock for specs of anything that takes one: it moves only when a spec moves it."""

from __future__ import annotations


class Clock:
    """Seconds, like `time.monotonic`; `now` is set or advanced by the spec."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
