"""Every rule a user could break has a typed error named after the rule.

`api/problems.py` maps each class to an HTTP status once; nothing else catches them.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused because it would break a rule of the contract or the ledger."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# -- input that can never be right (HTTP 422) -------------------------------------------------


class InvalidCommand(DomainError):
    """The command's own values break a rule, whatever the state of the ledger."""


class InvalidTerm(InvalidCommand):
    """A term that ends before it starts, or an extension that does not extend."""


class InvalidContractSum(InvalidCommand):
    """A contract sum that is negative or falls outside the contract's term."""


class InvalidScope(InvalidCommand):
    """A scope of services that is empty or names a service line twice."""


class InvalidVariation(InvalidCommand):
    """A variation that changes nothing, or changes something a variation cannot."""


class InvalidDate(InvalidCommand):
    """A date that makes no sense for the command (a response due before the notice, say)."""


class MissingReason(InvalidCommand):
    """Corrections, rejections and terminations must say why."""


class MissingDetail(InvalidCommand):
    """A title, name, description, evidence or reference that is blank."""


class InvalidPeriod(InvalidCommand):
    """A financial year or reporting period that is malformed or outside the contract's term."""


class UnknownIndicator(InvalidCommand):
    """An indicator code that is not in the national catalogue."""


class InvalidFraction(InvalidCommand):
    """A numerator and denominator that cannot make the indicator: no denominator, a negative
    count, a part larger than its whole, or a fraction for an indicator that has none."""


class InvalidTolerance(InvalidCommand):
    """A tolerance on the better side of its target, or a tolerance without a target."""


class InvalidDeadline(InvalidCommand):
    """A deadline counted as a negative number of working days."""


class InvalidAmount(InvalidCommand):
    """Money that is not whole pence, a payment that is not positive or a negative forecast."""


class InvalidAmendment(InvalidCommand):
    """A draft amendment that changes nothing."""


class InvalidNotice(InvalidCommand):
    """A performance notice without grounds, remedy, or any KPI or clause it concerns."""


class InvalidRemedialPlan(InvalidCommand):
    """A remedial plan without a summary or actions, or with an action that says nothing."""


class InvalidOrganisation(InvalidCommand):
    """A blank or unchanged name, a malformed LA number or ONS code, or codes on a non-council."""


class InvalidAccount(InvalidCommand):
    """A malformed email, a blank display name, or the system role given to a person."""


class UnknownReference(InvalidCommand):
    """The command names something (an organisation, a contract) that the ledger does not hold."""


class IdempotencyKeyReused(InvalidCommand):
    """An Idempotency-Key already used for a different request cannot name this one."""


class InvalidIndicator(InvalidCommand):
    """A contract's own indicator that takes a national code, claims to be national, or lacks a
    title, a definition or a way to count it."""


class InvalidKpi(InvalidCommand):
    """A scheduled KPI with a blank reference, returns due outside 0 to 60 working days after the
    period, a target that is not a number, or a national indicator defined otherwise than DfE."""


class NotOnSchedule(InvalidCommand):
    """The contract's KPI schedule has no KPI measured by this indicator."""


class WrongFrequency(InvalidCommand):
    """A return for a period of another length than the schedule's (a month for a quarterly KPI)."""


class PeriodOutsideTerm(InvalidCommand):
    """A return for a period that does not lie within the contract's term."""


class InvalidValue(InvalidCommand):
    """A returned value that is not a number, or has more decimals than the indicator publishes."""


class ValueDisagreesWithCounts(InvalidCommand):
    """A returned value that is not what its own numerator and denominator make."""


class RestatementChangesNothing(InvalidCommand):
    """A restatement must give the return a value, or counts, that it does not already have."""


class InvalidInspection(InvalidCommand):
    """An inspection published before it began, a visit without its theme, a theme on an
    inspection that judges, a type changed to another kind, or a source that is no file's line."""


class JudgementOnVisit(InvalidCommand):
    """Visits and joint targeted area inspections carry a theme and no grades."""


class GradeNotOnScale(InvalidCommand):
    """Adequate belongs to the frameworks before the SIF; requires improvement to the SIF and
    ILACS."""


class AreaNotJudged(InvalidCommand):
    """ILACS judges children in care and care leavers apart from 1 January 2023 and together
    before; the combined judgement is ILACS's alone."""


class MissingJudgement(InvalidCommand):
    """An inspection that judges has an overall effectiveness."""


class CorrectionChangesNothing(InvalidCommand):
    """A correction must give the inspection a value it does not already have."""


class InvalidPublication(InvalidCommand):
    """A published file without its name, SHA-256 or row count, or holding a value that is not
    one: an indicator outside the catalogue, a year or level that is not one, a figure that is
    neither a number nor a DfE symbol, the same value twice, or a mismatch with no value."""


class InvalidIntervention(InvalidCommand):
    """An intervention that does not say who made it or what it required, or whose source
    document has no title, or neither a web address nor a reference to find it by."""


class InterventionUnchanged(InvalidCommand):
    """A correction must change what the record says of the intervention."""


class InvalidInstant(InvalidCommand):
    """An instant of recorded time that is not one: a date alone, a time without its offset from
    UTC, an instant still to come, or an interval that ends before it starts."""


class BeyondTheLog(InvalidCommand):
    """A proof or checkpoint asked of tree sizes the audit log does not have (yet), or of sizes
    in the wrong order."""


# -- not found (HTTP 404) -----------------------------------------------------------------------


class NotFound(DomainError):
    """No such contract, notice, variation, board, meeting, obligation or account."""


# -- refused in the current state (HTTP 409) ----------------------------------------------------


class Conflict(DomainError):
    """The command is well formed but the ledger's current state refuses it."""


class AlreadyExists(Conflict):
    """Something with this identity is already in the ledger."""


class InterventionAlreadyRecorded(AlreadyExists):
    """An intervention of that kind, made by the same person or body on the same day, is on the
    record already: a different account of it is a correction."""


class AlreadySigned(Conflict):
    """A party may sign a contract once."""


class ContractNotDraft(Conflict):
    """Terms are drafted only before anyone has signed."""


class ContractNotLive(Conflict):
    """The command needs a signed contract that has not ended."""


class ContractEnded(Conflict):
    """An ended contract (expired, terminated or returned in house) takes no more changes."""


class VariationNotOpen(Conflict):
    """The variation was already agreed, rejected or withdrawn."""


class VariationAlreadyOpen(Conflict):
    """One proposal at a time per subject, so that the parties agree to a known baseline."""


class OwnVariation(Conflict):
    """A party cannot agree or reject its own proposal; only the proposer withdraws it."""


class NotProposer(Conflict):
    """Only the party that proposed a variation may withdraw it."""


class NotAParty(Conflict):
    """The acting organisation is neither the commissioner nor the provider of the contract."""


class WrongParty(Conflict):
    """The command belongs to the other party (the trust reports finances, the council pays)."""


class MeetingNotScheduled(Conflict):
    """Only a scheduled meeting can be held or cancelled."""


class ObligationNotOpen(Conflict):
    """The obligation was already met or missed."""


class ReservedMatterNotOpen(Conflict):
    """The reserved matter was already decided."""


class ReviewAlreadyHeld(Conflict):
    """One annual review per contract year."""


class NoSuchOption(Conflict):
    """The contract has no unused extension option of that length."""


class TermNotEnded(Conflict):
    """A contract expires only once the last day of its term has come."""


class ActionAlreadyCompleted(Conflict):
    """An action agreed at a meeting or review is completed once."""


class NoticeClosed(Conflict):
    """A closed performance notice takes no more plans or decisions."""


class NoPlanToDecide(Conflict):
    """The notice has no remedial plan awaiting a decision."""


class PlanAwaitingDecision(Conflict):
    """A new plan waits until the commissioner has decided on the last one."""


class AccountDisabled(Conflict):
    """The account is disabled."""


class AccountNotDisabled(Conflict):
    """Only a disabled account can be enabled."""


class PlanAlreadyAccepted(Conflict):
    """The notice's remedial plan was accepted; what remains is to resolve or escalate it."""


class NotAnAuditor(Conflict):
    """Contracts are granted only to auditor accounts; the others see their own contracts."""


class ContractAlreadyGranted(Conflict):
    """The auditor already reads this contract."""


class ContractNotGranted(Conflict):
    """The auditor was never granted this contract, or it was already revoked."""


class ReferenceInUse(Conflict):
    """Another KPI on the contract's schedule already has this reference."""


class ReturnAlreadySubmitted(Conflict):
    """One return per period: a changed figure is a restatement, which keeps the first."""


class QueryOpen(Conflict):
    """A return is accepted only once every query on it has been answered."""


class QueryAlreadyAnswered(Conflict):
    """A query is answered once; a further question is a new query."""


class ReturnAlreadyAccepted(Conflict):
    """The return was accepted and has not been restated since."""


class PublicationAlreadyImported(Conflict):
    """A file with this SHA-256 was already taken into the publication: importing it again
    changes nothing, and an older edition read again does not undo a newer one."""


# -- optimistic concurrency (HTTP 412) ----------------------------------------------------------


class StaleVersion(DomainError):
    """The caller's view of the aggregate is older than the ledger's (a stale If-Match)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"you read version {expected} but the ledger holds version {actual}: "
            "read it again and decide on what it says now"
        )
        self.expected = expected
        self.actual = actual
