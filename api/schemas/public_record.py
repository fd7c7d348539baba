"""The public record: Ofsted's inspections of local authorities' children's services."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from api.local_authorities import LocalAuthority
from api.ofsted import FileImported, OfstedImport
from domain.inspection import Area, Correction, Grade, Inspection, InspectionType, PublishedLine


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
