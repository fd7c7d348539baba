from __future__ import annotations

from typing import Any

import pytest

from domain.errors import DomainError, InvalidOrganisation, MissingReason
from domain.organisation import Organisation, OrganisationKind
from tests.domain.specs import ADMIN, fact, given
from tests.domain.then import refused, replayed

KENT = {
    "name": "Kent County Council",
    "kind": OrganisationKind.COUNCIL,
    "la_number": "886",
    "ons_code": "E10000016",
}


def register(**changes: Any) -> Organisation:
    return Organisation.register(**{**KENT, "actor": ADMIN, **changes})


def given_kent() -> Organisation:
    organisation = given(fact(Organisation.Registered, **KENT), actor=ADMIN)
    assert isinstance(organisation, Organisation)
    return organisation


def test_an_admin_registers_a_council_with_its_dfe_and_ons_codes() -> None:
    council = register(name="  Kent   County Council ")

    [registered] = council.collect_events()
    assert isinstance(registered, Organisation.Registered)
    assert registered.actor == ADMIN
    assert registered.name == "Kent County Council"
    assert registered.kind is OrganisationKind.COUNCIL
    assert registered.la_number == "886"
    assert registered.ons_code == "E10000016"
    assert council.id == Organisation.id_for("Kent County Council")
    assert council.name == "Kent County Council"
    assert council.kind is OrganisationKind.COUNCIL
    assert council.la_number == "886"
    assert council.ons_code == "E10000016"


@pytest.mark.parametrize(
    "kind", [OrganisationKind.TRUST, OrganisationKind.AUDIT_BODY, OrganisationKind.OPERATOR]
)
def test_an_organisation_that_is_not_a_council_has_no_council_codes(
    kind: OrganisationKind,
) -> None:
    organisation = register(name="Kent Children's Trust", kind=kind, la_number=None, ons_code=None)

    assert organisation.kind is kind
    assert organisation.la_number is None
    assert organisation.ons_code is None


def test_the_same_name_in_any_spacing_or_case_has_the_same_id() -> None:
    assert Organisation.id_for(" kent  COUNTY council") == Organisation.id_for(
        "Kent County Council"
    )
    assert Organisation.id_for("Kent County Council") != Organisation.id_for("Medway Council")


def test_registering_the_same_organisation_twice_lands_on_the_same_aggregate() -> None:
    assert register().id == register(name="KENT COUNTY COUNCIL").id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "   "}, "needs a name"),
        ({"la_number": None}, "LA number"),
        ({"la_number": "88"}, "LA number"),
        ({"la_number": "8866"}, "LA number"),
        ({"la_number": "88a"}, "LA number"),
        ({"la_number": "\u0668\u0668\u0666"}, "LA number"),
        ({"ons_code": None}, "ONS code"),
        ({"ons_code": "W06000015"}, "ONS code"),
        ({"ons_code": "E1000001"}, "ONS code"),
        ({"ons_code": "e10000016"}, "ONS code"),
        ({"kind": OrganisationKind.TRUST, "ons_code": None}, "only a council"),
        ({"kind": OrganisationKind.AUDIT_BODY, "la_number": None}, "only a council"),
    ],
    ids=[
        "blank name",
        "council without LA number",
        "two-digit LA number",
        "four-digit LA number",
        "LA number with a letter",
        "LA number in Arabic digits",
        "council without ONS code",
        "Welsh ONS code",
        "seven-digit ONS code",
        "lower-case ONS code",
        "trust with an LA number",
        "audit body with an ONS code",
    ],
)
def test_a_registration_with_a_missing_or_malformed_code_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidOrganisation, match=message):
        register(**changes)


def test_an_organisation_is_renamed_with_a_reason_and_keeps_its_id() -> None:
    council = given_kent()

    council.rename(name=" Kent  Council ", reason="Renamed by the 2026 order", actor=ADMIN)

    [renamed] = council.collect_events()
    assert isinstance(renamed, Organisation.Renamed)
    assert renamed.actor == ADMIN
    assert renamed.name == "Kent Council"
    assert renamed.reason == "Renamed by the 2026 order"
    assert council.name == "Kent Council"


@pytest.mark.parametrize(
    ("name", "reason", "error"),
    [
        ("  ", "Renamed by order", InvalidOrganisation),
        ("Kent  County Council", "Renamed by order", InvalidOrganisation),
        ("Kent Council", "  ", MissingReason),
    ],
    ids=["blank name", "same name", "no reason"],
)
def test_a_rename_needs_a_new_name_and_a_reason(
    name: str, reason: str, error: type[DomainError]
) -> None:
    council = given_kent()

    with refused(council, error):
        council.rename(name=name, reason=reason, actor=ADMIN)


def test_an_organisation_replayed_from_its_stored_events_is_the_same_organisation() -> None:
    council = register()
    council.rename(name="Kent Council", reason="Renamed by order", actor=ADMIN)
    events = council.collect_events()

    restored = replayed(events)

    assert restored == council
    assert restored.kind is OrganisationKind.COUNCIL
    assert restored.version == 2
