"""A DfE statistical publication as the ledger took it in: one aggregate per published table.

DfE publishes each table of children's social care statistics once a year under a name that
moves its year range on (`c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv`,
then `..._2013_to_2026.csv`). The table is the aggregate, known by the name without the range
(`Publication.id_for`), so a later edition lands on the same aggregate and records what it
changed; the history keeps what each edition said.

What an import records (DESIGN §2: nothing is overwritten):
- `Imported`: the file's name, SHA-256 and row count, and the catalogue indicators' values it
  publishes, one `Figure` per indicator, year and place. A suppression symbol stays a symbol,
  never 0. Only the catalogue's indicators are kept, not every column, so that the event stays
  a few hundred kilobytes for the largest table.
- `Restated`: a later edition's name, SHA-256 and row count, and exactly what it changed:
  figures added, removed, and changed with the old and the new.
- Both carry the published values that the published counts, divided and rounded half up as
  DfE rounds, do not give (`Discrepancy`): reported, never hidden nor corrected.

Figures are NamedTuples: the ledger's JSON keeps a tuple as an array, so a figure is stored as
one short array rather than a dictionary naming its nine fields, and the apply methods give
the arrays back their types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.domain import event

from domain.actor import Actor
from domain.errors import InvalidPublication, PublicationAlreadyImported, UnknownIndicator
from domain.indicators import CATALOGUE, Suppression
from domain.ledger import LedgerAggregate, ledger_id

ENGLAND = "E92000001"  # the ONS code DfE's national rows carry

_SHA256 = re.compile(r"[0-9a-f]{64}")
# A number as DfE prints it: ASCII digits, perhaps a decimal point, never an exponent.
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_WHOLE = re.compile(r"[0-9]+")
_SYMBOLS = frozenset(symbol.value for symbol in Suppression)


class Level(StrEnum):
    """The geography a published value is about, as Explore Education Statistics names it."""

    NATIONAL = "national"
    REGIONAL = "regional"
    LOCAL_AUTHORITY = "local_authority"


Count = int | Decimal
FigureKey = tuple[str, int, str, str]  # indicator, year, level, geography code


class Figure(NamedTuple):
    """One catalogue indicator's published value for a year and a place, as the file gives it.

    Numbers are kept as the text DfE printed ("22.7", "269.9") and symbols as themselves
    ("c"), so that a figure compares, and is stored, exactly as published."""

    indicator: str
    year: int  # DfE's time_period: the reporting year ending in it
    level: Level
    geography_code: str  # E92000001, a region's code, or the LA's ONS code
    la_number: str | None  # DfE's three digits; None above local authority level
    region_code: str | None  # the LA's region as the file gives it; None above LA level
    value: str
    numerator: str | None
    denominator: str | None

    @classmethod
    def restored(cls, stored: Sequence[Any]) -> Figure:
        """A figure from a stored event, where JSON gave it back as an array of plain values."""
        indicator, year, level, *place_and_value = stored
        return cls(indicator, year, Level(level), *place_and_value)

    @property
    def key(self) -> FigureKey:
        return (self.indicator, self.year, self.level.value, self.geography_code)

    @property
    def published(self) -> Decimal | Suppression:
        return _number_or_symbol(self.value)

    @property
    def counts(self) -> tuple[Count | Suppression | None, Count | Suppression | None]:
        """The numerator and denominator, whole counts as ints (FTEs keep their decimals)."""
        return _count(self.numerator), _count(self.denominator)


class Change(NamedTuple):
    """A figure a later edition gives otherwise: what it was and what it became."""

    previous: Figure
    figure: Figure

    @classmethod
    def restored(cls, stored: Sequence[Any]) -> Change:
        previous, figure = stored
        return cls(Figure.restored(previous), Figure.restored(figure))


class Discrepancy(NamedTuple):
    """A published value that its own published counts, divided and rounded half up, do not
    give. Within the counts' rounding when counts DfE rounded before publishing them (to the
    nearest 10 above LA level, to 0.1 of an FTE) could give it: expected, not an error."""

    indicator: str
    year: int
    level: Level
    geography_code: str
    recomputed: str
    within_count_rounding: bool

    @classmethod
    def restored(cls, stored: Sequence[Any]) -> Discrepancy:
        indicator, year, level, code, recomputed, within = stored
        return cls(indicator, year, Level(level), code, recomputed, within)

    @property
    def key(self) -> FigureKey:
        return (self.indicator, self.year, self.level.value, self.geography_code)


class Differences(NamedTuple):
    """What an edition says otherwise than the publication holds."""

    added: tuple[Figure, ...]
    removed: tuple[Figure, ...]
    changed: tuple[Change, ...]


@dataclass(frozen=True)
class Edition:
    """A file taken into the publication."""

    file: str
    sha256: str
    rows: int


class Publication(LedgerAggregate):
    """One DfE table, through every edition imported."""

    class Imported(LedgerAggregate.Created):
        dataset: str
        file: str
        sha256: str
        rows: int
        figures: tuple[Figure, ...]
        discrepancies: tuple[Discrepancy, ...]
        places: dict[str, str]

    class Restated(LedgerAggregate.Event):
        file: str
        sha256: str
        rows: int
        added: tuple[Figure, ...]
        removed: tuple[Figure, ...]
        changed: tuple[Change, ...]
        discrepancies: tuple[Discrepancy, ...]
        places: dict[str, str]

    def __init__(
        self,
        dataset: str,
        file: str,
        sha256: str,
        rows: int,
        figures: Sequence[Any],
        discrepancies: Sequence[Any],
        places: Mapping[str, str],
    ) -> None:
        self.dataset = dataset
        self.editions: tuple[Edition, ...] = (Edition(file, sha256, rows),)
        restored = (Figure.restored(figure) for figure in figures)
        self.figures = {figure.key: figure for figure in restored}
        self._take_discrepancies(discrepancies)
        self.places = dict(places)

    @classmethod
    def id_for(cls, dataset: str) -> UUID:
        """The table's id, from its file's name without ".csv" and the year range."""
        return ledger_id(f"dfe:{dataset}")

    @classmethod
    def import_file(
        cls,
        *,
        dataset: str,
        file: str,
        sha256: str,
        rows: int,
        figures: Iterable[Figure],
        discrepancies: Iterable[Discrepancy],
        places: Mapping[str, str],
        actor: Actor,
    ) -> Publication:
        """A table's first edition in the ledger. `places` names each geography code the
        figures use, as the file spells it."""
        if not dataset.strip():
            raise InvalidPublication("a publication is known by its table's name")
        _check_file(file, sha256, rows)
        checked = _checked_figures(figures)
        return cls._create(
            cls.Imported,
            id=cls.id_for(dataset),
            dataset=dataset,
            file=file,
            sha256=sha256,
            rows=rows,
            figures=checked,
            discrepancies=_checked_discrepancies(discrepancies, checked),
            places=_checked_places(places, checked),
            actor=actor,
        )

    # -- the latest edition, and a later one --------------------------------------------------

    @property
    def file(self) -> str:
        return self.editions[-1].file

    @property
    def sha256(self) -> str:
        return self.editions[-1].sha256

    def _differences(self, figures: Iterable[Figure]) -> Differences:
        """What an edition holding these figures would change: added, removed and changed."""
        given = {figure.key: figure for figure in figures}
        held = self.figures
        return Differences(
            added=tuple(figure for key, figure in given.items() if key not in held),
            removed=tuple(figure for key, figure in held.items() if key not in given),
            changed=tuple(
                Change(held[key], figure)
                for key, figure in given.items()
                if key in held and held[key] != figure
            ),
        )

    def restate(
        self,
        *,
        file: str,
        sha256: str,
        rows: int,
        figures: Iterable[Figure],
        discrepancies: Iterable[Discrepancy],
        places: Mapping[str, str],
        actor: Actor,
    ) -> Differences:
        """Take in a later edition, recording exactly what it changed; what that was.

        A file already taken in is refused, whichever edition it was: reading an older edition
        again must not undo what a newer one restated."""
        _check_file(file, sha256, rows)
        if any(edition.sha256 == sha256 for edition in self.editions):
            raise PublicationAlreadyImported(f"{file} ({sha256[:12]}…) was already imported")
        checked = _checked_figures(figures)
        found = self._differences(checked)
        self._restated(
            file=file,
            sha256=sha256,
            rows=rows,
            added=found.added,
            removed=found.removed,
            changed=found.changed,
            discrepancies=_checked_discrepancies(discrepancies, checked),
            places=_checked_places(places, checked),
            actor=actor,
        )
        return found

    @event(Restated)
    def _restated(
        self,
        file: str,
        sha256: str,
        rows: int,
        added: Sequence[Any],
        removed: Sequence[Any],
        changed: Sequence[Any],
        discrepancies: Sequence[Any],
        places: Mapping[str, str],
        actor: Actor,
    ) -> None:
        self.editions = (*self.editions, Edition(file, sha256, rows))
        for figure in map(Figure.restored, removed):
            del self.figures[figure.key]
        for figure in map(Figure.restored, added):
            self.figures[figure.key] = figure
        for change in map(Change.restored, changed):
            self.figures[change.figure.key] = change.figure
        self._take_discrepancies(discrepancies)
        self.places = dict(places)

    def _take_discrepancies(self, discrepancies: Sequence[Any]) -> None:
        restored = (Discrepancy.restored(each) for each in discrepancies)
        self.discrepancies = {discrepancy.key: discrepancy for discrepancy in restored}


# -- rules -------------------------------------------------------------------------------------


def _check_file(file: str, sha256: str, rows: int) -> None:
    if not file.strip():
        raise InvalidPublication("an edition names the file it was read from")
    if not _SHA256.fullmatch(sha256):
        raise InvalidPublication("an edition's SHA-256 is 64 lower-case hex digits")
    if rows < 0:
        raise InvalidPublication(f"a file cannot have {rows} rows")


def _checked_figures(figures: Iterable[Figure]) -> tuple[Figure, ...]:
    checked: dict[FigureKey, Figure] = {}
    for figure in figures:
        _check_figure(figure)
        if figure.key in checked:
            raise InvalidPublication(f"{_named(figure)} is given twice")
        checked[figure.key] = figure
    return tuple(checked.values())


def _check_figure(figure: Figure) -> None:
    if figure.indicator not in CATALOGUE:
        raise UnknownIndicator(
            f"{figure.indicator!r} is not an indicator in the national catalogue"
        )
    if not 1000 <= figure.year <= 9999:
        raise InvalidPublication(f"{figure.year} is not a reporting year")
    if not figure.geography_code.strip():
        raise InvalidPublication(f"{figure.indicator} {figure.year} names no place")
    is_la = figure.level is Level.LOCAL_AUTHORITY
    if is_la != (figure.la_number is not None) or is_la != (figure.region_code is not None):
        raise InvalidPublication(
            f"{_named(figure)}: a local authority's figure, and only one, carries its DfE "
            "number and its region"
        )
    if figure.value not in _SYMBOLS and not _NUMBER.fullmatch(figure.value):
        raise InvalidPublication(
            f"{_named(figure)}: {figure.value!r} is neither a number nor a DfE symbol"
        )
    for count in (figure.numerator, figure.denominator):
        if count is not None and count not in _SYMBOLS and not _NUMBER.fullmatch(count):
            raise InvalidPublication(
                f"{_named(figure)}: count {count!r} is neither a number nor a DfE symbol"
            )


def _checked_discrepancies(
    discrepancies: Iterable[Discrepancy], figures: Sequence[Figure]
) -> tuple[Discrepancy, ...]:
    """Each mismatch names a published number of these figures and the number its counts give."""
    numbers = {figure.key for figure in figures if _NUMBER.fullmatch(figure.value)}
    checked = tuple(discrepancies)
    for discrepancy in checked:
        if discrepancy.key not in numbers:
            raise InvalidPublication(
                f"a mismatch for {discrepancy.indicator} {discrepancy.year} "
                f"{discrepancy.geography_code} names no published number"
            )
        if not _NUMBER.fullmatch(discrepancy.recomputed):
            raise InvalidPublication(f"{discrepancy.recomputed!r} is not a recomputed value")
    return checked


def _checked_places(places: Mapping[str, str], figures: Sequence[Figure]) -> dict[str, str]:
    named = {code: " ".join(name.split()) for code, name in places.items()}
    unnamed = sorted({f.geography_code for f in figures} - {c for c, n in named.items() if n})
    if unnamed:
        raise InvalidPublication(f"no name is given for {', '.join(unnamed[:5])}")
    return named


def _named(figure: Figure) -> str:
    return f"{figure.indicator} for {figure.geography_code} in {figure.year}"


def _number_or_symbol(text: str) -> Decimal | Suppression:
    return Suppression(text) if text in _SYMBOLS else Decimal(text)


def _count(text: str | None) -> Count | Suppression | None:
    if text is None:
        return None
    if _WHOLE.fullmatch(text):
        return int(text)
    return _number_or_symbol(text)
