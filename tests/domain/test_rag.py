"""RAG ratings against a KPI's target and tolerance, at every boundary and in both directions.

Doncaster's B13 (care leavers in education, employment or training) is the worked example:
target 45%, tolerance 40%, higher is better.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidCommand, InvalidTolerance
from domain.indicators import Polarity, Suppression
from domain.rag import Rag, check_tolerance, rag

HIGHER = Polarity.HIGHER_IS_BETTER
LOWER = Polarity.LOWER_IS_BETTER

B13_TARGET, B13_TOLERANCE = Decimal(45), Decimal(40)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100", Rag.GREEN),
        ("45.1", Rag.GREEN),
        ("45", Rag.GREEN),
        ("45.0", Rag.GREEN),
        ("44.9", Rag.AMBER),
        ("40.1", Rag.AMBER),
        ("40", Rag.AMBER),
        ("39.9", Rag.RED),
        ("0", Rag.RED),
    ],
)
def test_doncasters_b13_is_green_at_target_amber_to_the_tolerance_and_red_beyond(
    value: str, expected: Rag
) -> None:
    assert rag(Decimal(value), B13_TARGET, B13_TOLERANCE, HIGHER) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", Rag.GREEN),
        ("19.9", Rag.GREEN),
        ("20", Rag.GREEN),
        ("20.1", Rag.AMBER),
        ("24.9", Rag.AMBER),
        ("25", Rag.AMBER),
        ("25.1", Rag.RED),
        ("100", Rag.RED),
    ],
)
def test_where_lower_is_better_a_re_referral_rate_above_tolerance_is_red(
    value: str, expected: Rag
) -> None:
    assert rag(Decimal(value), Decimal(20), Decimal(25), LOWER) is expected


@pytest.mark.parametrize(
    ("value", "polarity", "expected"),
    [
        ("45", HIGHER, Rag.GREEN),
        ("44.9", HIGHER, Rag.RED),
        ("20", LOWER, Rag.GREEN),
        ("20.1", LOWER, Rag.RED),
    ],
)
def test_without_a_tolerance_anything_short_of_target_is_red(
    value: str, polarity: Polarity, expected: Rag
) -> None:
    target = Decimal(45) if polarity is HIGHER else Decimal(20)
    assert rag(Decimal(value), target, None, polarity) is expected


@pytest.mark.parametrize(
    ("value", "polarity", "expected"),
    [
        ("45", HIGHER, Rag.GREEN),
        ("44.9", HIGHER, Rag.RED),
        ("45", LOWER, Rag.GREEN),
        ("45.1", LOWER, Rag.RED),
    ],
)
def test_a_tolerance_equal_to_the_target_leaves_no_amber(
    value: str, polarity: Polarity, expected: Rag
) -> None:
    assert rag(Decimal(value), Decimal(45), Decimal(45), polarity) is expected


@pytest.mark.parametrize("value", [*list(Suppression), None])
@pytest.mark.parametrize("polarity", list(Polarity))
def test_a_suppressed_or_missing_value_has_no_rating(
    value: Suppression | None, polarity: Polarity
) -> None:
    target, tolerance = (
        (B13_TARGET, B13_TOLERANCE) if polarity is HIGHER else (B13_TOLERANCE, B13_TARGET)
    )
    assert rag(value, target, tolerance, polarity) is Rag.NONE


@pytest.mark.parametrize("polarity", list(Polarity))
def test_a_kpi_without_a_target_has_no_rating(polarity: Polarity) -> None:
    assert rag(Decimal(0), None, None, polarity) is Rag.NONE


@pytest.mark.parametrize(
    ("target", "tolerance", "polarity"),
    [
        ("45", "45.1", HIGHER),
        ("45", "50", HIGHER),
        ("20", "19.9", LOWER),
        ("20", "0", LOWER),
        (None, "40", HIGHER),
        (None, "25", LOWER),
    ],
)
def test_a_tolerance_on_the_better_side_of_its_target_or_without_one_is_refused(
    target: str | None, tolerance: str, polarity: Polarity
) -> None:
    bar = None if target is None else Decimal(target)
    with pytest.raises(InvalidTolerance):
        check_tolerance(bar, Decimal(tolerance), polarity)
    with pytest.raises(InvalidTolerance):
        rag(Decimal(30), bar, Decimal(tolerance), polarity)
    with pytest.raises(InvalidTolerance):
        rag(None, bar, Decimal(tolerance), polarity)
    assert issubclass(InvalidTolerance, InvalidCommand)


@pytest.mark.parametrize(
    ("target", "tolerance", "polarity"),
    [
        ("45", "40", HIGHER),
        ("45", "45", HIGHER),
        ("45", None, HIGHER),
        ("20", "25", LOWER),
        ("20", "20", LOWER),
        (None, None, LOWER),
    ],
)
def test_a_tolerance_on_the_worse_side_of_its_target_is_accepted(
    target: str | None, tolerance: str | None, polarity: Polarity
) -> None:
    check_tolerance(
        None if target is None else Decimal(target),
        None if tolerance is None else Decimal(tolerance),
        polarity,
    )


_RANK = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}

numbers = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)


@st.composite
def kpis(draw: st.DrawFn) -> tuple[Decimal, Decimal | None, Polarity]:
    """A target and a tolerance (or none) on the target's worse side, and the direction."""
    polarity = draw(st.sampled_from(list(Polarity)))
    target = draw(numbers)
    shortfall = draw(st.none() | st.decimals(min_value=0, max_value=500, places=2))
    if shortfall is None:
        return target, None, polarity
    return target, target - shortfall if polarity is HIGHER else target + shortfall, polarity


@settings(max_examples=300, deadline=None)
@given(kpi=kpis(), value=numbers, improvement=st.decimals(min_value=0, max_value=500, places=2))
def test_improving_a_value_never_worsens_its_rating(
    kpi: tuple[Decimal, Decimal | None, Polarity], value: Decimal, improvement: Decimal
) -> None:
    target, tolerance, polarity = kpi
    better = value + improvement if polarity is HIGHER else value - improvement
    before = rag(value, target, tolerance, polarity)
    after = rag(better, target, tolerance, polarity)
    assert _RANK[after] >= _RANK[before]


@settings(max_examples=300, deadline=None)
@given(kpi=kpis(), value=numbers)
def test_negating_everything_and_swapping_the_direction_keeps_the_rating(
    kpi: tuple[Decimal, Decimal | None, Polarity], value: Decimal
) -> None:
    target, tolerance, polarity = kpi
    swapped = LOWER if polarity is HIGHER else HIGHER
    negated = None if tolerance is None else -tolerance
    assert rag(value, target, tolerance, polarity) is rag(-value, -target, negated, swapped)


@settings(max_examples=300, deadline=None)
@given(kpi=kpis(), value=numbers)
def test_a_value_with_a_target_is_always_rated(
    kpi: tuple[Decimal, Decimal | None, Polarity], value: Decimal
) -> None:
    target, tolerance, polarity = kpi
    assert rag(value, target, tolerance, polarity) in _RANK
