"""The national indicators: a return's figure is DfE's figure for the same counts, to the digit.

The counts are Sandwell's, year to 31 March 2025, from the DfE files in shared/data/dfe; each
published figure is the one printed beside them.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidCommand, InvalidFraction, UnknownIndicator
from domain.indicators import (
    CATALOGUE,
    Indicator,
    Polarity,
    Suppression,
    Unit,
    national_indicator,
    round_half_up,
)
from tests.domain.transcoded import transcoded

HIGHER = Polarity.HIGHER_IS_BETTER
LOWER = Polarity.LOWER_IS_BETTER


@pytest.mark.parametrize(
    ("code", "numerator", "denominator", "published"),
    [
        ("rereferrals_12m", 844, 3723, "22.7"),
        ("cpp_second_or_subsequent", 129, 418, "30.9"),
        ("cpp_2_years_plus", 12, 357, "3.4"),
        ("cla_long_term_stability", 240, 380, "63"),
        ("cla_3_plus_placements", 76, 816, "9"),
        ("care_leavers_19_21_eet", 98, 236, "42"),
        ("care_leavers_19_21_suitable_accommodation", 201, 231, "87"),
        ("cla_rate_per_10k", 816, 88593, "92"),
        # b1 prints no rate: 2,775 children in need at 31 March over the 88,593 under-18s
        # beside the looked-after rate.
        ("cin_rate_per_10k", 2775, 88593, "313.2"),
    ],
)
def test_sandwells_2025_counts_make_exactly_the_published_figures(
    code: str, numerator: int, denominator: int, published: str
) -> None:
    figure = national_indicator(code).value_of(numerator, denominator)
    assert str(figure) == published
    assert national_indicator(code).agrees(Decimal(published), numerator, denominator)


@pytest.mark.parametrize(
    ("code", "unit", "polarity", "decimals", "source"),
    [
        ("rereferrals_12m", Unit.PERCENTAGE, LOWER, 1,
         "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"),
        ("cpp_second_or_subsequent", Unit.PERCENTAGE, LOWER, 1,
         "d3_cpps_subsequent_plan_2013_to_2025.csv"),
        ("cpp_2_years_plus", Unit.PERCENTAGE, LOWER, 1,
         "d5_cpps_at31march_by_duration_2013_to_2025.csv"),
        ("cla_3_plus_placements", Unit.PERCENTAGE, LOWER, 0, "la_cla_placement_stability.csv"),
        ("cla_long_term_stability", Unit.PERCENTAGE, HIGHER, 0, "la_cla_placement_stability.csv"),
        ("care_leavers_19_21_eet", Unit.PERCENTAGE, HIGHER, 0, "la_care_leavers_activity.csv"),
        ("care_leavers_19_21_suitable_accommodation", Unit.PERCENTAGE, HIGHER, 0,
         "la_care_leavers_accommodation_suitability.csv"),
        ("cin_rate_per_10k", Unit.RATE_PER_10K, LOWER, 1, "b1_children_in_need_2013_to_2025.csv"),
        ("cla_rate_per_10k", Unit.RATE_PER_10K, LOWER, 0,
         "cla_number_and_rate_per_10k_children.csv"),
        ("sw_turnover_rate", Unit.PERCENTAGE, LOWER, 1, "csww_indicators_2017_to_2025.csv"),
        ("sw_agency_rate", Unit.PERCENTAGE, LOWER, 1, "csww_indicators_2017_to_2025.csv"),
        ("sw_vacancy_rate", Unit.PERCENTAGE, LOWER, 1, "csww_indicators_2017_to_2025.csv"),
        ("sw_caseload", Unit.RATIO, LOWER, 1, "csww_indicators_2017_to_2025.csv"),
        ("assessments_45_working_days", Unit.PERCENTAGE, HIGHER, 1,
         "local returns (DfE CIN census definition)"),
    ],
)  # fmt: skip
def test_the_catalogue_follows_the_published_files(
    code: str, unit: Unit, polarity: Polarity, decimals: int, source: str
) -> None:
    indicator = national_indicator(code)
    assert (indicator.code, indicator.unit, indicator.polarity) == (code, unit, polarity)
    assert (indicator.decimals, indicator.source, indicator.national) == (decimals, source, True)
    assert indicator.title.strip()
    assert indicator.definition.strip()


@pytest.mark.parametrize(
    "code", ["sw_turnover_rate", "sw_agency_rate", "sw_vacancy_rate", "sw_caseload"]
)
def test_workforce_measures_are_returned_as_the_published_rate_without_counts(code: str) -> None:
    # DfE divides full-time equivalents (269.9 social workers), not whole counts.
    indicator = national_indicator(code)
    assert not indicator.has_fraction
    with pytest.raises(InvalidFraction):
        indicator.value_of(30, 270)


def test_every_other_national_measure_is_returned_with_its_counts() -> None:
    workforce = {"sw_turnover_rate", "sw_agency_rate", "sw_vacancy_rate", "sw_caseload"}
    assert {code for code, i in CATALOGUE.items() if i.has_fraction} == set(CATALOGUE) - workforce


@pytest.mark.parametrize(
    ("value", "decimals", "rounded"),
    [
        ("22.65", 1, "22.7"),
        ("22.64999", 1, "22.6"),
        ("22.75", 1, "22.8"),
        ("62.5", 0, "63"),
        ("63.49", 0, "63"),
        ("0.05", 1, "0.1"),
        ("0.04", 1, "0.0"),
        ("-2.5", 0, "-3"),
        ("15", 1, "15.0"),
    ],
)
def test_rounding_is_half_up_not_half_to_even(value: str, decimals: int, rounded: str) -> None:
    assert str(round_half_up(Decimal(value), decimals)) == rounded


@pytest.mark.parametrize(
    ("code", "numerator", "denominator", "figure"),
    [
        ("rereferrals_12m", 453, 2000, "22.7"),  # 22.65 exactly
        ("rereferrals_12m", 4529, 20000, "22.6"),  # 22.645
        ("cla_long_term_stability", 1, 8, "13"),  # 12.5 exactly: round() would give 12
        ("cla_long_term_stability", 3, 8, "38"),  # 37.5 exactly
        ("cla_rate_per_10k", 1, 20000, "1"),  # 0.5 per 10,000
        ("cla_rate_per_10k", 0, 20000, "0"),
        ("rereferrals_12m", 3723, 3723, "100.0"),
    ],
)
def test_a_figure_exactly_on_a_half_rounds_up(
    code: str, numerator: int, denominator: int, figure: str
) -> None:
    assert str(national_indicator(code).value_of(numerator, denominator)) == figure


@pytest.mark.parametrize(
    ("returned", "agrees"),
    [("22.7", True), ("22.70", True), ("22.6", False), ("22.8", False), ("22.67", False)],
)
def test_a_returned_figure_must_be_the_one_its_counts_make(returned: str, agrees: bool) -> None:
    assert national_indicator("rereferrals_12m").agrees(Decimal(returned), 844, 3723) is agrees


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [(0, 0), (844, 0), (844, -3723), (-1, 3723), (3724, 3723)],
)
def test_counts_that_cannot_make_a_percentage_are_refused(numerator: int, denominator: int) -> None:
    with pytest.raises(InvalidFraction):
        national_indicator("rereferrals_12m").value_of(numerator, denominator)
    assert issubclass(InvalidFraction, InvalidCommand)


def test_a_ratio_may_count_more_cases_than_social_workers() -> None:
    caseload = Indicator(
        code="local_caseload",
        title="Cases per case-holding social worker",
        unit=Unit.RATIO,
        polarity=LOWER,
        decimals=1,
        has_fraction=True,
        definition="Open cases over case-holding social workers, by head.",
        source="local",
        national=False,
    )
    assert caseload.value_of(2505, 165) == Decimal("15.2")


@pytest.mark.parametrize("unit", [Unit.COUNT, Unit.DAYS])
def test_a_count_or_a_number_of_days_is_not_a_fraction(unit: Unit) -> None:
    indicator = Indicator(
        code="local_measure",
        title="A local measure",
        unit=unit,
        polarity=LOWER,
        decimals=0,
        has_fraction=True,
        definition="A local measure.",
        source="local",
        national=False,
    )
    with pytest.raises(InvalidFraction):
        indicator.value_of(1, 2)


def test_an_indicator_rounds_a_value_to_its_published_decimals() -> None:
    assert national_indicator("cla_long_term_stability").rounded(Decimal("62.5")) == Decimal(63)
    assert str(national_indicator("rereferrals_12m").rounded(Decimal("22.65"))) == "22.7"


@pytest.mark.parametrize("code", ["", "CSC-03", "Rereferrals_12m", "rereferrals_12m "])
def test_an_unknown_indicator_code_is_refused(code: str) -> None:
    with pytest.raises(UnknownIndicator):
        national_indicator(code)
    assert issubclass(UnknownIndicator, InvalidCommand)


def test_the_catalogue_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        CATALOGUE["rereferrals_12m"] = CATALOGUE["cpp_2_years_plus"]  # type: ignore[index]


def test_the_catalogue_is_keyed_by_each_indicators_own_code() -> None:
    assert all(code == indicator.code for code, indicator in CATALOGUE.items())


@pytest.mark.parametrize(
    ("code", "suppression", "meaning"),
    [
        ("c", Suppression.SUPPRESSED, "suppressed to protect confidentiality"),
        ("x", Suppression.NOT_AVAILABLE, "not available"),
        ("z", Suppression.NOT_APPLICABLE, "not applicable"),
        ("k", Suppression.ROUNDS_TO_ZERO, "rounds to 0, but is not 0"),
        ("low", Suppression.ROUNDS_TO_ZERO, "rounds to 0, but is not 0"),
        ("u", Suppression.LOW_RELIABILITY, "low reliability"),
    ],
)
def test_a_suppression_code_reads_as_a_state_with_dfes_meaning(
    code: str, suppression: Suppression, meaning: str
) -> None:
    assert Suppression(code) is suppression
    assert suppression.meaning == meaning


@pytest.mark.parametrize("code", ["0", "", "C", ":", "n/a"])
def test_anything_else_is_not_a_suppression_code(code: str) -> None:
    with pytest.raises(ValueError, match="is not a valid Suppression"):
        Suppression(code)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_an_indicator_is_stored_and_read_back_exactly(code: str) -> None:
    restored = transcoded(CATALOGUE[code])
    assert restored == CATALOGUE[code]
    assert isinstance(restored.unit, Unit)
    assert isinstance(restored.polarity, Polarity)


@pytest.mark.parametrize("suppression", list(Suppression))
def test_a_suppression_is_stored_as_its_dfe_code(suppression: Suppression) -> None:
    # JSON writes a StrEnum as its bare value, so whoever replays one re-types it.
    stored = transcoded(suppression)
    assert stored == suppression.value
    assert Suppression(stored) is suppression


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    denominator = draw(st.integers(min_value=1, max_value=10**7))
    return draw(st.integers(min_value=0, max_value=denominator)), denominator


@settings(max_examples=300, deadline=None)
@given(
    code=st.sampled_from(sorted(c for c, i in CATALOGUE.items() if i.has_fraction)), n_d=counts()
)
def test_a_figure_is_its_exact_fraction_rounded_half_up(code: str, n_d: tuple[int, int]) -> None:
    numerator, denominator = n_d
    indicator = national_indicator(code)
    scale = 100 if indicator.unit is Unit.PERCENTAGE else 10_000
    with localcontext() as exact:
        exact.prec = 60
        expected = round_half_up(
            Decimal(scale * numerator) / Decimal(denominator), indicator.decimals
        )
    figure = indicator.value_of(numerator, denominator)
    assert figure == expected
    assert figure.as_tuple().exponent == -indicator.decimals
    assert indicator.rounded(figure) == figure
    assert indicator.agrees(figure, numerator, denominator)
