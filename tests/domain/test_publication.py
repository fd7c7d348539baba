"""Specifications of a DfE publication: a table imported with its file's name, SHA-256, row count
and figures; a later edition recording exactly what it changed; the same file refused a second
time, whichever edition it was; suppression symbols kept as symbols; bad input refused by rule.

The figures are DfE's, from the children in need census (c1, the year to 31 March 2025):
Sandwell's re-referrals 844 of 3,723, 22.7%; England's 22.6%; the West Midlands' 19.5%.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import (
    DomainError,
    InvalidPublication,
    PublicationAlreadyImported,
    UnknownIndicator,
)
from domain.indicators import Suppression
from domain.ledger import ledger_id
from domain.publication import (
    Change,
    Discrepancy,
    Edition,
    Figure,
    Level,
    Publication,
)
from tests.domain.specs import ADMIN, fact, given
from tests.domain.then import refused, replayed

DATASET = "c1_children_in_need_referrals_and_rereferrals"
EDITION_2025 = f"{DATASET}_2013_to_2025.csv"
EDITION_2026 = f"{DATASET}_2013_to_2026.csv"
SHA_2025 = hashlib.sha256(b"2025 edition").hexdigest()
SHA_2026 = hashlib.sha256(b"2026 edition").hexdigest()

SANDWELL = Figure(
    "rereferrals_12m",
    2025,
    Level.LOCAL_AUTHORITY,
    "E08000028",
    "333",
    "E12000005",
    "22.7",
    "844",
    "3723",
)
ENGLAND = Figure(
    "rereferrals_12m", 2025, Level.NATIONAL, "E92000001", None, None, "22.6", "142900", "632830"
)
WEST_MIDLANDS = Figure(
    "rereferrals_12m", 2025, Level.REGIONAL, "E12000005", None, None, "19.5", "12220", "62720"
)
# Rutland's 2025 re-referrals, suppressed to protect confidentiality: never a 0.
RUTLAND = Figure(
    "rereferrals_12m", 2025, Level.LOCAL_AUTHORITY, "E06000017", "857", "E12000004", "c", "c", "95"
)
PLACES = {
    "E08000028": "Sandwell",
    "E92000001": "England",
    "E12000005": "West Midlands",
    "E06000017": "Rutland",
}
# A regional value that DfE computed from counts it then rounded to the nearest 10.
ROUNDED = Discrepancy("rereferrals_12m", 2025, Level.REGIONAL, "E12000005", "19.4", True)

FIRST: dict[str, Any] = {
    "dataset": DATASET,
    "file": EDITION_2025,
    "sha256": SHA_2025,
    "rows": 2132,
    "figures": (SANDWELL, ENGLAND, WEST_MIDLANDS),
    "discrepancies": (ROUNDED,),
    "places": {code: PLACES[code] for code in ("E08000028", "E92000001", "E12000005")},
}


def imported(**changes: Any) -> Publication:
    return Publication.import_file(**{**FIRST, "actor": ADMIN, **changes})


def given_the_2025_edition() -> Publication:
    publication = given(
        fact(Publication.Imported, **FIRST),
        originator_id=Publication.id_for(DATASET),
        actor=ADMIN,
    )
    assert isinstance(publication, Publication)
    return publication


def restate(publication: Publication, **changes: Any) -> None:
    publication.restate(
        **{
            "file": EDITION_2026,
            "sha256": SHA_2026,
            "rows": 2288,
            "figures": FIRST["figures"],
            "discrepancies": (),
            "places": PLACES,
            "actor": ADMIN,
            **changes,
        }
    )


# -- importing -----------------------------------------------------------------------------------


def test_a_table_is_imported_with_its_file_its_sha256_its_rows_and_its_figures() -> None:
    publication = imported()

    [event] = publication.collect_events()
    assert isinstance(event, Publication.Imported)
    assert (event.file, event.sha256, event.rows) == (EDITION_2025, SHA_2025, 2132)
    assert event.actor == ADMIN
    assert event.figures == (SANDWELL, ENGLAND, WEST_MIDLANDS)
    assert event.discrepancies == (ROUNDED,)
    assert publication.id == ledger_id(f"dfe:{DATASET}")
    assert publication.editions == (Edition(EDITION_2025, SHA_2025, 2132),)
    assert publication.figures[SANDWELL.key] == SANDWELL
    assert publication.discrepancies == {WEST_MIDLANDS.key: ROUNDED}


def test_every_edition_of_a_table_is_one_publication_whatever_its_year_range() -> None:
    assert Publication.id_for(DATASET) == imported(file=EDITION_2026).id


def test_a_figure_keeps_its_counts_and_a_suppression_stays_a_symbol() -> None:
    assert SANDWELL.published == Decimal("22.7")
    assert SANDWELL.counts == (844, 3723)
    assert RUTLAND.published is Suppression.SUPPRESSED
    assert RUTLAND.counts == (Suppression.SUPPRESSED, 95)


def test_what_is_stored_replays_to_the_same_publication_with_its_types() -> None:
    publication = imported()
    restate(
        publication,
        figures=(SANDWELL._replace(value="22.8"), ENGLAND, RUTLAND),
    )

    restored = replayed(publication.collect_events())

    assert restored == publication
    assert all(isinstance(figure, Figure) for figure in restored.figures.values())
    assert all(isinstance(figure.level, Level) for figure in restored.figures.values())
    assert restored.figures[RUTLAND.key].published is Suppression.SUPPRESSED
    assert restored.editions[-1] == Edition(EDITION_2026, SHA_2026, 2288)


# -- a later edition -----------------------------------------------------------------------------


def test_a_later_edition_records_exactly_the_figures_it_added_removed_and_changed() -> None:
    publication = given_the_2025_edition()
    restated_sandwell = SANDWELL._replace(value="22.8", numerator="849")

    restate(publication, figures=(restated_sandwell, ENGLAND, RUTLAND))

    [event] = publication.collect_events()
    assert isinstance(event, Publication.Restated)
    assert (event.file, event.sha256, event.rows) == (EDITION_2026, SHA_2026, 2288)
    assert event.added == (RUTLAND,)
    assert event.removed == (WEST_MIDLANDS,)
    assert event.changed == (Change(SANDWELL, restated_sandwell),)
    assert event.actor == ADMIN
    assert publication.figures[SANDWELL.key] == restated_sandwell
    assert WEST_MIDLANDS.key not in publication.figures
    # The mismatch was the West Midlands' value, which this edition no longer publishes.
    assert publication.discrepancies == {}
    assert publication.file == EDITION_2026
    assert [edition.sha256 for edition in publication.editions] == [SHA_2025, SHA_2026]


def test_an_edition_that_changes_no_figure_is_still_recorded_with_its_file() -> None:
    publication = given_the_2025_edition()

    restate(publication)

    [event] = publication.collect_events()
    assert isinstance(event, Publication.Restated)
    assert (event.added, event.removed, event.changed) == ((), (), ())
    assert publication.sha256 == SHA_2026


def test_the_same_file_is_refused_a_second_time_and_records_nothing() -> None:
    publication = given_the_2025_edition()

    with refused(publication, PublicationAlreadyImported):
        restate(publication, file="renamed.csv", sha256=SHA_2025)


def test_an_older_edition_read_again_does_not_undo_a_newer_one() -> None:
    publication = given_the_2025_edition()
    restate(publication, figures=(SANDWELL._replace(value="22.8"), ENGLAND))
    publication.collect_events()

    with refused(publication, PublicationAlreadyImported):
        restate(publication, file=EDITION_2025, sha256=SHA_2025)
    assert publication.figures[SANDWELL.key].value == "22.8"


# -- what is refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({"dataset": " "}, InvalidPublication, "known by its table's name"),
        ({"file": ""}, InvalidPublication, "names the file"),
        ({"sha256": "E548B10B"}, InvalidPublication, "64 lower-case hex digits"),
        ({"rows": -1}, InvalidPublication, "cannot have -1 rows"),
        (
            {"figures": (SANDWELL._replace(indicator="rereferrals"),)},
            UnknownIndicator,
            "not an indicator in the national catalogue",
        ),
        ({"figures": (SANDWELL._replace(year=25),)}, InvalidPublication, "not a reporting year"),
        (
            {"figures": (SANDWELL._replace(value="22,7"),)},
            InvalidPublication,
            "neither a number nor a DfE symbol",
        ),
        (
            {"figures": (SANDWELL._replace(value="1E+1"),)},
            InvalidPublication,
            "neither a number nor a DfE symbol",
        ),
        (
            {"figures": (SANDWELL._replace(denominator="-3723"),)},
            InvalidPublication,
            "count '-3723' is neither",
        ),
        (
            {"figures": (SANDWELL._replace(la_number=None),)},
            InvalidPublication,
            "carries its DfE number and its region",
        ),
        (
            {"figures": (ENGLAND._replace(region_code="E12000005"),)},
            InvalidPublication,
            "carries its DfE number and its region",
        ),
        ({"figures": (SANDWELL, SANDWELL)}, InvalidPublication, "is given twice"),
        ({"figures": (SANDWELL, ENGLAND)}, InvalidPublication, "names no published number"),
        (
            {"discrepancies": (ROUNDED._replace(recomputed="n/a"),)},
            InvalidPublication,
            "not a recomputed value",
        ),
        ({"places": {"E08000028": "Sandwell"}}, InvalidPublication, "no name is given"),
    ],
)
def test_a_file_that_breaks_a_rule_is_refused_by_a_typed_error(
    changes: dict[str, Any], error: type[DomainError], says: str
) -> None:
    with pytest.raises(error) as caught:
        imported(**changes)

    assert says in caught.value.detail


def test_a_later_edition_that_breaks_a_rule_is_refused_and_records_nothing() -> None:
    publication = given_the_2025_edition()

    with refused(publication, InvalidPublication):
        restate(publication, figures=(SANDWELL._replace(value="twenty-two"),))
