"""Specifications of a local authority's timeline: inspections and interventions together, oldest
first, each with its kind, date, summary and source."""

from __future__ import annotations

import hashlib
from datetime import date

from domain.inspection import Area, Grade, Inspection, InspectionType, PublishedLine
from domain.local_authority_record import InterventionKind, LocalAuthorityRecord
from domain.timeline import EntryCategory, timeline
from tests.domain.specs import ADMIN
from tests.domain.test_local_authority_record import DIRECTION, REVIEW, SANDWELL

TABLE = PublishedLine("outcomes.csv", hashlib.sha256(b"outcomes").hexdigest(), 108)


def inspection(
    inspection_type: InspectionType, starts_on: date, published_on: date, grade: Grade | None
) -> Inspection:
    return Inspection.record(
        **SANDWELL,
        inspection_type=inspection_type,
        starts_on=starts_on,
        published_on=published_on,
        judgements={} if grade is None else {Area.OVERALL_EFFECTIVENESS: grade},
        theme=None if grade is not None else "Front door",
        source=TABLE,
        actor=ADMIN,
    )


def test_inspections_and_interventions_are_told_oldest_first() -> None:
    record = LocalAuthorityRecord.open(**SANDWELL, actor=ADMIN)
    record.record_intervention(intervention=DIRECTION, actor=ADMIN)
    record.record_intervention(intervention=REVIEW, actor=ADMIN)
    reinspection = inspection(
        InspectionType.SIF_REINSPECTION, date(2017, 11, 6), date(2018, 1, 29), Grade.INADEQUATE
    )
    sif = inspection(InspectionType.SIF, date(2015, 1, 27), date(2015, 6, 5), Grade.INADEQUATE)

    entries = timeline([reinspection, sif], record)

    assert [(e.on, e.category, e.kind) for e in entries] == [
        (date(2015, 1, 27), EntryCategory.INSPECTION, InspectionType.SIF),
        (
            date(2016, 7, 1),
            EntryCategory.INTERVENTION,
            InterventionKind.COMMISSIONERS_REVIEW_REPORTED,
        ),
        (
            date(2016, 10, 1),
            EntryCategory.INTERVENTION,
            InterventionKind.DIRECTION_TO_ESTABLISH_TRUST,
        ),
        (date(2017, 11, 6), EntryCategory.INSPECTION, InspectionType.SIF_REINSPECTION),
    ]
    first, review, direction, _ = entries
    assert first.summary == "SIF inspection: overall effectiveness inadequate; published 2015-06-05"
    assert (first.overall_effectiveness, first.published_on) == (Grade.INADEQUATE, date(2015, 6, 5))
    assert first.source == TABLE
    assert first.id == sif.id
    assert review.date_precision == "month"
    assert direction.summary == (
        "Direction to establish a trust (Secretary of State for Education): Bring forward plans "
        "by 1 December 2016 to move children's social care to a trust"
    )
    assert direction.source == DIRECTION.source
    assert direction.overall_effectiveness is None


def test_grades_are_in_the_frameworks_words_and_visits_tell_their_theme() -> None:
    ilacs = inspection(
        InspectionType.ILACS, date(2022, 5, 9), date(2022, 7, 5), Grade.REQUIRES_IMPROVEMENT
    )
    sif = inspection(
        InspectionType.SIF, date(2014, 3, 18), date(2014, 5, 23), Grade.REQUIRES_IMPROVEMENT
    )
    visit = inspection(InspectionType.FOCUSED_VISIT, date(2024, 10, 30), date(2024, 11, 29), None)

    summaries = [entry.summary for entry in timeline([ilacs, visit, sif], None)]

    assert summaries == [
        "SIF inspection: overall effectiveness requires improvement; published 2014-05-23",
        "ILACS inspection: overall effectiveness requires improvement to be good; "
        "published 2022-07-05",
        "Focused visit: theme: Front door; published 2024-11-29",
    ]
