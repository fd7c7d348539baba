"""Properties of RAG that hold for every value, target and tolerance, not only the contracts'.

A better value never rates worse; the target itself is green and the tolerance itself amber;
without a target, a value or a published figure there is no rating; and the two polarities are
mirror images of each other.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.errors import InvalidTolerance
from domain.indicators import Polarity, Suppression
from domain.rag import Rag, rag

EXAMPLES = settings(max_examples=300, deadline=None)

figures = st.decimals(min_value=-10_000, max_value=10_000, places=2)
polarities = st.sampled_from(Polarity)
RANK = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}


def worse_then_better(a: Decimal, b: Decimal, polarity: Polarity) -> tuple[Decimal, Decimal]:
    low, high = sorted((a, b))
    return (low, high) if polarity is Polarity.HIGHER_IS_BETTER else (high, low)


@st.composite
def targets_and_tolerances(draw: st.DrawFn) -> tuple[Decimal, Decimal | None, Polarity]:
    """A target and a tolerance on its worse side (or on it), or no tolerance at all."""
    polarity = draw(polarities)
    target = draw(figures)
    gap = draw(st.none() | st.decimals(min_value=0, max_value=5_000, places=2))
    if gap is None:
        return target, None, polarity
    tolerance = target - gap if polarity is Polarity.HIGHER_IS_BETTER else target + gap
    return target, tolerance, polarity


@EXAMPLES
@given(targets_and_tolerances(), figures, figures)
def test_a_better_value_never_rates_worse(
    bar: tuple[Decimal, Decimal | None, Polarity], a: Decimal, b: Decimal
) -> None:
    target, tolerance, polarity = bar
    worse, better = worse_then_better(a, b, polarity)

    worse_rating = rag(worse, target, tolerance, polarity)
    better_rating = rag(better, target, tolerance, polarity)

    assert RANK[worse_rating] <= RANK[better_rating]


@EXAMPLES
@given(targets_and_tolerances())
def test_the_target_is_green_and_the_tolerance_is_amber_unless_it_is_the_target(
    bar: tuple[Decimal, Decimal | None, Polarity],
) -> None:
    target, tolerance, polarity = bar

    assert rag(target, target, tolerance, polarity) is Rag.GREEN
    if tolerance is not None and tolerance != target:
        assert rag(tolerance, target, tolerance, polarity) is Rag.AMBER


@EXAMPLES
@given(targets_and_tolerances(), figures)
def test_a_value_is_green_exactly_when_it_meets_the_target(
    bar: tuple[Decimal, Decimal | None, Polarity], value: Decimal
) -> None:
    target, tolerance, polarity = bar
    meets = value >= target if polarity is Polarity.HIGHER_IS_BETTER else value <= target

    assert (rag(value, target, tolerance, polarity) is Rag.GREEN) is meets


@EXAMPLES
@given(targets_and_tolerances(), figures)
def test_amber_lies_between_the_tolerance_and_the_target_and_red_beyond_it(
    bar: tuple[Decimal, Decimal | None, Polarity], value: Decimal
) -> None:
    target, tolerance, polarity = bar
    rating = rag(value, target, tolerance, polarity)

    if tolerance is None:
        assert rating in (Rag.GREEN, Rag.RED)
    elif rating is Rag.AMBER:
        assert min(target, tolerance) <= value <= max(target, tolerance)
        assert value != target
    elif rating is Rag.RED:
        assert value < tolerance if polarity is Polarity.HIGHER_IS_BETTER else value > tolerance


@EXAMPLES
@given(targets_and_tolerances(), figures)
def test_the_polarities_are_mirror_images(
    bar: tuple[Decimal, Decimal | None, Polarity], value: Decimal
) -> None:
    target, tolerance, polarity = bar
    mirrored = next(p for p in Polarity if p is not polarity)

    assert rag(value, target, tolerance, polarity) is rag(
        -value, -target, None if tolerance is None else -tolerance, mirrored
    )


@EXAMPLES
@given(targets_and_tolerances(), st.sampled_from(Suppression) | st.none())
def test_no_figure_rates_nothing_and_nor_does_a_kpi_without_a_target(
    bar: tuple[Decimal, Decimal | None, Polarity], absent: Suppression | None
) -> None:
    target, tolerance, polarity = bar

    assert rag(absent, target, tolerance, polarity) is Rag.NONE
    assert rag(target, None, None, polarity) is Rag.NONE


@EXAMPLES
@given(figures, figures, polarities, figures)
def test_a_tolerance_on_the_better_side_of_the_target_is_refused_whatever_the_value(
    target: Decimal, tolerance: Decimal, polarity: Polarity, value: Decimal
) -> None:
    assume(tolerance > target if polarity is Polarity.HIGHER_IS_BETTER else tolerance < target)

    with pytest.raises(InvalidTolerance):
        rag(value, target, tolerance, polarity)
