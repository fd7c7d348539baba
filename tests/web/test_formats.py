"""Figures as a page writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from api.web.formats import day, figure, pounds, variance
from domain.indicators import Suppression


@pytest.mark.parametrize(
    ("pence", "shown"),
    [
        (5_800_000_000, "£58,000,000"),
        (123_456, "£1,234.56"),
        (5, "£0.05"),
        (-20_000_000, "\N{MINUS SIGN}£200,000"),
        (None, "Not reported"),
    ],
)
def test_money_is_pounds_from_integer_pence(pence: int | None, shown: str) -> None:
    assert pounds(pence) == shown


def test_a_variance_says_over_or_under() -> None:
    assert variance(20_000_000) == "£200,000 overspend"
    assert variance(-20_000_000) == "£200,000 underspend"
    assert variance(0) == "On budget"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (Decimal("22.7"), "percentage", "22.7%"),
        (Decimal("402.1"), "rate-per-10k", "402.1 per 10,000"),
        (Decimal("1234"), "count", "1,234"),
        (Decimal("1"), "days", "1 day"),
        (Suppression.SUPPRESSED, "percentage", "Suppressed"),
        (None, "percentage", "No value"),
    ],
)
def test_a_kpi_value_is_shown_in_its_unit_and_a_suppression_in_words(
    value: Decimal | Suppression | None, unit: str, shown: str
) -> None:
    assert figure(value, unit) == shown


def test_dates_are_written_as_gov_uk_writes_them() -> None:
    assert day(date(2018, 4, 1)) == "1 April 2018"
