"""The national indicators a contract's KPIs are measured by, as DfE defines and publishes them.

A trust's return and DfE's published figure must be the same number for the same counts, so each
indicator carries DfE's rounding (half up, to the decimals its tables print) and the file it is
published in. The decimals were read from the files in shared/data/dfe: children in need and
child protection measures print one decimal place, children looked after and care leavers
measures whole numbers, and the social work workforce tables one decimal place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType

from domain.errors import InvalidFraction, UnknownIndicator


class Unit(StrEnum):
    PERCENTAGE = "percentage"
    RATE_PER_10K = "rate-per-10k"
    COUNT = "count"
    DAYS = "days"
    RATIO = "ratio"


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher-is-better"
    LOWER_IS_BETTER = "lower-is-better"


class Suppression(StrEnum):
    """Why a published figure is absent. A state of its own: never read it as 0."""

    SUPPRESSED = "c"
    NOT_AVAILABLE = "x"
    NOT_APPLICABLE = "z"
    ROUNDS_TO_ZERO = "k"
    LOW_RELIABILITY = "u"

    @classmethod
    def _missing_(cls, value: object) -> Suppression | None:
        # Files following the newer GSS symbols (the workforce census among them) write "low"
        # where the older files write "k".
        return cls.ROUNDS_TO_ZERO if value == "low" else None

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS: Mapping[Suppression, str] = MappingProxyType(
    {
        Suppression.SUPPRESSED: "suppressed to protect confidentiality",
        Suppression.NOT_AVAILABLE: "not available",
        Suppression.NOT_APPLICABLE: "not applicable",
        Suppression.ROUNDS_TO_ZERO: "rounds to 0, but is not 0",
        Suppression.LOW_RELIABILITY: "low reliability",
    }
)

# What one counted case is worth in each unit that is a fraction of two counts.
_SCALE: Mapping[Unit, int] = MappingProxyType(
    {Unit.PERCENTAGE: 100, Unit.RATE_PER_10K: 10_000, Unit.RATIO: 1}
)

# A percentage or a rate counts children out of a group they belong to, so the part cannot
# exceed the whole; a ratio (cases per social worker) can.
_PART_OF_A_WHOLE = frozenset({Unit.PERCENTAGE, Unit.RATE_PER_10K})


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    """DfE rounds half up (22.65 to 22.7), not to even as Python's round() does; a tie below
    zero goes away from zero."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Indicator:
    code: str
    title: str
    unit: Unit
    polarity: Polarity
    decimals: int
    has_fraction: bool
    definition: str
    source: str
    national: bool = True

    def value_of(self, numerator: int, denominator: int) -> Decimal:
        """The figure DfE would publish for these counts, e.g. 844 re-referrals of 3,723
        referrals is 22.7."""
        scale = _SCALE.get(self.unit)
        if not self.has_fraction or scale is None:
            raise InvalidFraction(f"{self.title} is not reported as a numerator and denominator")
        if denominator <= 0:
            raise InvalidFraction(f"{self.title} needs a denominator above 0, not {denominator}")
        if numerator < 0:
            raise InvalidFraction(f"{self.title} cannot count {numerator}: counts are not negative")
        if self.unit in _PART_OF_A_WHOLE and numerator > denominator:
            raise InvalidFraction(
                f"{self.title} counts part of a whole: {numerator} cannot be part of {denominator}"
            )
        # Whole numbers, not Decimal division: dividing first would round to 28 digits, and a
        # rounding before the published one could in principle push a figure onto a half.
        quotient, remainder = divmod(scale * numerator * 10**self.decimals, denominator)
        if 2 * remainder >= denominator:
            quotient += 1
        return Decimal(quotient).scaleb(-self.decimals)

    def rounded(self, value: Decimal) -> Decimal:
        return round_half_up(value, self.decimals)

    def agrees(self, value: Decimal, numerator: int, denominator: int) -> bool:
        """Whether a returned figure is the one its own counts make, as DfE would publish it."""
        return value == self.value_of(numerator, denominator)


_CIN_CENSUS = "the children in need census, year to 31 March"
_SSDA903 = "the children looked after return (SSDA903), year to 31 March"
_CSWW = "the children's social work workforce census, at 30 September"

# Polarity is the direction a commissioner wants the contract to push. For most measures DfE's
# own commentary agrees (fewer re-referrals, fewer children drifting on a plan, more stable
# placements). The two demand rates (children in need, children looked after) have no better
# direction in themselves: a low rate can mean unmet need. They are lower-is-better here because
# a contract that sets a target on a rate does so to bring demand safely down towards its
# statistical neighbours; a contract that wants the other direction defines a local indicator.
_INDICATORS = (
    Indicator(
        code="rereferrals_12m",
        title="Re-referrals within 12 months",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=1,
        has_fraction=True,
        definition=(
            "Referrals in the year that came within 12 months of an earlier referral of the same "
            f"child, as a percentage of all referrals in the year ({_CIN_CENSUS})."
        ),
        source="c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
    ),
    Indicator(
        code="cpp_second_or_subsequent",
        title="Child protection plans that are a second or subsequent plan",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=1,
        has_fraction=True,
        definition=(
            "Child protection plans starting in the year for a child who had been the subject "
            "of a plan before, at any time, as a percentage of all plans starting in the year "
            f"({_CIN_CENSUS})."
        ),
        source="d3_cpps_subsequent_plan_2013_to_2025.csv",
    ),
    Indicator(
        code="cpp_2_years_plus",
        title="Child protection plans lasting 2 years or more",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=1,
        has_fraction=True,
        definition=(
            "Child protection plans open at 31 March that had then lasted 2 years or more, as a "
            f"percentage of all plans open at 31 March ({_CIN_CENSUS})."
        ),
        source="d5_cpps_at31march_by_duration_2013_to_2025.csv",
    ),
    Indicator(
        code="cla_3_plus_placements",
        title="Children looked after with 3 or more placements in the year",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=0,
        has_fraction=True,
        definition=(
            "Children looked after at 31 March who had 3 or more separate placements during the "
            f"year, as a percentage of all children looked after at 31 March ({_SSDA903})."
        ),
        source="la_cla_placement_stability.csv",
    ),
    Indicator(
        code="cla_long_term_stability",
        title="Long-term placement stability",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.HIGHER_IS_BETTER,
        decimals=0,
        has_fraction=True,
        definition=(
            "Children under 16 at 31 March who had been looked after continuously for at least "
            "2.5 years and had lived in the same placement, or been placed for adoption with the "
            "same carers, for at least 2 years, as a percentage of all children under 16 looked "
            f"after continuously for at least 2.5 years ({_SSDA903})."
        ),
        source="la_cla_placement_stability.csv",
    ),
    Indicator(
        code="care_leavers_19_21_eet",
        title="Care leavers aged 19 to 21 in education, employment or training",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.HIGHER_IS_BETTER,
        decimals=0,
        has_fraction=True,
        definition=(
            "Care leavers aged 19, 20 or 21 (looked after for at least 13 weeks from the age of "
            "14, some of it after turning 16) who were in education, employment or training "
            "around their birthday, as a percentage of all care leavers of that age, including "
            f"those the authority had no information on ({_SSDA903})."
        ),
        source="la_care_leavers_activity.csv",
    ),
    Indicator(
        code="care_leavers_19_21_suitable_accommodation",
        title="Care leavers aged 19 to 21 in suitable accommodation",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.HIGHER_IS_BETTER,
        decimals=0,
        has_fraction=True,
        definition=(
            "Care leavers aged 19, 20 or 21 whose accommodation around their birthday was "
            "considered suitable, as a percentage of all care leavers of that age, including "
            f"those the authority had no information on ({_SSDA903})."
        ),
        source="la_care_leavers_accommodation_suitability.csv",
    ),
    Indicator(
        code="cin_rate_per_10k",
        title="Children in need per 10,000 children",
        unit=Unit.RATE_PER_10K,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=1,
        has_fraction=True,
        definition=(
            "Children in need at 31 March per 10,000 children aged under 18 in the ONS mid-year "
            f"population estimate ({_CIN_CENSUS}). The b1 file publishes the count at 31 March "
            "but no rate: the rate is derived from that count and the population estimate (the "
            "one printed beside the looked-after rate), rounded to 1 decimal place as DfE's "
            "children in need tables print rates."
        ),
        source="b1_children_in_need_2013_to_2025.csv",
    ),
    Indicator(
        code="cla_rate_per_10k",
        title="Children looked after per 10,000 children",
        unit=Unit.RATE_PER_10K,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=0,
        has_fraction=True,
        definition=(
            "Children looked after at 31 March per 10,000 children aged under 18 in the ONS "
            f"mid-year population estimate ({_SSDA903})."
        ),
        source="cla_number_and_rate_per_10k_children.csv",
    ),
    # The workforce measures are fractions of full-time equivalents (269.9 social workers, say),
    # not of whole counts, so a return carries DfE's published rate alone.
    Indicator(
        code="sw_turnover_rate",
        title="Social worker turnover rate",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=1,
        has_fraction=False,
        definition=(
            "Full-time equivalent children and family social workers who left the authority in "
            "the year to 30 September, as a percentage of those in post at 30 September "
            f"({_CSWW})."
        ),
        source="csww_indicators_2017_to_2025.csv",
    ),
    Indicator(
        code="sw_agency_rate",
        title="Agency social worker rate",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=1,
        has_fraction=False,
        definition=(
            "Full-time equivalent agency children and family social workers at 30 September, as "
            f"a percentage of agency and employed social workers together ({_CSWW})."
        ),
        source="csww_indicators_2017_to_2025.csv",
    ),
    Indicator(
        code="sw_vacancy_rate",
        title="Social worker vacancy rate",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=1,
        has_fraction=False,
        definition=(
            "Full-time equivalent vacant children and family social worker posts at 30 "
            "September, as a percentage of vacancies and employed social workers together "
            f"({_CSWW})."
        ),
        source="csww_indicators_2017_to_2025.csv",
    ),
    Indicator(
        code="sw_caseload",
        title="Average social worker caseload",
        unit=Unit.RATIO,
        polarity=Polarity.LOWER_IS_BETTER,
        decimals=1,
        has_fraction=False,
        definition=(
            "Cases held by children and family social workers at 30 September, divided by the "
            f"full-time equivalent social workers holding cases ({_CSWW})."
        ),
        source="csww_indicators_2017_to_2025.csv",
    ),
    # DfE publishes this nationally from the children in need census, but it is not among the
    # shared files: the trust reports it from its own case records, counted DfE's way.
    Indicator(
        code="assessments_45_working_days",
        title="Assessments completed within 45 working days",
        unit=Unit.PERCENTAGE,
        polarity=Polarity.HIGHER_IS_BETTER,
        decimals=1,
        has_fraction=True,
        definition=(
            "Children and family assessments completed in the year within 45 working days of "
            "the referral that led to them, the longest Working Together to Safeguard Children "
            "allows, as a percentage of all assessments completed in the year "
            f"({_CIN_CENSUS})."
        ),
        source="local returns (DfE CIN census definition)",
    ),
)

CATALOGUE: Mapping[str, Indicator] = MappingProxyType(
    {indicator.code: indicator for indicator in _INDICATORS}
)


def national_indicator(code: str) -> Indicator:
    try:
        return CATALOGUE[code]
    except KeyError:
        raise UnknownIndicator(f"{code!r} is not an indicator in the national catalogue") from None
