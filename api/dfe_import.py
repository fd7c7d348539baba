"""`trustledger import dfe`: DfE's published tables taken into the ledger, one `Publication` per
table.

An edge module, as api/ofsted.py is. What it holds to:
- every file is read by api/dfe.py first, and checked against the domain's rules in memory; if
  any file has a problem (a row, a cell, a missing column, two editions of one table given
  together), nothing at all is written and every problem is returned with its line;
- then each table is recorded, or restated by its new edition with exactly what changed, under
  an idempotency key made of the table and the file's SHA-256. A file already taken in is
  refused by the ledger (`PublicationAlreadyImported`) and reported "unchanged": importing it
  again writes nothing, whoever does it. Each table is one write: a failure part way (the
  database gone) leaves whole tables written, and importing the files again completes it;
- a file no catalogue indicator is read from (DfE's national adoption timings, or a table
  whose name was changed on the way, so that the reader cannot tell which it is) is reported
  "skipped" and not recorded: the ledger keeps the figures it uses;
- the published values that their own counts, divided and rounded, do not give are recorded
  with the publication and reported: not hidden, not corrected.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from api.dfe import (
    USED_FILES,
    FileFacts,
    Mismatch,
    Problem,
    PublishedStatistics,
    PublishedValue,
    file_stem,
    read_published,
    read_published_content,
)
from domain.actor import Actor
from domain.application import Session, Trustledger, Write
from domain.errors import DomainError, PublicationAlreadyImported
from domain.indicators import Suppression
from domain.publication import Discrepancy, Figure, Publication


class Outcome(StrEnum):
    RECORDED = "recorded"  # the table's first edition in the ledger
    RESTATED = "restated"  # a new edition of a table the ledger holds
    UNCHANGED = "unchanged"  # this very file was imported before
    SKIPPED = "skipped"  # no catalogue indicator is read from it


@dataclass(frozen=True)
class PublicationImported:
    """What became of one file."""

    file: str
    sha256: str
    rows: int
    values: int
    mismatches: int  # published values their counts do not give...
    beyond_count_rounding: int  # ...of which no rounding of the counts explains
    outcome: Outcome
    added: int = 0
    removed: int = 0
    changed: int = 0


@dataclass(frozen=True)
class DfeImport:
    """What an import did, per file; or why nothing was written."""

    files: tuple[PublicationImported, ...]
    problems: tuple[Problem, ...]
    mismatches: tuple[Mismatch, ...]  # every mismatch read, to be shown
    position: int | None  # the highest log position written, for reading one's own writes

    @property
    def imported(self) -> bool:
        return not self.problems


def import_dfe(ledger: Trustledger, paths: Sequence[Path], actor: Actor) -> DfeImport:
    """Import DfE's files from disk."""
    repeated = _editions_of_one_table([path.name for path in paths])
    if repeated:
        return DfeImport((), repeated, (), None)
    return import_published(ledger, read_published(paths), actor)


def import_uploaded(
    ledger: Trustledger, files: Sequence[tuple[str, bytes]], actor: Actor
) -> DfeImport:
    """Import DfE's files sent as their names and bytes."""
    repeated = _editions_of_one_table([name for name, _ in files])
    if repeated:
        return DfeImport((), repeated, (), None)
    return import_published(ledger, read_published_content(files), actor)


def _editions_of_one_table(names: Sequence[str]) -> tuple[Problem, ...]:
    """Two files of one table, refused before reading: the reader would report each value of
    the second as a second value, thousands of problems for one mistake."""
    first: dict[str, int] = {}
    problems = []
    for index, name in enumerate(names):
        seen = first.setdefault(file_stem(name), index)
        if seen != index:
            problems.append(
                Problem(name, 0, f"is an edition of the same table as {names[seen]}: import one")
            )
    return tuple(problems)


def import_published(
    ledger: Trustledger, statistics: PublishedStatistics, actor: Actor
) -> DfeImport:
    """Record what files already read say, in their order; nothing at all if any has a problem."""
    editions = [_Edition.of(facts, statistics) for facts in statistics.files]
    problems = [*statistics.problems, *_problems(editions, actor)]
    if problems:
        return DfeImport((), tuple(problems), statistics.mismatches, None)
    imported = [_take(ledger, edition, actor) for edition in editions]
    positions = [position for _, position in imported if position is not None]
    return DfeImport(
        files=tuple(done for done, _ in imported),
        problems=(),
        mismatches=statistics.mismatches,
        position=max(positions, default=None),
    )


@dataclass(frozen=True)
class _Edition:
    """One file, as the ledger would take it in."""

    facts: FileFacts
    figures: tuple[Figure, ...]
    discrepancies: tuple[Discrepancy, ...]
    places: dict[str, str]
    mismatches: tuple[Mismatch, ...]

    @classmethod
    def of(cls, facts: FileFacts, statistics: PublishedStatistics) -> _Edition:
        values = [value for value in statistics.values if value.file == facts.name]
        mismatches = tuple(m for m in statistics.mismatches if m.value.file == facts.name)
        # Files list the newest year first or last; a place's name is its latest year's.
        oldest_first = sorted(values, key=lambda value: value.year)
        return cls(
            facts=facts,
            figures=tuple(_figure(value) for value in values),
            discrepancies=tuple(_discrepancy(mismatch) for mismatch in mismatches),
            places={value.geography_code: value.name for value in oldest_first},
            mismatches=mismatches,
        )

    @property
    def dataset(self) -> str:
        return file_stem(self.facts.name)

    def record(self, actor: Actor) -> Publication:
        return Publication.import_file(
            dataset=self.dataset,
            file=self.facts.name,
            sha256=self.facts.sha256,
            rows=self.facts.rows,
            figures=self.figures,
            discrepancies=self.discrepancies,
            places=self.places,
            actor=actor,
        )

    def restate(self, publication: Publication, actor: Actor) -> tuple[int, int, int]:
        found = publication.restate(
            file=self.facts.name,
            sha256=self.facts.sha256,
            rows=self.facts.rows,
            figures=self.figures,
            discrepancies=self.discrepancies,
            places=self.places,
            actor=actor,
        )
        return len(found.added), len(found.removed), len(found.changed)

    def report(
        self, outcome: Outcome, added: int = 0, removed: int = 0, changed: int = 0
    ) -> PublicationImported:
        return PublicationImported(
            file=self.facts.name,
            sha256=self.facts.sha256,
            rows=self.facts.rows,
            values=len(self.figures),
            mismatches=len(self.mismatches),
            beyond_count_rounding=sum(not m.within_count_rounding for m in self.mismatches),
            outcome=outcome,
            added=added,
            removed=removed,
            changed=changed,
        )


def _problems(editions: Sequence[_Edition], actor: Actor) -> Iterator[Problem]:
    """What the domain would refuse of each file, found by recording it in memory."""
    for edition in editions:
        if edition.dataset not in USED_FILES:
            continue
        try:
            edition.record(actor)
        except DomainError as error:
            yield Problem(edition.facts.name, 0, error.detail)


def _take(
    ledger: Trustledger, edition: _Edition, actor: Actor
) -> tuple[PublicationImported, int | None]:
    if edition.dataset not in USED_FILES:
        return edition.report(Outcome.SKIPPED), None
    publication_id = Publication.id_for(edition.dataset)

    def run(session: Session) -> tuple[Publication, tuple[str, int, int, int]]:
        publication = session.find(publication_id, Publication)
        if publication is None:
            return session.add(edition.record(actor)), (Outcome.RECORDED, 0, 0, 0)
        return publication, (Outcome.RESTATED, *edition.restate(publication, actor))

    # The same file, imported again by the same actor, meets its first outcome by this key;
    # by anyone else, the publication refuses it.
    key = f"dfe:{edition.dataset}:{edition.facts.sha256}"
    try:
        outcome = ledger.execute(
            run, actor=actor, write=Write(idempotency_key=key, fingerprint=key)
        )
    except PublicationAlreadyImported:
        return edition.report(Outcome.UNCHANGED), None
    if outcome.replayed:
        return edition.report(Outcome.UNCHANGED), None
    said, added, removed, changed = outcome.value
    return edition.report(Outcome(said), added, removed, changed), outcome.position


def _figure(value: PublishedValue) -> Figure:
    return Figure(
        indicator=value.indicator,
        year=value.year,
        level=value.level,
        geography_code=value.geography_code,
        la_number=value.la_number,
        region_code=value.region_code,
        value=_text(value.value),
        numerator=None if value.numerator is None else _text(value.numerator),
        denominator=None if value.denominator is None else _text(value.denominator),
    )


def _discrepancy(mismatch: Mismatch) -> Discrepancy:
    value = mismatch.value
    return Discrepancy(
        indicator=value.indicator,
        year=value.year,
        level=value.level,
        geography_code=value.geography_code,
        recomputed=_text(mismatch.recomputed),
        within_count_rounding=mismatch.within_count_rounding,
    )


def _text(number: int | Decimal | Suppression) -> str:
    """A number as DfE prints it, never in exponent form (Decimal(0).scaleb(-1) is "0E-1")."""
    if isinstance(number, Suppression):
        return number.value
    return f"{number:f}" if isinstance(number, Decimal) else str(number)
