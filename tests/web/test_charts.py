"""The KPI trend chart: an SVG image with words for a screen reader, scaled to its figures,
broken where a value is suppressed, and safe from whatever text it is given."""

from __future__ import annotations

import re
from decimal import Decimal

from api.web.charts import Benchmark, Point, scale, trend_chart

D = Decimal
SANDWELL_REREFERRALS = [
    Point("2020-21", D("20.8")),
    Point("2021-22", D("19.2")),
    Point("2022-23", D("22.9")),
    Point("2023-24", D("20.9")),
    Point("2024-25", D("22.7")),
]


def plotted(svg: str) -> str:
    """The chart without its legend."""
    return svg[: svg.index("<g transform")]


def test_the_chart_is_an_image_named_and_described_in_words() -> None:
    svg = trend_chart(
        "chart-a1",
        "A1 Re-referrals within 12 months",
        "percentage",
        SANDWELL_REREFERRALS,
        target=D("21.0"),
        benchmarks=[Benchmark("England (DfE 2025)", D("22.6"), "2024-25")],
    )

    assert svg is not None
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-a1-title chart-a1-desc"' in svg
    assert '<title id="chart-a1-title">A1 Re-referrals within 12 months</title>' in svg
    assert (
        '<desc id="chart-a1-desc">Values by period: 2020-21 20.8%, 2021-22 19.2%, 2022-23 22.9%, '
        "2023-24 20.9%, 2024-25 22.7%. Target: 21.0%. England (DfE 2025): 22.6%, beside "
        "2024-25.</desc>"
    ) in svg


def test_the_target_is_a_dashed_line_across_and_a_benchmark_a_marker_by_its_period() -> None:
    svg = trend_chart(
        "c",
        "t",
        "percentage",
        SANDWELL_REREFERRALS,
        target=D("21.0"),
        benchmarks=[Benchmark("England", D("22.6"), "2024-25")],
    )

    assert svg is not None
    drawing = plotted(svg)
    assert len(re.findall(r'<line x1="72" x2="600" [^>]*stroke-dasharray="10 6"/>', drawing)) == 1
    [marker] = re.findall(r'<rect x="([\d.]+)"', drawing)
    last_point = re.findall(r'<circle cx="([\d.]+)"', drawing)[-1]
    assert float(marker) + 7 == float(last_point)  # centred on the latest period


def test_a_suppressed_value_breaks_the_line_and_is_named_in_the_description() -> None:
    points = [Point("Q1", D("10")), Point("Q2", D("12")), Point("Q3", None), Point("Q4", D("11"))]

    svg = trend_chart("c", "t", "count", points)

    assert svg is not None
    assert plotted(svg).count("<polyline") == 1  # Q1 to Q2; Q4 stands alone
    assert plotted(svg).count("<circle") == 3
    assert "Q3 not published" in svg


def test_there_is_no_chart_without_a_value() -> None:
    assert trend_chart("c", "t", "count", []) is None
    assert trend_chart("c", "t", "count", [Point("Q1", None)]) is None


def test_text_given_to_the_chart_is_escaped() -> None:
    svg = trend_chart("c", "<script>alert(1)</script>", "count", [Point("<b>", D("1"))])

    assert svg is not None
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "&lt;b&gt;" in svg


def test_the_axis_takes_round_steps_covering_every_value() -> None:
    axis = scale([D("19.2"), D("22.9"), D("21.0")], "percentage")

    assert (axis.low, axis.high, axis.step) == (D("19"), D("23"), D("1"))
    assert axis.ticks == [D(19), D(20), D(21), D(22), D(23)]


def test_a_percentage_axis_stays_within_0_and_100_and_a_count_starts_at_0_or_above() -> None:
    assert scale([D("97"), D("99.5")], "percentage").high <= 100
    assert scale([D("0.4"), D("3")], "percentage").low >= 0
    assert scale([D("3"), D("40")], "count").low == 0


def test_a_flat_line_still_has_an_axis() -> None:
    axis = scale([D("5"), D("5")], "count")

    assert axis.low < 5 < axis.high
