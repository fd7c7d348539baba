"""How far each view is behind the ledger, for `/metrics` and `/health`.

The API process samples each view's position and the log's head whenever it is asked
(`LagMonitor.observe`); rates come from the samples of the last `window` seconds, and a view is
stalled when it is behind and its position has not moved for `stall_after` seconds. Nothing is
kept in the database: any API process can answer, from its own samples.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from projections.view_store import ViewStore

# Prometheus scrapes every 15 s or so: a minute holds a few samples to take a rate over.
WINDOW_SECONDS = 60.0
# A healthy worker moves within a batch's time; half a minute behind and still is not healthy.
STALL_SECONDS = 30.0


@dataclass(frozen=True)
class Lag:
    view: str
    version: int  # the version read
    position: int  # the last log position the version read has taken in
    head: int  # the ledger's last position
    rebuilding: int | None  # the version being rebuilt, if any
    rebuild_position: int | None
    events_per_second: float | None  # over the window; None until two samples span time
    stalled: bool

    @property
    def behind(self) -> int:
        return max(0, self.head - self.position)


class LagMonitor:
    def __init__(
        self,
        store: ViewStore,
        head: Callable[[], int | None],
        views: Iterable[str],
        *,
        window: float = WINDOW_SECONDS,
        stall_after: float = STALL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._head = head
        self._views = tuple(views)
        self._window = window
        self._stall_after = stall_after
        self._clock = clock
        self._samples: dict[str, deque[tuple[float, int]]] = {v: deque() for v in self._views}
        self._moved_at: dict[str, tuple[float, int]] = {}

    def observe(self) -> list[Lag]:
        head = self._head() or 0
        now = self._clock()
        return [self._lag(view, head, now) for view in self._views]

    def _lag(self, view: str, head: int, now: float) -> Lag:
        versions = self._store.versions(view)
        position = self._store.tracked(view, versions.current)
        samples = self._samples[view]
        samples.append((now, position))
        while len(samples) > 2 and now - samples[1][0] >= self._window:
            samples.popleft()
        first_at, first_position = samples[0]
        rate = (position - first_position) / (now - first_at) if now > first_at else None
        moved_at, last = self._moved_at.get(view, (now, position))
        if position != last:
            moved_at = now
        self._moved_at[view] = (moved_at, position)
        return Lag(
            view=view,
            version=versions.current,
            position=position,
            head=head,
            rebuilding=versions.building,
            rebuild_position=None
            if versions.building is None
            else self._store.tracked(view, versions.building),
            events_per_second=rate,
            stalled=position < head and now - moved_at >= self._stall_after,
        )


def prometheus_text(lags: Sequence[Lag]) -> str:
    """The figures in Prometheus's text exposition format (version 0.0.4)."""
    metrics: list[tuple[str, str, str, Callable[[Lag], float | None]]] = [
        (
            "trustledger_view_position",
            "gauge",
            "Last log position the view read has taken in.",
            lambda lag: lag.position,
        ),
        (
            "trustledger_view_events_behind",
            "gauge",
            "Log positions the view is behind the head.",
            lambda lag: lag.behind,
        ),
        (
            "trustledger_view_events_per_second",
            "gauge",
            "Positions taken in per second over the recent window.",
            lambda lag: lag.events_per_second,
        ),
        (
            "trustledger_view_stalled",
            "gauge",
            "1 if the view is behind and has not moved lately.",
            lambda lag: int(lag.stalled),
        ),
        (
            "trustledger_view_rebuild_position",
            "gauge",
            "Last log position the version being rebuilt has taken in.",
            lambda lag: lag.rebuild_position,
        ),
    ]
    lines: list[str] = []
    if lags:
        lines += [
            "# HELP trustledger_ledger_head The ledger's last log position.",
            "# TYPE trustledger_ledger_head gauge",
            f"trustledger_ledger_head {lags[0].head}",
        ]
    for name, kind, help_text, value in metrics:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        for lag in lags:
            figure = value(lag)
            if figure is not None:
                lines.append(f'{name}{{view="{lag.view}"}} {_number(figure)}')
    return "\n".join(lines) + "\n"


def _number(figure: float) -> str:
    # Positions are exact integers; "%g" would print a large one as 1.2e+06.
    return str(figure) if isinstance(figure, int) else f"{figure:.3f}"


def stalled(lags: Iterable[Lag]) -> list[str]:
    """The views `/health` should report as stalled."""
    return [lag.view for lag in lags if lag.stalled]
