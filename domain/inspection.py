"""An Ofsted inspection or visit of a local authority's children's services, as Ofsted published it.

Ofsted's tables give an inspection no reference of its own, so it is known by what they do give:
the local authority's ONS code, its kind and its first day, `ofsted:{ons code}:{kind}:{start
date}` (`Inspection.id_for`). The kind is the type as far as the least detailed table tells it:
the latest-per-LA table does not say whether an ILACS inspection was standard or short, so both
are of the kind "ilacs", and reading that table and the in-year table lands on one aggregate.

Each value is recorded with the line of the publication it was read from (file, SHA-256, line).
A later publication that says otherwise is a correction naming its own line, and the earlier
value stays in the history: Ofsted does restate (Staffordshire's November 2023 care leavers
judgement went from good to requires improvement between two editions of its tables).

The rules, from Ofsted's frameworks and tables:
- visits (focused and monitoring) and joint targeted area inspections carry a theme, no grades;
- grades are a closed scale: adequate belongs to the frameworks before the SIF (to November
  2013), requires improvement to the SIF and ILACS; "not judged" is a grade, a blank is none;
- from 1 January 2023 ILACS judges children in care and care leavers apart; before, it made one
  combined judgement, which is kept as what it was and never split into two;
- an inspection that judges has an overall effectiveness, and none is published before it began.

The past-tense methods take the actor only so that the event they record names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from domain.actor import Actor
from domain.errors import (
    AreaNotJudged,
    CorrectionChangesNothing,
    GradeNotOnScale,
    InvalidInspection,
    JudgementOnVisit,
    MissingDetail,
    MissingJudgement,
)
from domain.ledger import LedgerAggregate, ledger_id
from domain.local_authority import check_council_codes

# ILACS framework, as updated for inspections from 1 January 2023: children in care and care
# leavers are judged apart. Ofsted's tables put an earlier combined judgement under "children
# in care" and leave "care leavers" blank.
CARE_LEAVERS_JUDGED_APART_FROM = date(2023, 1, 1)

_SHA256 = re.compile(r"[0-9a-f]{64}")


class Grade(StrEnum):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    # "Requires improvement to be good" under ILACS, "requires improvement" under the SIF.
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    ADEQUATE = "adequate"  # the third grade of the frameworks before the SIF
    NOT_JUDGED = "not_judged"  # an area the framework judges, left unjudged this time


class Area(StrEnum):
    OVERALL_EFFECTIVENESS = "overall_effectiveness"
    IMPACT_OF_LEADERS = "impact_of_leaders"
    HELP_AND_PROTECTION = "help_and_protection"
    CHILDREN_IN_CARE = "children_in_care"
    CARE_LEAVERS = "care_leavers"
    # ILACS before 1 January 2023: "the experiences and progress of children in care and care
    # leavers", one judgement.
    CHILDREN_IN_CARE_AND_CARE_LEAVERS = "children_in_care_and_care_leavers"


class InspectionType(StrEnum):
    PRE_SIF = "pre_sif"  # safeguarding and looked-after children inspections, to November 2013
    SIF = "sif"  # the single inspection framework, November 2013 to 2017
    SIF_REINSPECTION = "sif_reinspection"
    ILACS = "ilacs"  # an ILACS inspection whose table does not say whether standard or short
    ILACS_STANDARD = "ilacs_standard"
    ILACS_SHORT = "ilacs_short"
    FOCUSED_VISIT = "focused_visit"
    MONITORING_VISIT = "monitoring_visit"
    JTAI = "jtai"  # a joint targeted area inspection, with the other inspectorates

    @property
    def judges(self) -> bool:
        """Whether it grades the services; the others carry a theme instead."""
        return self not in _THEMED

    @property
    def kind(self) -> str:
        """What the inspection's id is derived from: ILACS's sub-types are one kind, because
        not every table tells them apart."""
        return InspectionType.ILACS.value if self in _ILACS else self.value


_THEMED = frozenset(
    {InspectionType.FOCUSED_VISIT, InspectionType.MONITORING_VISIT, InspectionType.JTAI}
)
_ILACS = frozenset(
    {InspectionType.ILACS, InspectionType.ILACS_STANDARD, InspectionType.ILACS_SHORT}
)
_FOUR_POINT = frozenset(
    {
        Grade.OUTSTANDING,
        Grade.GOOD,
        Grade.REQUIRES_IMPROVEMENT,
        Grade.INADEQUATE,
        Grade.NOT_JUDGED,
    }
)
_BEFORE_SIF = (_FOUR_POINT - {Grade.REQUIRES_IMPROVEMENT}) | {Grade.ADEQUATE}
_COMMON_AREAS = (Area.OVERALL_EFFECTIVENESS, Area.IMPACT_OF_LEADERS, Area.HELP_AND_PROTECTION)


def judges_care_leavers_apart(inspection_type: InspectionType, starts_on: date) -> bool:
    """Whether "children in care" is that area alone, or ILACS's combined judgement before 2023."""
    return inspection_type not in _ILACS or starts_on >= CARE_LEAVERS_JUDGED_APART_FROM


def areas_judged(inspection_type: InspectionType, starts_on: date) -> tuple[Area, ...]:
    if not inspection_type.judges:
        return ()
    if judges_care_leavers_apart(inspection_type, starts_on):
        return (*_COMMON_AREAS, Area.CHILDREN_IN_CARE, Area.CARE_LEAVERS)
    return (*_COMMON_AREAS, Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS)


@dataclass(frozen=True)
class PublishedLine:
    """Where a value was read: a published table's file name, its SHA-256 and the line."""

    file: str
    sha256: str
    line: int


@dataclass(frozen=True)
class Correction:
    """A value a later publication changed: what it was, what it became, and where it was read.

    `subject` is the area, or "published_on", "inspection_type" or "theme"; values are as the
    ledger stores them (a grade's or type's value, an ISO date), None for no grade."""

    subject: str
    previous: str | None
    value: str | None
    source: PublishedLine
    actor: Actor
    recorded_at: datetime


@dataclass(frozen=True)
class Differences:
    """What a publication says of an inspection that its record does not: None where it agrees."""

    inspection_type: InspectionType | None = None
    published_on: date | None = None
    theme: str | None = None
    judgements: Mapping[Area, Grade | None] = field(default_factory=dict)

    def __len__(self) -> int:
        found = (self.inspection_type, self.published_on, self.theme)
        return sum(value is not None for value in found) + len(self.judgements)


class Inspection(LedgerAggregate):
    """One inspection or visit of one local authority, with every value it has been given."""

    class Recorded(LedgerAggregate.Created):
        ons_code: str
        la_number: str
        la_name: str
        inspection_type: InspectionType
        starts_on: date
        published_on: date
        judgements: dict[Area, Grade]
        theme: str | None
        source: PublishedLine

    class JudgementCorrected(LedgerAggregate.Event):
        area: Area
        previous: Grade | None
        grade: Grade | None
        source: PublishedLine

    class PublicationDateCorrected(LedgerAggregate.Event):
        previous: date
        published_on: date
        source: PublishedLine

    class TypeCorrected(LedgerAggregate.Event):
        previous: InspectionType
        inspection_type: InspectionType
        source: PublishedLine

    class ThemeCorrected(LedgerAggregate.Event):
        previous: str | None
        theme: str
        source: PublishedLine

    def __init__(
        self,
        ons_code: str,
        la_number: str,
        la_name: str,
        inspection_type: InspectionType,
        starts_on: date,
        published_on: date,
        judgements: dict[Area, Grade],
        theme: str | None,
        source: PublishedLine,
    ) -> None:
        self.ons_code = ons_code
        self.la_number = la_number
        self.la_name = la_name
        # JSON stores a StrEnum as its bare value, so a replayed event carries plain strs.
        self.inspection_type = InspectionType(inspection_type)
        self.starts_on = starts_on
        self.published_on = published_on
        self.judgements = {Area(area): Grade(grade) for area, grade in judgements.items()}
        self.theme = theme
        self.source = source
        self.corrections: tuple[Correction, ...] = ()
        # The publications taken in, so that reading one again changes nothing whoever does it.
        self.publications = frozenset({source.sha256})

    @classmethod
    def id_for(cls, ons_code: str, inspection_type: InspectionType, starts_on: date) -> UUID:
        return ledger_id(f"ofsted:{ons_code}:{inspection_type.kind}:{starts_on.isoformat()}")

    @classmethod
    def record(
        cls,
        *,
        ons_code: str,
        la_number: str,
        la_name: str,
        inspection_type: InspectionType,
        starts_on: date,
        published_on: date,
        judgements: Mapping[Area, Grade | None],
        theme: str | None,
        source: PublishedLine,
        actor: Actor,
    ) -> Inspection:
        """An inspection as a publication gives it. `judgements` holds the areas the publication
        states, None where it states no grade; an area the inspection did not judge may be stated
        only so."""
        check_council_codes(la_number, ons_code)
        la_name = " ".join(la_name.split())
        if not la_name:
            raise MissingDetail("an inspection names its local authority")
        _check_source(source)
        _check_published(starts_on, published_on)
        theme = _checked_theme(inspection_type, theme)
        graded = _checked_judgements(inspection_type, starts_on, judgements)
        return cls._create(
            cls.Recorded,
            id=cls.id_for(ons_code, inspection_type, starts_on),
            ons_code=ons_code,
            la_number=la_number,
            la_name=la_name,
            inspection_type=inspection_type,
            starts_on=starts_on,
            published_on=published_on,
            judgements=graded,
            theme=theme,
            source=source,
            actor=actor,
        )

    # -- what a later publication says ---------------------------------------------------------

    def differences(
        self,
        *,
        inspection_type: InspectionType,
        published_on: date,
        judgements: Mapping[Area, Grade | None],
        theme: str | None,
        source: PublishedLine,
    ) -> Differences:
        """What the publication says otherwise than the record; nothing if it was taken in before.

        A table that cannot tell ILACS's sub-types apart does not contradict one known from
        another, and an area it does not state keeps its judgement."""
        if source.sha256 in self.publications:
            return Differences()
        judged = areas_judged(self.inspection_type, self.starts_on)
        theme = None if theme is None else " ".join(theme.split()) or None
        return Differences(
            inspection_type=(
                inspection_type
                if inspection_type not in (self.inspection_type, InspectionType.ILACS)
                else None
            ),
            published_on=published_on if published_on != self.published_on else None,
            theme=theme if theme is not None and theme != self.theme else None,
            judgements={
                area: grade
                for area, grade in judgements.items()
                if self.judgements.get(area) != grade and (area in judged or grade is not None)
            },
        )

    def reconcile(
        self,
        *,
        inspection_type: InspectionType,
        published_on: date,
        judgements: Mapping[Area, Grade | None],
        theme: str | None,
        source: PublishedLine,
        actor: Actor,
    ) -> int:
        """Correct each value the publication gives otherwise; the number of corrections."""
        found = self.differences(
            inspection_type=inspection_type,
            published_on=published_on,
            judgements=judgements,
            theme=theme,
            source=source,
        )
        if found.inspection_type is not None:
            self.correct_type(inspection_type=found.inspection_type, source=source, actor=actor)
        if found.published_on is not None:
            self.correct_publication_date(
                published_on=found.published_on, source=source, actor=actor
            )
        if found.theme is not None:
            self.correct_theme(theme=found.theme, source=source, actor=actor)
        for area, grade in found.judgements.items():
            self.correct_judgement(area=area, grade=grade, source=source, actor=actor)
        return len(found)

    # -- corrections ----------------------------------------------------------------------------

    def correct_judgement(
        self, *, area: Area, grade: Grade | None, source: PublishedLine, actor: Actor
    ) -> None:
        """A judgement as a later publication gives it; None where it gives no grade."""
        _check_source(source)
        _check_grade(self.inspection_type, self.starts_on, area, grade)
        if area is Area.OVERALL_EFFECTIVENESS and grade is None:
            raise MissingJudgement("an inspection that judges keeps its overall effectiveness")
        previous = self.judgements.get(area)
        if grade == previous:
            raise CorrectionChangesNothing(f"{area} is already {_shown(grade)}")
        self._judgement_corrected(
            area=area,
            previous=previous,
            grade=grade,
            source=source,
            actor=actor,
            timestamp=_now(),
        )

    @event(JudgementCorrected)
    def _judgement_corrected(
        self,
        area: Area,
        previous: Grade | None,
        grade: Grade | None,
        source: PublishedLine,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        area = Area(area)
        if grade is None:
            del self.judgements[area]
        else:
            self.judgements[area] = Grade(grade)
        self._corrected(area, previous, grade, source, actor, timestamp)

    def correct_publication_date(
        self, *, published_on: date, source: PublishedLine, actor: Actor
    ) -> None:
        _check_source(source)
        _check_published(self.starts_on, published_on)
        if published_on == self.published_on:
            raise CorrectionChangesNothing(
                f"the inspection was already published on {published_on}"
            )
        self._publication_date_corrected(
            previous=self.published_on,
            published_on=published_on,
            source=source,
            actor=actor,
            timestamp=_now(),
        )

    @event(PublicationDateCorrected)
    def _publication_date_corrected(
        self,
        previous: date,
        published_on: date,
        source: PublishedLine,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.published_on = published_on
        self._corrected(
            "published_on", previous.isoformat(), published_on.isoformat(), source, actor, timestamp
        )

    def correct_type(
        self, *, inspection_type: InspectionType, source: PublishedLine, actor: Actor
    ) -> None:
        """The type as a later or more detailed table gives it, within the kind the id is of."""
        _check_source(source)
        if inspection_type.kind != self.inspection_type.kind:
            raise InvalidInspection(
                f"a {self.inspection_type} cannot become a {inspection_type}: "
                "that is another inspection"
            )
        if inspection_type is self.inspection_type:
            raise CorrectionChangesNothing(f"the inspection is already a {inspection_type}")
        self._type_corrected(
            previous=self.inspection_type,
            inspection_type=inspection_type,
            source=source,
            actor=actor,
            timestamp=_now(),
        )

    @event(TypeCorrected)
    def _type_corrected(
        self,
        previous: InspectionType,
        inspection_type: InspectionType,
        source: PublishedLine,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.inspection_type = InspectionType(inspection_type)
        self._corrected("inspection_type", previous, inspection_type, source, actor, timestamp)

    def correct_theme(self, *, theme: str, source: PublishedLine, actor: Actor) -> None:
        _check_source(source)
        if self.inspection_type.judges:
            raise InvalidInspection(f"a {self.inspection_type} judges the services, no theme")
        theme = _required_theme(self.inspection_type, theme)
        if theme == self.theme:
            raise CorrectionChangesNothing(f"the theme is already {theme!r}")
        self._theme_corrected(
            previous=self.theme,
            theme=theme,
            source=source,
            actor=actor,
            timestamp=_now(),
        )

    @event(ThemeCorrected)
    def _theme_corrected(
        self,
        previous: str | None,
        theme: str,
        source: PublishedLine,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.theme = theme
        self._corrected("theme", previous, theme, source, actor, timestamp)

    def _corrected(
        self,
        subject: str,
        previous: str | None,
        value: str | None,
        source: PublishedLine,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        # Plain strs whatever came in: a replayed event carries its enums as their values.
        self.corrections = (
            *self.corrections,
            Correction(
                subject=str(subject),
                previous=None if previous is None else str(previous),
                value=None if value is None else str(value),
                source=source,
                actor=actor,
                recorded_at=timestamp,
            ),
        )
        self.publications = self.publications | {source.sha256}


def latest_inspections(
    inspections: Iterable[Inspection], *, inspected_by: date, published_by: date
) -> list[Inspection]:
    """Per local authority, the most recent inspection that judges (not a visit) begun on or
    before `inspected_by` and published on or before `published_by`; in ONS code order.

    This is how Ofsted's "latest per LA" table is made: as at 31 March 2025, published by 30
    June 2025, it gives 153 authorities."""
    latest: dict[str, Inspection] = {}
    for inspection in inspections:
        if not (
            inspection.inspection_type.judges
            and inspection.starts_on <= inspected_by
            and inspection.published_on <= published_by
        ):
            continue
        known = latest.get(inspection.ons_code)
        if known is None or inspection.starts_on > known.starts_on:
            latest[inspection.ons_code] = inspection
    return [latest[code] for code in sorted(latest)]


def _now() -> datetime:
    """When the ledger learns of a correction: fixed by the command, so replay keeps it."""
    return Inspection.Event.create_timestamp()


def _shown(grade: Grade | None) -> str:
    return "ungraded" if grade is None else str(grade)


def _check_source(source: PublishedLine) -> None:
    if not source.file.strip() or not _SHA256.fullmatch(source.sha256) or source.line < 1:
        raise InvalidInspection(
            "a source is a file's name, its SHA-256 in lower-case hex and a line from 1"
        )


def _check_published(starts_on: date, published_on: date) -> None:
    if published_on < starts_on:
        raise InvalidInspection(
            f"an inspection begun on {starts_on} cannot be published before, on {published_on}"
        )


def _checked_theme(inspection_type: InspectionType, theme: str | None) -> str | None:
    """The theme of a visit or JTAI, single-spaced; None for an inspection that judges."""
    if not inspection_type.judges:
        return _required_theme(inspection_type, theme)
    if theme is not None and theme.strip():
        raise InvalidInspection(f"a {inspection_type} judges the services, no theme")
    return None


def _required_theme(inspection_type: InspectionType, theme: str | None) -> str:
    theme = " ".join((theme or "").split())
    if not theme:
        raise InvalidInspection(f"a {inspection_type} is recorded with its theme")
    return theme


def _check_grade(
    inspection_type: InspectionType, starts_on: date, area: Area, grade: Grade | None
) -> None:
    if grade is None:
        return
    if not inspection_type.judges:
        raise JudgementOnVisit(f"a {inspection_type} grades nothing, so not {area} as {grade}")
    if area not in areas_judged(inspection_type, starts_on):
        if area is Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS:
            detail = "is judged only by ILACS inspections begun before 1 January 2023"
        else:
            detail = "is judged apart only by inspections begun from 1 January 2023"
        raise AreaNotJudged(f"{area} {detail}; this {inspection_type} began on {starts_on}")
    scale = _BEFORE_SIF if inspection_type is InspectionType.PRE_SIF else _FOUR_POINT
    if grade not in scale:
        raise GradeNotOnScale(f"{grade} is not a grade of a {inspection_type}")


def _checked_judgements(
    inspection_type: InspectionType, starts_on: date, judgements: Mapping[Area, Grade | None]
) -> dict[Area, Grade]:
    for area, grade in judgements.items():
        _check_grade(inspection_type, starts_on, area, grade)
    graded = {area: grade for area, grade in judgements.items() if grade is not None}
    if inspection_type.judges and Area.OVERALL_EFFECTIVENESS not in graded:
        raise MissingJudgement(f"a {inspection_type} is recorded with its overall effectiveness")
    return graded
