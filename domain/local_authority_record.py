"""A local authority's record of statutory intervention in its children's services.

Every children's trust begins in statute. Ofsted judges the services inadequate; the Secretary of
State issues an improvement notice or a statutory direction (Education Act 1996, s497A), may
appoint a children's services commissioner to review the council's capacity, and on the review
may direct the council to move the services to a trust; the trust is established, and in time
the direction is revoked. The record keeps each step as it was published: its kind, the day it
took effect, who made it, what it required and the document that says so.

One record per local authority, known by its ONS code (`LocalAuthorityRecord.id_for`), so that
recording for a council twice lands on one aggregate. It is opened by its first intervention.

Nothing is overwritten: a correction keeps the value it replaces and says why, as an Ofsted
restatement does for an inspection.

Reports of the time often give only a month ("the direction of October 2016"), so a date carries
its precision, and a date known to the month is kept as that month's first day rather than a
day nobody published.

The past-tense methods take the actor only so that the event they record names it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.actor import Actor
from domain.errors import (
    InterventionAlreadyRecorded,
    InterventionUnchanged,
    InvalidDate,
    InvalidIntervention,
    MissingDetail,
    NotFound,
)
from domain.ledger import LedgerAggregate, ledger_id, required_reason
from domain.local_authority import check_council_codes
from domain.writer import Session

# Long enough for a direction's requirements as the direction words them; a longer text
# belongs in the source document, which the record names.
MAX_TEXT_CHARS = 2000


class InterventionKind(StrEnum):
    IMPROVEMENT_NOTICE = "improvement_notice"
    STATUTORY_DIRECTION = "statutory_direction"
    COMMISSIONER_APPOINTED = "commissioner_appointed"
    COMMISSIONERS_REVIEW_REPORTED = "commissioners_review_reported"
    DIRECTION_TO_ESTABLISH_TRUST = "direction_to_establish_trust"
    TRUST_ESTABLISHED = "trust_established"
    DIRECTION_REVOKED = "direction_revoked"
    OTHER = "other"


class DatePrecision(StrEnum):
    """How much of a date its source gives: the day, or only the month or year."""

    DAY = "day"
    MONTH = "month"  # kept as the month's first day
    YEAR = "year"  # kept as 1 January


@dataclass(frozen=True)
class SourceDocument:
    """Where an intervention is published: a title, and a web address or another reference
    (a statutory instrument's number, a council decision's) by which it can be found."""

    title: str
    url: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Intervention:
    """What was done, as its source gives it."""

    kind: InterventionKind
    took_effect_on: date
    date_precision: DatePrecision
    made_by: str  # "Secretary of State for Education", a named commissioner, the council
    requirement: str  # what it required; for a report or a trust's start, what it said or did
    source: SourceDocument


@dataclass(frozen=True)
class InterventionCorrection:
    previous: Intervention
    corrected: Intervention
    reason: str
    actor: Actor
    corrected_at: datetime


@dataclass(frozen=True)
class RecordedIntervention:
    """An intervention as the record holds it now, with every value it had before."""

    intervention_id: UUID
    intervention: Intervention
    recorded_by: Actor
    recorded_at: datetime
    corrections: tuple[InterventionCorrection, ...] = ()


class LocalAuthorityRecord(LedgerAggregate):
    """One local authority's intervention history, in the order it was recorded."""

    class Opened(LedgerAggregate.Created):
        ons_code: str
        la_number: str
        la_name: str

    class InterventionRecorded(LedgerAggregate.Event):
        intervention_id: UUID
        intervention: Intervention

    class InterventionCorrected(LedgerAggregate.Event):
        intervention_id: UUID
        previous: Intervention
        intervention: Intervention
        reason: str

    def __init__(self, ons_code: str, la_number: str, la_name: str) -> None:
        self.ons_code = ons_code
        self.la_number = la_number
        self.la_name = la_name
        self.interventions: dict[UUID, RecordedIntervention] = {}

    @classmethod
    def id_for(cls, ons_code: str) -> UUID:
        return ledger_id(f"la:{ons_code}")

    @classmethod
    def open(
        cls, *, ons_code: str, la_number: str, la_name: str, actor: Actor
    ) -> LocalAuthorityRecord:
        check_council_codes(la_number, ons_code)
        la_name = " ".join(la_name.split())
        if not la_name:
            raise MissingDetail("a local authority's record names the authority")
        return cls._create(
            cls.Opened,
            id=cls.id_for(ons_code),
            ons_code=ons_code,
            la_number=la_number,
            la_name=la_name,
            actor=actor,
        )

    def record_intervention(self, *, intervention: Intervention, actor: Actor) -> UUID:
        """Add an intervention; the id it is known by from now on."""
        intervention = _checked(intervention)
        self._check_new(intervention, ignoring=None)
        intervention_id = uuid4()
        self._intervention_recorded(
            intervention_id=intervention_id,
            intervention=intervention,
            actor=actor,
            timestamp=_now(),
        )
        return intervention_id

    @event(InterventionRecorded)
    def _intervention_recorded(
        self, intervention_id: UUID, intervention: Intervention, actor: Actor, timestamp: datetime
    ) -> None:
        self.interventions[intervention_id] = RecordedIntervention(
            intervention_id=intervention_id,
            intervention=intervention,
            recorded_by=actor,
            recorded_at=timestamp,
        )

    def correct_intervention(
        self, *, intervention_id: UUID, intervention: Intervention, reason: str, actor: Actor
    ) -> None:
        """Replace what the record says of an intervention, keeping what it said before."""
        recorded = self.interventions.get(intervention_id)
        if recorded is None:
            raise NotFound(f"{self.la_name}'s record holds no intervention {intervention_id}")
        intervention = _checked(intervention)
        if intervention == recorded.intervention:
            raise InterventionUnchanged("the correction gives the intervention as it already is")
        self._check_new(intervention, ignoring=intervention_id)
        reason = required_reason(reason, "correcting an intervention")
        self._intervention_corrected(
            intervention_id=intervention_id,
            previous=recorded.intervention,
            intervention=intervention,
            reason=reason,
            actor=actor,
            timestamp=_now(),
        )

    @event(InterventionCorrected)
    def _intervention_corrected(
        self,
        intervention_id: UUID,
        previous: Intervention,
        intervention: Intervention,
        reason: str,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        recorded = self.interventions[intervention_id]
        correction = InterventionCorrection(
            previous=previous,
            corrected=intervention,
            reason=reason,
            actor=actor,
            corrected_at=timestamp,
        )
        self.interventions[intervention_id] = replace(
            recorded, intervention=intervention, corrections=(*recorded.corrections, correction)
        )

    def _check_new(self, intervention: Intervention, *, ignoring: UUID | None) -> None:
        """Refuse a second record of one intervention: the same kind, made by the same person
        or body on the same day. A retried request would otherwise record it twice."""
        same = _identity(intervention)
        for recorded in self.interventions.values():
            if recorded.intervention_id != ignoring and _identity(recorded.intervention) == same:
                raise InterventionAlreadyRecorded(
                    f"{self.la_name}'s record already holds this {intervention.kind} "
                    f"({recorded.intervention_id}): correct it instead"
                )


def record_intervention(
    session: Session,
    *,
    ons_code: str,
    la_number: str,
    la_name: str,
    intervention: Intervention,
    actor: Actor,
) -> tuple[LocalAuthorityRecord, UUID]:
    """Record an intervention on the authority's record, opening the record with the first;
    the record and the intervention's id. One unit of work: a record opened for an intervention
    that is then refused is undone with it."""
    record = session.find(LocalAuthorityRecord.id_for(ons_code), LocalAuthorityRecord)
    if record is None:
        record = session.add(
            LocalAuthorityRecord.open(
                ons_code=ons_code, la_number=la_number, la_name=la_name, actor=actor
            )
        )
    return record, record.record_intervention(intervention=intervention, actor=actor)


def _identity(intervention: Intervention) -> tuple[InterventionKind, date, str]:
    return (intervention.kind, intervention.took_effect_on, intervention.made_by.casefold())


def _checked(intervention: Intervention) -> Intervention:
    """The intervention single-spaced and checked; a date no more precise than its source."""
    made_by = _text(intervention.made_by, "who made the intervention")
    requirement = _text(intervention.requirement, "what the intervention required")
    source = _checked_source(intervention.source)
    took_effect_on = intervention.took_effect_on
    precision = DatePrecision(intervention.date_precision)
    if precision is DatePrecision.MONTH and took_effect_on.day != 1:
        raise InvalidDate(
            f"a date known to the month is kept as its first day, not {took_effect_on}"
        )
    if precision is DatePrecision.YEAR and (took_effect_on.month, took_effect_on.day) != (1, 1):
        raise InvalidDate(f"a date known to the year is kept as 1 January, not {took_effect_on}")
    return Intervention(
        kind=InterventionKind(intervention.kind),
        took_effect_on=took_effect_on,
        date_precision=precision,
        made_by=made_by,
        requirement=requirement,
        source=source,
    )


def _checked_source(source: SourceDocument) -> SourceDocument:
    title = _text(source.title, "the source document's title")
    url = _optional(source.url)
    reference = _optional(source.reference)
    if url is None and reference is None:
        raise InvalidIntervention(
            "a source document is found by a web address or a reference: give one"
        )
    if url is not None:
        parts = urlsplit(url)
        # Shown to every reader as a link: anything but a web address (javascript:, data:)
        # could run in their browser.
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
            raise InvalidIntervention(f"{url!r} is not a web address (http or https)")
    return SourceDocument(title=title, url=url, reference=reference)


def _text(text: str, what: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise InvalidIntervention(f"the record needs {what}")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidIntervention(f"{what} has more than {MAX_TEXT_CHARS} characters")
    return text


def _optional(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidIntervention(f"a source's address or reference is over {MAX_TEXT_CHARS}")
    return text or None


def _now() -> datetime:
    """When the ledger learns of it: fixed by the command, so that replay keeps it."""
    return LocalAuthorityRecord.Event.create_timestamp()
