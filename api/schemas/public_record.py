"""The public record: Ofsted's inspections of local authorities' children's services, and the
statutory interventions in them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.local_authorities import LocalAuthority
from api.ofsted import FileImported, OfstedImport
from api.schemas.common import Body
from domain.actor import Actor
from domain.inspection import Area, Correction, Grade, Inspection, InspectionType, PublishedLine
from domain.local_authority_record import (
    MAX_TEXT_CHARS,
    DatePrecision,
    Intervention,
    InterventionCorrection,
    InterventionKind,
    LocalAuthorityRecord,
    SourceDocument,
)
from domain.timeline import TimelineEntry

InterventionText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class LocalAuthorityView(BaseModel):
    la_number: str
    ons_code: str | None
    name: str
    region: str

    @classmethod
    def of(cls, authority: LocalAuthority) -> LocalAuthorityView:
        return cls(
            la_number=authority.la_number,
            ons_code=authority.ons_code,
            name=authority.name,
            region=authority.region,
        )


class InspectionView(BaseModel):
    id: UUID
    version: int
    ons_code: str
    la_number: str
    la_name: str
    inspection_type: InspectionType
    judges: bool = Field(description="False for a visit or JTAI: a theme, no grades")
    starts_on: date
    published_on: date
    theme: str | None
    judgements: dict[Area, Grade]
    source: PublishedLine = Field(description="The line it was first recorded from")
    corrections: list[Correction] = Field(description="Each value a later publication changed")

    @classmethod
    def of(cls, inspection: Inspection) -> InspectionView:
        return cls(
            id=inspection.id,
            version=inspection.version,
            ons_code=inspection.ons_code,
            la_number=inspection.la_number,
            la_name=inspection.la_name,
            inspection_type=inspection.inspection_type,
            judges=inspection.inspection_type.judges,
            starts_on=inspection.starts_on,
            published_on=inspection.published_on,
            theme=inspection.theme,
            judgements=inspection.judgements,
            source=inspection.source,
            corrections=list(inspection.corrections),
        )


class InspectionHistory(BaseModel):
    local_authority: LocalAuthorityView
    inspections: list[InspectionView] = Field(description="Newest first")


class LatestJudgements(BaseModel):
    inspected_by: date
    published_by: date
    local_authorities: int
    overall_effectiveness: dict[Grade, int] = Field(
        description="How many authorities' latest inspection gave each overall effectiveness"
    )
    inspections: list[InspectionView] = Field(description="One per authority, by ONS code")

    @classmethod
    def of(
        cls, inspected_by: date, published_by: date, latest: Sequence[Inspection]
    ) -> LatestJudgements:
        counted = Counter(i.judgements[Area.OVERALL_EFFECTIVENESS] for i in latest)
        return cls(
            inspected_by=inspected_by,
            published_by=published_by,
            local_authorities=len(latest),
            overall_effectiveness={grade: counted[grade] for grade in Grade if grade in counted},
            inspections=[InspectionView.of(inspection) for inspection in latest],
        )


class OfstedImportView(BaseModel):
    files: list[FileImported]
    position: int | None = Field(description="The highest log position written, if any")

    @classmethod
    def of(cls, report: OfstedImport) -> OfstedImportView:
        return cls(files=list(report.files), position=report.position)


class SourceDocumentToCite(Body):
    title: InterventionText
    url: str | None = Field(
        default=None, max_length=MAX_TEXT_CHARS, description="An http or https address"
    )
    reference: str | None = Field(
        default=None,
        max_length=MAX_TEXT_CHARS,
        description="How else to find it, e.g. a council decision's number; needed without a URL",
    )


class InterventionToRecord(Body):
    kind: InterventionKind
    took_effect_on: date = Field(description="The first of the month or year when that is all")
    date_precision: DatePrecision = DatePrecision.DAY
    made_by: InterventionText = Field(
        description='e.g. "Secretary of State for Education", or a named commissioner'
    )
    requirement: InterventionText = Field(
        description="What it required; for a report or a trust's start, what it said or did"
    )
    source: SourceDocumentToCite

    def intervention(self) -> Intervention:
        return Intervention(
            kind=self.kind,
            took_effect_on=self.took_effect_on,
            date_precision=self.date_precision,
            made_by=self.made_by,
            requirement=self.requirement,
            source=SourceDocument(
                title=self.source.title, url=self.source.url, reference=self.source.reference
            ),
        )


class InterventionView(BaseModel):
    id: UUID
    kind: InterventionKind
    took_effect_on: date
    date_precision: DatePrecision
    made_by: str
    requirement: str
    source: SourceDocument
    recorded_by: Actor
    recorded_at: datetime
    corrections: list[InterventionCorrection] = Field(description="Each earlier value, and why")


class InterventionRecorded(BaseModel):
    local_authority: LocalAuthorityView
    version: int = Field(description="The authority's record's version, as the ETag gives it")
    intervention: InterventionView

    @classmethod
    def of(
        cls, authority: LocalAuthority, record: LocalAuthorityRecord, intervention_id: UUID
    ) -> InterventionRecorded:
        recorded = record.interventions[intervention_id]
        intervention = recorded.intervention
        return cls(
            local_authority=LocalAuthorityView.of(authority),
            version=record.version,
            intervention=InterventionView(
                id=intervention_id,
                kind=intervention.kind,
                took_effect_on=intervention.took_effect_on,
                date_precision=intervention.date_precision,
                made_by=intervention.made_by,
                requirement=intervention.requirement,
                source=intervention.source,
                recorded_by=recorded.recorded_by,
                recorded_at=recorded.recorded_at,
                corrections=list(recorded.corrections),
            ),
        )


class Timeline(BaseModel):
    local_authority: LocalAuthorityView
    entries: list[TimelineEntry] = Field(
        description="Inspections (by their first day) and interventions, oldest first"
    )
