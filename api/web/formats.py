"""How figures read on a page: money from integer pence, KPI values in their unit, dates as
GOV.UK writes them ("1 April 2018"), and the ledger's words as a page's sentences."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.indicators import Suppression

# Words for DfE's suppression codes, so that a page never shows a bare letter.
_SUPPRESSED = {
    Suppression.SUPPRESSED: "Suppressed",
    Suppression.NOT_AVAILABLE: "Not available",
    Suppression.NOT_APPLICABLE: "Not applicable",
    Suppression.ROUNDS_TO_ZERO: "Rounds to 0",
    Suppression.LOW_RELIABILITY: "Low reliability",
}


def pounds(pence: int | None) -> str:
    """£1,234.56 from 123456 pence; whole pounds drop the pence (£5,000,000)."""
    if pence is None:
        return "Not reported"
    # A minus sign, not a hyphen, as GOV.UK's style guide writes negative amounts.
    sign = "\N{MINUS SIGN}" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}" + (f".{part:02d}" if part else "")


def variance(pence: int | None) -> str:
    """A forecast against its contract sum, in words as well as the sign."""
    if pence is None:
        return "Not reported"
    if pence == 0:
        return "On budget"
    return f"{pounds(abs(pence))} {'overspend' if pence > 0 else 'underspend'}"


def figure(value: Decimal | Suppression | None, unit: str) -> str:
    """A KPI value in its unit: 22.7%, 402.1 per 10,000, 1,234, 21 days."""
    if value is None:
        return "No value"
    if isinstance(value, Suppression):
        return _SUPPRESSED[value]
    text = f"{value:,f}"
    if unit == "percentage":
        return f"{text}%"
    if unit == "rate-per-10k":
        return f"{text} per 10,000"
    if unit == "days":
        return f"{text} day{'s' * (value != 1)}"
    return text


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


# Every time a page shows is UK time, as the contract reckons its days.
UK = ZoneInfo("Europe/London")


def moment(value: datetime) -> str:
    """An instant in UK time to the second: "23:59:59 on 31 March 2022". An auditor compares it
    with other records, so it is never rounded to the minute."""
    local = value.astimezone(UK)
    return f"{local:%H:%M:%S} on {day(local)}"


def words(value: object) -> str:
    """An enum's value as words: "plan_submitted" → "Plan submitted"."""
    return sentence(str(getattr(value, "value", value)).replace("_", " ").replace("-", " "))


def sentence(text: str) -> str:
    """A refusal's detail, or a phrase, as the start of a page's sentence: capitalised, without
    a closing full stop, which GOV.UK's error messages do not have."""
    return text[:1].upper() + text[1:].rstrip(".")


_INSPECTIONS = {
    "pre_sif": "Inspection before the single inspection framework",
    "sif": "Single inspection framework (SIF) inspection",
    "sif_reinspection": "SIF re-inspection",
    "ilacs": "ILACS inspection",
    "ilacs_standard": "ILACS standard inspection",
    "ilacs_short": "ILACS short inspection",
    "focused_visit": "Focused visit",
    "monitoring_visit": "Monitoring visit",
}


def inspection(kind: object) -> str:
    """An inspection's kind as Ofsted names it."""
    value = str(getattr(kind, "value", kind))
    return _INSPECTIONS.get(value, words(value))
