"""Specifications of a local authority's record of statutory intervention: each intervention kept
with who made it, when it took effect, what it required and the document that says so; a date
no more precise than its source; one record of each intervention; corrections that keep both
values and say why.

The facts are Sandwell's, as reported at the time: the children's services commissioner's review
reported in July 2016, and the Secretary of State's direction of October 2016 to bring forward
plans for a trust by 1 December 2016.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import (
    InterventionAlreadyRecorded,
    InterventionUnchanged,
    InvalidDate,
    InvalidIntervention,
    InvalidOrganisation,
    MissingDetail,
    MissingReason,
    NotFound,
)
from domain.ledger import ledger_id
from domain.local_authority_record import (
    DatePrecision,
    Intervention,
    InterventionKind,
    LocalAuthorityRecord,
    SourceDocument,
)
from tests.domain.specs import ADMIN, fact, given
from tests.domain.then import refused, replayed

SANDWELL = {"ons_code": "E08000028", "la_number": "333", "la_name": "Sandwell"}

PSE = (
    "https://www.publicsectorexecutive.com/Public-Sector-News/"
    "sandwell-becomes-latest-met-to-lose-control-of-childrens-services"
)
REVIEW = Intervention(
    kind=InterventionKind.COMMISSIONERS_REVIEW_REPORTED,
    took_effect_on=date(2016, 7, 1),
    date_precision=DatePrecision.MONTH,
    made_by="Eleanor Brazil, children's services commissioner",
    requirement="The council on its own could not deliver the improvement needed",
    source=SourceDocument(title="Sandwell becomes latest met to lose control", url=PSE),
)
DIRECTION = Intervention(
    kind=InterventionKind.DIRECTION_TO_ESTABLISH_TRUST,
    took_effect_on=date(2016, 10, 1),
    date_precision=DatePrecision.MONTH,
    made_by="Secretary of State for Education",
    requirement="Bring forward plans by 1 December 2016 to move children's social care to a trust",
    source=SourceDocument(
        title="Sandwell becomes latest met to lose control",
        reference="Public Sector Executive, 10 October 2016",
    ),
)


def given_sandwell(*interventions: tuple[Any, Intervention]) -> LocalAuthorityRecord:
    """Sandwell's record, holding each (id, intervention) given."""
    record = given(
        fact(LocalAuthorityRecord.Opened, **SANDWELL),
        *(
            fact(
                LocalAuthorityRecord.InterventionRecorded,
                intervention_id=intervention_id,
                intervention=intervention,
            )
            for intervention_id, intervention in interventions
        ),
        originator_id=LocalAuthorityRecord.id_for("E08000028"),
        actor=ADMIN,
    )
    assert isinstance(record, LocalAuthorityRecord)
    return record


def test_a_record_is_opened_for_an_authority_known_by_its_ons_code() -> None:
    record = LocalAuthorityRecord.open(**SANDWELL, actor=ADMIN)

    [opened] = record.collect_events()
    assert isinstance(opened, LocalAuthorityRecord.Opened)
    assert record.id == ledger_id("la:E08000028")
    assert (record.ons_code, record.la_number, record.la_name) == ("E08000028", "333", "Sandwell")
    assert opened.actor == ADMIN
    assert record.interventions == {}


@pytest.mark.parametrize(
    ("codes", "error"),
    [
        ({"la_number": "33"}, InvalidOrganisation),
        ({"ons_code": "Sandwell"}, InvalidOrganisation),
        ({"la_name": "  "}, MissingDetail),
    ],
)
def test_a_record_is_opened_only_for_a_council_by_its_codes_and_name(
    codes: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        LocalAuthorityRecord.open(**{**SANDWELL, **codes}, actor=ADMIN)


def test_an_intervention_is_recorded_with_who_when_what_and_its_source() -> None:
    record = given_sandwell()

    intervention_id = record.record_intervention(intervention=DIRECTION, actor=ADMIN)

    [recorded] = record.collect_events()
    assert isinstance(recorded, LocalAuthorityRecord.InterventionRecorded)
    assert (recorded.intervention_id, recorded.intervention) == (intervention_id, DIRECTION)
    assert recorded.actor == ADMIN
    held = record.interventions[intervention_id]
    assert held.intervention == DIRECTION
    assert held.recorded_by == ADMIN
    assert held.recorded_at == recorded.timestamp
    assert held.corrections == ()


def test_text_is_kept_single_spaced() -> None:
    record = given_sandwell()
    spaced = replace(DIRECTION, made_by="  Secretary of State\nfor Education ")

    intervention_id = record.record_intervention(intervention=spaced, actor=ADMIN)

    assert record.interventions[intervention_id].intervention.made_by == (
        "Secretary of State for Education"
    )


@pytest.mark.parametrize(
    ("took_effect_on", "precision"),
    [
        (date(2016, 10, 6), DatePrecision.MONTH),
        (date(2016, 10, 1), DatePrecision.YEAR),
    ],
)
def test_a_date_is_no_more_precise_than_its_source(
    took_effect_on: date, precision: DatePrecision
) -> None:
    record = given_sandwell()
    dated = replace(DIRECTION, took_effect_on=took_effect_on, date_precision=precision)

    with refused(record, InvalidDate):
        record.record_intervention(intervention=dated, actor=ADMIN)


def test_a_date_known_to_the_day_or_year_is_recorded_as_given() -> None:
    record = given_sandwell()

    record.record_intervention(
        intervention=replace(
            DIRECTION, took_effect_on=date(2016, 10, 6), date_precision=DatePrecision.DAY
        ),
        actor=ADMIN,
    )
    record.record_intervention(
        intervention=replace(
            REVIEW, took_effect_on=date(2016, 1, 1), date_precision=DatePrecision.YEAR
        ),
        actor=ADMIN,
    )

    assert [i.intervention.date_precision for i in record.interventions.values()] == [
        DatePrecision.DAY,
        DatePrecision.YEAR,
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"made_by": " "},
        {"requirement": ""},
        {"requirement": "x" * 2001},
        {"source": SourceDocument(title=" ", url=PSE)},
        {"source": SourceDocument(title="A direction")},
        {"source": SourceDocument(title="A direction", url=" ", reference="")},
        {"source": SourceDocument(title="A direction", url="javascript:alert(1)")},
        {"source": SourceDocument(title="A direction", url="www.gov.uk/direction")},
    ],
)
def test_an_intervention_says_who_made_it_what_it_required_and_where_it_is_published(
    changes: dict[str, Any],
) -> None:
    record = given_sandwell()

    with refused(record, InvalidIntervention):
        record.record_intervention(intervention=replace(DIRECTION, **changes), actor=ADMIN)


def test_the_same_intervention_is_recorded_once() -> None:
    first = uuid4()
    record = given_sandwell((first, DIRECTION))
    again = replace(DIRECTION, made_by="secretary of state for education", requirement="Plans")

    with refused(record, InterventionAlreadyRecorded) as caught:
        record.record_intervention(intervention=again, actor=ADMIN)
    assert str(first) in caught.value.detail

    # Another kind on the same day is another intervention.
    record.record_intervention(
        intervention=replace(DIRECTION, kind=InterventionKind.COMMISSIONER_APPOINTED),
        actor=ADMIN,
    )
    assert len(record.interventions) == 2


def test_a_correction_keeps_both_values_and_says_why() -> None:
    direction = uuid4()
    record = given_sandwell((uuid4(), REVIEW), (direction, DIRECTION))
    exact = replace(DIRECTION, took_effect_on=date(2016, 10, 6), date_precision=DatePrecision.DAY)

    record.correct_intervention(
        intervention_id=direction,
        intervention=exact,
        reason="DfE's page on the earlier direction dates it 6 October 2016",
        actor=ADMIN,
    )

    [corrected] = record.collect_events()
    assert isinstance(corrected, LocalAuthorityRecord.InterventionCorrected)
    assert (corrected.previous, corrected.intervention) == (DIRECTION, exact)
    held = record.interventions[direction]
    assert held.intervention == exact
    [correction] = held.corrections
    assert (correction.previous, correction.corrected) == (DIRECTION, exact)
    assert correction.reason.startswith("DfE's page")
    assert correction.actor == ADMIN
    assert correction.corrected_at == corrected.timestamp


def test_a_correction_must_say_why_change_something_and_name_a_recorded_intervention() -> None:
    direction = uuid4()
    record = given_sandwell((direction, DIRECTION))
    exact = replace(DIRECTION, took_effect_on=date(2016, 10, 6), date_precision=DatePrecision.DAY)

    with refused(record, MissingReason):
        record.correct_intervention(
            intervention_id=direction, intervention=exact, reason=" ", actor=ADMIN
        )
    with refused(record, InterventionUnchanged):
        record.correct_intervention(
            intervention_id=direction,
            intervention=replace(DIRECTION, requirement=f" {DIRECTION.requirement}"),
            reason="typing",
            actor=ADMIN,
        )
    with refused(record, NotFound):
        record.correct_intervention(
            intervention_id=uuid4(), intervention=exact, reason="typing", actor=ADMIN
        )
    with refused(record, InvalidIntervention):
        record.correct_intervention(
            intervention_id=direction,
            intervention=replace(exact, made_by=""),
            reason="typing",
            actor=ADMIN,
        )


def test_a_correction_cannot_make_one_intervention_the_double_of_another() -> None:
    review = uuid4()
    record = given_sandwell((review, REVIEW), (uuid4(), DIRECTION))

    with refused(record, InterventionAlreadyRecorded):
        record.correct_intervention(
            intervention_id=review, intervention=DIRECTION, reason="misread", actor=ADMIN
        )


def test_the_stored_events_replay_to_the_same_record() -> None:
    record = LocalAuthorityRecord.open(**SANDWELL, actor=ADMIN)
    record.record_intervention(intervention=REVIEW, actor=ADMIN)
    direction = record.record_intervention(intervention=DIRECTION, actor=ADMIN)
    record.correct_intervention(
        intervention_id=direction,
        intervention=replace(
            DIRECTION, took_effect_on=date(2016, 10, 6), date_precision=DatePrecision.DAY
        ),
        reason="dated to the day",
        actor=ADMIN,
    )

    rebuilt = replayed(record.collect_events())

    assert rebuilt == record
    held = rebuilt.interventions[direction]
    assert held.intervention.kind is InterventionKind.DIRECTION_TO_ESTABLISH_TRUST
    assert held.intervention.date_precision is DatePrecision.DAY
    assert held.corrections[0].previous.date_precision is DatePrecision.MONTH
