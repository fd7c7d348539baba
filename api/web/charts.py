"""A KPI's trend as an accessible SVG drawn on the server: its values by period against the
target line, with DfE's England and statistical neighbours' figures marked where known.

No chart framework and no JavaScript: the page is whole without them. The SVG is an image with
a <title> and a <desc> that say in words what it shows, and the page puts the same figures in a
table beside it, so nothing is conveyed by the drawing alone. Lines differ in dash as well as in
colour, and markers in shape, for people who do not see the colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from api.web.formats import figure

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 40, 16, 96  # room for the axis labels and the legend
# GOV.UK Frontend's palette: each at least 3:1 against white (WCAG 1.4.11).
BLACK, GREEN, BLUE, PURPLE, GREY = "#0b0c0c", "#00703c", "#1d70b8", "#4c2c92", "#b1b4b6"


@dataclass(frozen=True)
class Point:
    period: str
    value: Decimal | None  # None: suppressed or not published, a gap in the line


@dataclass(frozen=True)
class Benchmark:
    """A published figure for one period, e.g. England's for DfE's year of the latest return."""

    label: str  # "England (DfE 2025)"
    value: Decimal
    period: str  # the period it stands beside


_STEPS = (Decimal(1), Decimal(2), Decimal(5), Decimal(10))


@dataclass(frozen=True)
class Scale:
    low: Decimal
    high: Decimal
    step: Decimal

    @property
    def ticks(self) -> list[Decimal]:
        count = int((self.high - self.low) / self.step)
        return [self.low + self.step * i for i in range(count + 1)]


def scale(values: Sequence[Decimal], unit: str) -> Scale:
    """A y axis covering every value, in steps of 1, 2 or 5 times a power of ten, about four of
    them; a percentage axis stays within 0 to 100."""
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 1, high + 1
    raw = (high - low) / 4
    power = Decimal(10) ** math.floor(math.log10(raw))
    step = next(m * power for m in _STEPS if m * power >= raw)
    low = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step
    high = (high / step).to_integral_value(rounding="ROUND_CEILING") * step
    if unit == "percentage":
        low, high = max(low, Decimal(0)), min(high, Decimal(100))
    if unit != "percentage" and min(values) >= 0:
        low = max(low, Decimal(0))
    return Scale(low, high, step)


def trend_chart(
    chart_id: str,
    title: str,
    unit: str,
    points: Sequence[Point],
    target: Decimal | None = None,
    benchmarks: Sequence[Benchmark] = (),
) -> Markup | None:
    """The chart's SVG, or None when there is no value to draw."""
    known = [p.value for p in points if p.value is not None]
    if not known:
        return None
    axis = scale(
        [*known, *([target] if target is not None else []), *(b.value for b in benchmarks)], unit
    )
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        if len(points) == 1:
            return LEFT + plot_width / 2
        return LEFT + plot_width * index / (len(points) - 1)

    def y(value: Decimal) -> float:
        return TOP + plot_height * float((axis.high - value) / (axis.high - axis.low))

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" focusable="false" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="arial, sans-serif">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(describe(unit, points, target, benchmarks))}</desc>',
    ]
    for tick in axis.ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GREY}" stroke-width="1"/>'
            f'<text x="{LEFT - 8}" y="{y(tick) + 5:.1f}" text-anchor="end" font-size="16" '
            f'fill="{BLACK}">{escape(figure(tick.normalize() + 0, unit))}</text>'
        )
    for index, point in enumerate(points):
        parts.append(
            f'<text x="{x(index):.1f}" y="{TOP + plot_height + 24}" text-anchor="middle" '
            f'font-size="16" fill="{BLACK}">{escape(point.period)}</text>'
        )
    if target is not None:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
            f'stroke="{GREEN}" stroke-width="3" stroke-dasharray="10 6"/>'
        )
    # The trend: a line through consecutive known values, broken where one is suppressed.
    run: list[str] = []
    for index, point in enumerate([*points, Point("", None)]):
        if point.value is not None:
            run.append(f"{x(index):.1f},{y(point.value):.1f}")
            continue
        if len(run) > 1:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{BLACK}" '
                f'stroke-width="3"/>'
            )
        run = []
    for index, point in enumerate(points):
        if point.value is not None:
            parts.append(
                f'<circle cx="{x(index):.1f}" cy="{y(point.value):.1f}" r="5" fill="{BLACK}"/>'
            )
    periods = [p.period for p in points]
    for number, benchmark in enumerate(benchmarks):
        index = periods.index(benchmark.period) if benchmark.period in periods else len(points) - 1
        parts.append(_marker(number, x(index), y(benchmark.value)))
    parts.append(_legend(target is not None, benchmarks))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it passed through escape()


def describe(
    unit: str,
    points: Sequence[Point],
    target: Decimal | None,
    benchmarks: Sequence[Benchmark],
) -> str:
    """The chart in one paragraph, for a screen reader."""
    shown = ", ".join(f"{p.period} {_value(p.value, unit)}" for p in points)
    sentences = [f"Values by period: {shown}."]
    if target is not None:
        sentences.append(f"Target: {figure(target, unit)}.")
    for benchmark in benchmarks:
        sentences.append(
            f"{benchmark.label}: {figure(benchmark.value, unit)}, beside {benchmark.period}."
        )
    return " ".join(sentences)


def _value(value: Decimal | None, unit: str) -> str:
    return "not published" if value is None else figure(value, unit)


# England a square, the neighbours a diamond: told apart by shape as well as colour.
_MARKERS = ((BLUE, "square"), (PURPLE, "diamond"))


def _marker(number: int, cx: float, cy: float, size: float = 7) -> str:
    colour, shape = _MARKERS[number % len(_MARKERS)]
    if shape == "square":
        return (
            f'<rect x="{cx - size:.1f}" y="{cy - size:.1f}" width="{2 * size}" '
            f'height="{2 * size}" fill="none" stroke="{colour}" stroke-width="3"/>'
        )
    return (
        f'<polygon points="{cx:.1f},{cy - size - 2:.1f} {cx + size + 2:.1f},{cy:.1f} '
        f'{cx:.1f},{cy + size + 2:.1f} {cx - size - 2:.1f},{cy:.1f}" fill="none" '
        f'stroke="{colour}" stroke-width="3"/>'
    )


def _legend(has_target: bool, benchmarks: Sequence[Benchmark]) -> str:
    top = HEIGHT - BOTTOM + 46
    entries = [
        f'<line x1="0" x2="28" y1="0" y2="0" stroke="{BLACK}" stroke-width="3"/>'
        f'<circle cx="14" cy="0" r="5" fill="{BLACK}"/>',
    ]
    labels = ["Returned"]
    if has_target:
        entries.append(
            f'<line x1="0" x2="28" y1="0" y2="0" stroke="{GREEN}" stroke-width="3" '
            f'stroke-dasharray="10 6"/>'
        )
        labels.append("Target")
    for number, benchmark in enumerate(benchmarks):
        entries.append(_marker(number, 14, 0))
        labels.append(benchmark.label)
    parts = []
    column = 0
    row = 0
    for entry, label in zip(entries, labels, strict=True):
        width = 48 + 9 * len(label)
        if column and LEFT + column + width > WIDTH:
            column, row = 0, row + 1
        parts.append(
            f'<g transform="translate({LEFT + column},{top + 24 * row})">{entry}'
            f'<text x="36" y="5" font-size="16" fill="{BLACK}">{escape(label)}</text></g>'
        )
        column += width
    return "".join(parts)
