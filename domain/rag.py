"""Red, amber, green: how a KPI's value stands against its contractual target and tolerance.

Trust contracts set a target and, beneath it, a tolerance: Doncaster's B13 (care leavers in
education, employment or training) had a target of 45% and a tolerance of 40%. Meeting the
target is green; falling short but no further than the tolerance is amber; beyond it is red.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from domain.errors import InvalidTolerance
from domain.indicators import Polarity, Suppression


class Rag(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "none"


def check_tolerance(target: Decimal | None, tolerance: Decimal | None, polarity: Polarity) -> None:
    """A tolerance is how far short of the target a value may fall before it is red, so it lies
    on the worse side of the target (or on it, which leaves no amber at all)."""
    if tolerance is None:
        return
    if target is None:
        raise InvalidTolerance(f"a tolerance of {tolerance} needs a target to fall short of")
    if tolerance != target and _at_least_as_good(tolerance, target, polarity):
        worse = "below" if polarity is Polarity.HIGHER_IS_BETTER else "above"
        raise InvalidTolerance(
            f"where {polarity}, the tolerance ({tolerance}) must be {worse} the target "
            f"({target}) or equal to it"
        )


def rag(
    value: Decimal | Suppression | None,
    target: Decimal | None,
    tolerance: Decimal | None,
    polarity: Polarity,
) -> Rag:
    """The rating of `value`. A suppressed or missing value, or a KPI without a target, is
    NONE: neither a pass nor a failure. A value exactly on the tolerance is still amber."""
    check_tolerance(target, tolerance, polarity)
    if target is None or value is None or isinstance(value, Suppression):
        return Rag.NONE
    if _at_least_as_good(value, target, polarity):
        return Rag.GREEN
    if tolerance is not None and _at_least_as_good(value, tolerance, polarity):
        return Rag.AMBER
    return Rag.RED


def _at_least_as_good(value: Decimal, bar: Decimal, polarity: Polarity) -> bool:
    if polarity is Polarity.HIGHER_IS_BETTER:
        return value >= bar
    return value <= bar
