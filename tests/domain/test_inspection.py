"""Specifications of an Ofsted inspection or visit, as published: recorded with its source line,
corrected by a later publication with both values kept, visits themed and never graded, and
ILACS's combined judgement of children in care and care leavers kept as it was before 2023.

The facts are Ofsted's: Staffordshire's ILACS inspection of 6 November 2023 (published 12
January 2024), whose care leavers judgement went from good to requires improvement between two
editions of the tables; Sandwell's of 9 May 2022 (one combined judgement); Sandwell's focused
visit of 30 October 2024 on the front door.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pytest

from domain.errors import (
    AreaNotJudged,
    CorrectionChangesNothing,
    DomainError,
    GradeNotOnScale,
    InvalidInspection,
    InvalidOrganisation,
    JudgementOnVisit,
    MissingDetail,
    MissingJudgement,
)
from domain.inspection import (
    Area,
    Correction,
    Grade,
    Inspection,
    InspectionType,
    PublishedLine,
    areas_judged,
    latest_inspections,
)
from domain.ledger import ledger_id
from tests.domain.specs import ADMIN, fact, given
from tests.domain.then import refused, replayed

FIRST_EDITION = PublishedLine("outcomes_2024.csv", hashlib.sha256(b"2024").hexdigest(), 131)
SECOND_EDITION = PublishedLine("outcomes_2025.csv", hashlib.sha256(b"2025").hexdigest(), 127)

G, RI = Grade.GOOD, Grade.REQUIRES_IMPROVEMENT

STAFFORDSHIRE: dict[str, Any] = {
    "ons_code": "E10000028",
    "la_number": "860",
    "la_name": "Staffordshire",
    "inspection_type": InspectionType.ILACS_STANDARD,
    "starts_on": date(2023, 11, 6),
    "published_on": date(2024, 1, 12),
    "judgements": {
        Area.OVERALL_EFFECTIVENESS: RI,
        Area.IMPACT_OF_LEADERS: RI,
        Area.HELP_AND_PROTECTION: RI,
        Area.CHILDREN_IN_CARE: G,
        Area.CARE_LEAVERS: G,
    },
    "theme": None,
    "source": FIRST_EDITION,
}
SANDWELL_2022: dict[str, Any] = {
    "ons_code": "E08000028",
    "la_number": "333",
    "la_name": "Sandwell",
    "inspection_type": InspectionType.ILACS,
    "starts_on": date(2022, 5, 9),
    "published_on": date(2022, 7, 5),
    "judgements": {
        Area.OVERALL_EFFECTIVENESS: RI,
        Area.IMPACT_OF_LEADERS: RI,
        Area.HELP_AND_PROTECTION: RI,
        Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS: RI,
    },
    "theme": None,
    "source": FIRST_EDITION,
}
SANDWELL_VISIT: dict[str, Any] = {
    **SANDWELL_2022,
    "inspection_type": InspectionType.FOCUSED_VISIT,
    "starts_on": date(2024, 10, 30),
    "published_on": date(2024, 11, 29),
    "judgements": {},
    "theme": "Front door",
}


def record(base: dict[str, Any], **changes: Any) -> Inspection:
    return Inspection.record(**{**base, "actor": ADMIN, **changes})


def given_staffordshire(**changes: Any) -> Inspection:
    inspection = given(
        fact(Inspection.Recorded, **{**STAFFORDSHIRE, **changes}),
        originator_id=Inspection.id_for(
            "E10000028",
            changes.get("inspection_type", InspectionType.ILACS_STANDARD),
            date(2023, 11, 6),
        ),
        actor=ADMIN,
    )
    assert isinstance(inspection, Inspection)
    return inspection


def given_visit() -> Inspection:
    visit = given(fact(Inspection.Recorded, **SANDWELL_VISIT), actor=ADMIN)
    assert isinstance(visit, Inspection)
    return visit


# -- recording ---------------------------------------------------------------------------------


def test_an_inspection_is_recorded_with_its_judgements_and_the_line_it_was_read_from() -> None:
    inspection = record(STAFFORDSHIRE)

    [recorded] = inspection.collect_events()
    assert isinstance(recorded, Inspection.Recorded)
    assert recorded.actor == ADMIN
    assert recorded.source == FIRST_EDITION
    assert recorded.judgements == STAFFORDSHIRE["judgements"]
    assert inspection.id == ledger_id("ofsted:E10000028:ilacs:2023-11-06")
    assert inspection.inspection_type is InspectionType.ILACS_STANDARD
    assert inspection.judgements[Area.CARE_LEAVERS] is G
    assert inspection.corrections == ()


def test_ilacs_sub_types_share_one_id_because_not_every_table_tells_them_apart() -> None:
    ids = {
        Inspection.id_for("E10000028", kind, date(2023, 11, 6))
        for kind in (
            InspectionType.ILACS,
            InspectionType.ILACS_STANDARD,
            InspectionType.ILACS_SHORT,
        )
    }
    visit = Inspection.id_for("E10000028", InspectionType.FOCUSED_VISIT, date(2023, 11, 6))

    assert len(ids) == 1
    assert visit not in ids


def test_what_is_stored_replays_to_the_same_inspection_with_its_enums() -> None:
    inspection = record(STAFFORDSHIRE)
    inspection.correct_judgement(
        area=Area.CARE_LEAVERS, grade=RI, source=SECOND_EDITION, actor=ADMIN
    )
    inspection.correct_judgement(
        area=Area.CHILDREN_IN_CARE, grade=None, source=SECOND_EDITION, actor=ADMIN
    )
    inspection.correct_type(
        inspection_type=InspectionType.ILACS_SHORT, source=SECOND_EDITION, actor=ADMIN
    )
    inspection.correct_publication_date(
        published_on=date(2024, 1, 15), source=SECOND_EDITION, actor=ADMIN
    )

    restored = replayed(inspection.collect_events())

    assert restored == inspection
    assert restored.inspection_type is InspectionType.ILACS_SHORT
    assert all(isinstance(area, Area) for area in restored.judgements)
    assert all(isinstance(grade, Grade) for grade in restored.judgements.values())
    assert [c.subject for c in restored.corrections] == [
        "care_leavers",
        "children_in_care",
        "inspection_type",
        "published_on",
    ]


def test_before_2023_ilacs_made_one_judgement_of_children_in_care_and_care_leavers() -> None:
    inspection = record(SANDWELL_2022)

    assert inspection.judgements[Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS] is RI
    assert Area.CHILDREN_IN_CARE not in inspection.judgements
    assert Area.CARE_LEAVERS not in inspection.judgements
    assert areas_judged(InspectionType.ILACS, date(2022, 12, 31))[-1] is (
        Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS
    )
    assert areas_judged(InspectionType.ILACS, date(2023, 1, 1))[-2:] == (
        Area.CHILDREN_IN_CARE,
        Area.CARE_LEAVERS,
    )


@pytest.mark.parametrize(
    ("base", "area"),
    [
        (SANDWELL_2022, Area.CHILDREN_IN_CARE),  # not split before 2023
        (SANDWELL_2022, Area.CARE_LEAVERS),
        (STAFFORDSHIRE, Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS),  # not combined from 2023
    ],
)
def test_an_area_the_framework_did_not_judge_then_is_refused(
    base: dict[str, Any], area: Area
) -> None:
    with pytest.raises(AreaNotJudged):
        record(base, judgements={**base["judgements"], area: G})


def test_the_combined_judgement_is_ilacs_alone() -> None:
    with pytest.raises(AreaNotJudged):
        record(
            SANDWELL_2022,
            inspection_type=InspectionType.SIF,
            starts_on=date(2015, 1, 27),
            published_on=date(2015, 6, 5),
        )


def test_an_area_stated_without_a_grade_is_no_judgement() -> None:
    inspection = record(
        SANDWELL_2022, judgements={**SANDWELL_2022["judgements"], Area.CARE_LEAVERS: None}
    )

    assert Area.CARE_LEAVERS not in inspection.judgements


def test_a_visit_carries_its_theme_and_no_grades() -> None:
    visit = record(SANDWELL_VISIT, theme="  Front   door ")

    assert visit.theme == "Front door"
    assert visit.judgements == {}
    assert not visit.inspection_type.judges


def test_a_grade_on_a_visit_is_refused() -> None:
    with pytest.raises(JudgementOnVisit):
        record(SANDWELL_VISIT, judgements={Area.OVERALL_EFFECTIVENESS: G})


@pytest.mark.parametrize(
    ("base", "changes"),
    [
        (SANDWELL_VISIT, {"theme": " "}),  # a visit has its theme
        (SANDWELL_VISIT, {"inspection_type": InspectionType.JTAI, "theme": None}),
        (STAFFORDSHIRE, {"theme": "Front door"}),  # an inspection judges instead
        (STAFFORDSHIRE, {"published_on": date(2023, 11, 5)}),  # published before it began
        (STAFFORDSHIRE, {"source": PublishedLine("t.csv", "not a sha", 2)}),
        (STAFFORDSHIRE, {"source": PublishedLine("", FIRST_EDITION.sha256, 2)}),
        (STAFFORDSHIRE, {"source": PublishedLine("t.csv", FIRST_EDITION.sha256, 0)}),
    ],
)
def test_an_inspection_that_contradicts_itself_is_refused(
    base: dict[str, Any], changes: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInspection):
        record(base, **changes)


def test_adequate_belongs_to_the_frameworks_before_the_sif() -> None:
    before_sif = record(
        SANDWELL_2022,
        inspection_type=InspectionType.PRE_SIF,
        starts_on=date(2013, 6, 24),
        published_on=date(2013, 8, 2),
        judgements={Area.OVERALL_EFFECTIVENESS: Grade.ADEQUATE},
    )

    assert before_sif.judgements == {Area.OVERALL_EFFECTIVENESS: Grade.ADEQUATE}
    with pytest.raises(GradeNotOnScale):
        record(STAFFORDSHIRE, judgements={Area.OVERALL_EFFECTIVENESS: Grade.ADEQUATE})
    with pytest.raises(GradeNotOnScale):
        record(
            SANDWELL_2022,
            inspection_type=InspectionType.PRE_SIF,
            starts_on=date(2013, 6, 24),
            published_on=date(2013, 8, 2),
            judgements={Area.OVERALL_EFFECTIVENESS: RI},
        )


def test_not_judged_is_a_grade_on_every_scale() -> None:
    inspection = record(
        STAFFORDSHIRE,
        judgements={**STAFFORDSHIRE["judgements"], Area.CARE_LEAVERS: Grade.NOT_JUDGED},
    )

    assert inspection.judgements[Area.CARE_LEAVERS] is Grade.NOT_JUDGED


def test_an_inspection_that_judges_has_an_overall_effectiveness() -> None:
    with pytest.raises(MissingJudgement):
        record(STAFFORDSHIRE, judgements={Area.IMPACT_OF_LEADERS: G})


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"ons_code": "E1000002"}, InvalidOrganisation),
        ({"la_number": "86"}, InvalidOrganisation),
        ({"la_name": "  "}, MissingDetail),
    ],
)
def test_an_inspection_names_its_local_authority_by_both_codes(
    changes: dict[str, Any], error: type[DomainError]
) -> None:
    with pytest.raises(error):
        record(STAFFORDSHIRE, **changes)


# -- corrections -------------------------------------------------------------------------------


def test_a_later_publication_corrects_a_judgement_and_both_values_stay() -> None:
    staffordshire = given_staffordshire()

    staffordshire.correct_judgement(
        area=Area.CARE_LEAVERS, grade=RI, source=SECOND_EDITION, actor=ADMIN
    )

    [corrected] = staffordshire.collect_events()
    assert isinstance(corrected, Inspection.JudgementCorrected)
    assert (corrected.area, corrected.previous, corrected.grade) == (Area.CARE_LEAVERS, G, RI)
    assert corrected.source == SECOND_EDITION
    assert corrected.actor == ADMIN
    assert staffordshire.judgements[Area.CARE_LEAVERS] is RI
    assert staffordshire.source == FIRST_EDITION
    assert staffordshire.corrections == (
        Correction(
            subject="care_leavers",
            previous="good",
            value="requires_improvement",
            source=SECOND_EDITION,
            actor=ADMIN,
            recorded_at=corrected.timestamp,
        ),
    )


def test_a_correction_may_withdraw_a_grade_but_never_the_overall_effectiveness() -> None:
    staffordshire = given_staffordshire()

    staffordshire.correct_judgement(
        area=Area.CARE_LEAVERS, grade=None, source=SECOND_EDITION, actor=ADMIN
    )

    [withdrawn] = staffordshire.collect_events()
    assert isinstance(withdrawn, Inspection.JudgementCorrected)
    assert (withdrawn.previous, withdrawn.grade) == (G, None)
    assert Area.CARE_LEAVERS not in staffordshire.judgements
    assert staffordshire.corrections[0].value is None
    with refused(staffordshire, MissingJudgement):
        staffordshire.correct_judgement(
            area=Area.OVERALL_EFFECTIVENESS, grade=None, source=SECOND_EDITION, actor=ADMIN
        )


@pytest.mark.parametrize(
    ("correction", "error"),
    [
        ({"area": Area.CARE_LEAVERS, "grade": G}, CorrectionChangesNothing),
        ({"area": Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS, "grade": G}, AreaNotJudged),
        ({"area": Area.CARE_LEAVERS, "grade": Grade.ADEQUATE}, GradeNotOnScale),
    ],
)
def test_a_judgement_correction_that_breaks_a_rule_leaves_no_trace(
    correction: dict[str, Any], error: type[DomainError]
) -> None:
    staffordshire = given_staffordshire()

    with refused(staffordshire, error):
        staffordshire.correct_judgement(**correction, source=SECOND_EDITION, actor=ADMIN)


def test_a_visit_cannot_be_corrected_into_grades() -> None:
    visit = given_visit()

    with refused(visit, JudgementOnVisit):
        visit.correct_judgement(
            area=Area.OVERALL_EFFECTIVENESS, grade=G, source=SECOND_EDITION, actor=ADMIN
        )


def test_a_publication_date_is_corrected_but_never_to_before_the_inspection() -> None:
    staffordshire = given_staffordshire()

    with refused(staffordshire, InvalidInspection):
        staffordshire.correct_publication_date(
            published_on=date(2023, 10, 1), source=SECOND_EDITION, actor=ADMIN
        )
    with refused(staffordshire, CorrectionChangesNothing):
        staffordshire.correct_publication_date(
            published_on=date(2024, 1, 12), source=SECOND_EDITION, actor=ADMIN
        )
    staffordshire.correct_publication_date(
        published_on=date(2024, 1, 15), source=SECOND_EDITION, actor=ADMIN
    )

    [corrected] = staffordshire.collect_events()
    assert isinstance(corrected, Inspection.PublicationDateCorrected)
    assert (corrected.previous, corrected.published_on) == (date(2024, 1, 12), date(2024, 1, 15))
    assert staffordshire.corrections[0].subject == "published_on"


def test_the_type_is_corrected_within_its_kind_only() -> None:
    staffordshire = given_staffordshire(inspection_type=InspectionType.ILACS)

    with refused(staffordshire, InvalidInspection):
        staffordshire.correct_type(
            inspection_type=InspectionType.FOCUSED_VISIT, source=SECOND_EDITION, actor=ADMIN
        )
    with refused(staffordshire, CorrectionChangesNothing):
        staffordshire.correct_type(
            inspection_type=InspectionType.ILACS, source=SECOND_EDITION, actor=ADMIN
        )
    staffordshire.correct_type(
        inspection_type=InspectionType.ILACS_STANDARD, source=SECOND_EDITION, actor=ADMIN
    )

    [corrected] = staffordshire.collect_events()
    assert isinstance(corrected, Inspection.TypeCorrected)
    assert corrected.previous is InspectionType.ILACS
    assert staffordshire.inspection_type is InspectionType.ILACS_STANDARD


def test_a_visit_s_theme_is_corrected_and_an_inspection_has_none_to_correct() -> None:
    visit = given_visit()
    staffordshire = given_staffordshire()

    with refused(visit, CorrectionChangesNothing):
        visit.correct_theme(theme="Front door", source=SECOND_EDITION, actor=ADMIN)
    with refused(visit, InvalidInspection):
        visit.correct_theme(theme=" ", source=SECOND_EDITION, actor=ADMIN)
    with refused(staffordshire, InvalidInspection):
        staffordshire.correct_theme(theme="Front door", source=SECOND_EDITION, actor=ADMIN)
    visit.correct_theme(theme="Children in need", source=SECOND_EDITION, actor=ADMIN)

    [corrected] = visit.collect_events()
    assert isinstance(corrected, Inspection.ThemeCorrected)
    assert (corrected.previous, corrected.theme) == ("Front door", "Children in need")


# -- reconciling with a publication --------------------------------------------------------------


def restate(inspection: Inspection, source: PublishedLine = SECOND_EDITION, **says: Any) -> int:
    published = {key: STAFFORDSHIRE[key] for key in ("inspection_type", "published_on", "theme")}
    published["judgements"] = STAFFORDSHIRE["judgements"]
    return inspection.reconcile(**{**published, **says}, source=source, actor=ADMIN)


def test_a_publication_that_agrees_records_nothing() -> None:
    staffordshire = given_staffordshire()

    assert restate(staffordshire) == 0
    assert staffordshire.collect_events() == []


def test_a_publication_records_one_correction_per_value_it_changes() -> None:
    staffordshire = given_staffordshire()
    judgements = {
        **STAFFORDSHIRE["judgements"],
        Area.CARE_LEAVERS: RI,
        Area.CHILDREN_IN_CARE: Grade.OUTSTANDING,
    }

    assert restate(staffordshire, judgements=judgements, published_on=date(2024, 1, 15)) == 3
    events = staffordshire.collect_events()
    assert [type(e) for e in events] == [
        Inspection.PublicationDateCorrected,
        Inspection.JudgementCorrected,
        Inspection.JudgementCorrected,
    ]
    assert all(e.source == SECOND_EDITION for e in events)


def test_a_publication_already_taken_in_changes_nothing_again() -> None:
    staffordshire = given_staffordshire()
    judgements = {**STAFFORDSHIRE["judgements"], Area.CARE_LEAVERS: RI}
    restate(staffordshire, judgements=judgements)
    staffordshire.collect_events()

    # The first edition, read again after the second: its values do not come back.
    assert restate(staffordshire, source=FIRST_EDITION) == 0
    assert staffordshire.judgements[Area.CARE_LEAVERS] is RI


def test_a_theme_spaced_otherwise_is_the_same_theme() -> None:
    visit = given_visit()
    says = {key: SANDWELL_VISIT[key] for key in ("inspection_type", "published_on", "judgements")}

    found = visit.reconcile(**says, theme=" Front  door", source=SECOND_EDITION, actor=ADMIN)

    assert found == 0
    assert visit.collect_events() == []


def test_a_table_that_does_not_tell_the_ilacs_sub_type_leaves_a_known_one() -> None:
    staffordshire = given_staffordshire()

    assert restate(staffordshire, inspection_type=InspectionType.ILACS) == 0
    assert staffordshire.inspection_type is InspectionType.ILACS_STANDARD


def test_an_area_a_publication_does_not_state_keeps_its_judgement() -> None:
    staffordshire = given_staffordshire()
    stated = {Area.OVERALL_EFFECTIVENESS: RI}

    assert restate(staffordshire, judgements=stated) == 0
    assert staffordshire.judgements == STAFFORDSHIRE["judgements"]


# -- the latest judgement per local authority ----------------------------------------------------


def test_the_latest_is_the_last_inspection_begun_and_published_by_the_dates_not_a_visit() -> None:
    sandwell_2022 = record(SANDWELL_2022)
    visit = record(SANDWELL_VISIT)
    sandwell_2025 = record(
        SANDWELL_2022,
        inspection_type=InspectionType.ILACS_STANDARD,
        starts_on=date(2025, 10, 13),
        published_on=date(2025, 12, 2),
        judgements={
            Area.OVERALL_EFFECTIVENESS: G,
            Area.IMPACT_OF_LEADERS: G,
            Area.HELP_AND_PROTECTION: G,
            Area.CHILDREN_IN_CARE: G,
            Area.CARE_LEAVERS: RI,
        },
    )
    staffordshire = record(STAFFORDSHIRE)
    everything = [sandwell_2025, visit, staffordshire, sandwell_2022]

    def latest(inspected_by: date, published_by: date) -> list[Inspection]:
        return latest_inspections(everything, inspected_by=inspected_by, published_by=published_by)

    assert latest(date(2025, 3, 31), date(2025, 6, 30)) == [sandwell_2022, staffordshire]
    assert latest(date(2025, 10, 31), date(2025, 11, 30)) == [sandwell_2022, staffordshire]
    assert latest(date(2025, 10, 31), date(2025, 12, 31)) == [sandwell_2025, staffordshire]
    assert latest(date(2023, 1, 1), date(2025, 12, 31)) == [sandwell_2022]
