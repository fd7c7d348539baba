"""A local authority's timeline: Ofsted's inspections and the statutory interventions together,
oldest first, so that a reader sees each direction beside the judgements that led to it.

An inspection is dated by its first day, as Ofsted's tables date it; an intervention by the day
it took effect, or the first day of the month or year when its source gives no more. Entries of
one date keep the order they were recorded in, inspections first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from domain.inspection import Area, Grade, Inspection, InspectionType, PublishedLine
from domain.local_authority_record import (
    DatePrecision,
    InterventionKind,
    LocalAuthorityRecord,
    RecordedIntervention,
    SourceDocument,
)


class EntryCategory(StrEnum):
    INSPECTION = "inspection"
    INTERVENTION = "intervention"


@dataclass(frozen=True)
class TimelineEntry:
    category: EntryCategory
    kind: InspectionType | InterventionKind
    id: UUID  # the inspection's, or the intervention's within the authority's record
    on: date
    date_precision: DatePrecision
    summary: str
    source: PublishedLine | SourceDocument
    overall_effectiveness: Grade | None = None  # an inspection that judges
    published_on: date | None = None  # an inspection


_INSPECTIONS = MappingProxyType(
    {
        InspectionType.PRE_SIF: "Inspection under the frameworks before the SIF",
        InspectionType.SIF: "SIF inspection",
        InspectionType.SIF_REINSPECTION: "SIF re-inspection",
        InspectionType.ILACS: "ILACS inspection",
        InspectionType.ILACS_STANDARD: "ILACS standard inspection",
        InspectionType.ILACS_SHORT: "ILACS short inspection",
        InspectionType.FOCUSED_VISIT: "Focused visit",
        InspectionType.MONITORING_VISIT: "Monitoring visit",
        InspectionType.JTAI: "Joint targeted area inspection",
    }
)
_INTERVENTIONS = MappingProxyType(
    {
        InterventionKind.IMPROVEMENT_NOTICE: "Improvement notice",
        InterventionKind.STATUTORY_DIRECTION: "Statutory direction",
        InterventionKind.COMMISSIONER_APPOINTED: "Commissioner appointed",
        InterventionKind.COMMISSIONERS_REVIEW_REPORTED: "Commissioner's review reported",
        InterventionKind.DIRECTION_TO_ESTABLISH_TRUST: "Direction to establish a trust",
        InterventionKind.TRUST_ESTABLISHED: "Trust established",
        InterventionKind.DIRECTION_REVOKED: "Direction revoked",
        InterventionKind.OTHER: "Intervention",
    }
)


def timeline(
    inspections: Iterable[Inspection], record: LocalAuthorityRecord | None
) -> list[TimelineEntry]:
    """The authority's inspections and interventions, oldest first."""
    entries = [_inspection(i) for i in inspections]
    if record is not None:
        entries += [_intervention(i) for i in record.interventions.values()]
    return sorted(entries, key=lambda entry: entry.on)


def _inspection(inspection: Inspection) -> TimelineEntry:
    overall = inspection.judgements.get(Area.OVERALL_EFFECTIVENESS)
    said = (
        f"overall effectiveness {_grade(inspection.inspection_type, overall)}"
        if overall is not None
        else f"theme: {inspection.theme}"
    )
    return TimelineEntry(
        category=EntryCategory.INSPECTION,
        kind=inspection.inspection_type,
        id=inspection.id,
        on=inspection.starts_on,
        date_precision=DatePrecision.DAY,
        summary=f"{_INSPECTIONS[inspection.inspection_type]}: {said}; published "
        f"{inspection.published_on.isoformat()}",
        source=inspection.source,
        overall_effectiveness=overall,
        published_on=inspection.published_on,
    )


def _intervention(recorded: RecordedIntervention) -> TimelineEntry:
    intervention = recorded.intervention
    return TimelineEntry(
        category=EntryCategory.INTERVENTION,
        kind=intervention.kind,
        id=recorded.intervention_id,
        on=intervention.took_effect_on,
        date_precision=intervention.date_precision,
        summary=f"{_INTERVENTIONS[intervention.kind]} ({intervention.made_by}): "
        f"{intervention.requirement}",
        source=intervention.source,
    )


def _grade(inspection_type: InspectionType, grade: Grade) -> str:
    """The grade in Ofsted's words for the framework: ILACS says "requires improvement to be
    good", the SIF "requires improvement"."""
    if grade is not Grade.REQUIRES_IMPROVEMENT:
        return grade.value.replace("_", " ")
    if inspection_type.kind == InspectionType.ILACS.value:
        return "requires improvement to be good"
    return "requires improvement"
