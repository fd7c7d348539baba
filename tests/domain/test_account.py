from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain.account import Account
from domain.actor import Role
from domain.errors import (
    AccountDisabled,
    AccountNotDisabled,
    ContractAlreadyGranted,
    ContractNotGranted,
    InvalidAccount,
    MissingReason,
    NotAnAuditor,
)
from tests.domain.specs import ADMIN, Fact, fact, given
from tests.domain.then import refused, replayed

AUDIT_ORG = "org-audit-body"
CONTRACT = UUID("7d1c0b1e-3f0a-4c52-9a51-2f4b8c1e9d10")
OTHER_CONTRACT = UUID("5e2a9c4d-1b3f-4a6e-8d7c-9f0a1b2c3d4e")

AUDITOR_REGISTERED = fact(
    Account.Registered,
    email="ann.auditor@audit.example.gov.uk",
    display_name="Ann Auditor",
    organisation_id=AUDIT_ORG,
    role=Role.AUDITOR,
)
GRANTED = fact(Account.ContractAccessGranted, contract_id=CONTRACT)
DISABLED = fact(Account.Disabled, reason="Left the audit body")


def given_auditor(*facts: Fact) -> Account:
    account = given(AUDITOR_REGISTERED, *facts, actor=ADMIN)
    assert isinstance(account, Account)
    return account


def register(**changes: Any) -> Account:
    arguments: dict[str, Any] = {
        "email": "ann.auditor@audit.example.gov.uk",
        "display_name": "Ann Auditor",
        "organisation_id": AUDIT_ORG,
        "role": Role.AUDITOR,
        "actor": ADMIN,
        **changes,
    }
    return Account.register(**arguments)


# -- register ------------------------------------------------------------------------------------


def test_an_admin_registers_an_account_under_its_lower_case_email() -> None:
    account = register(email=" Ann.Auditor@Audit.Example.gov.uk ", display_name=" Ann  Auditor")

    [registered] = account.collect_events()
    assert isinstance(registered, Account.Registered)
    assert registered.actor == ADMIN
    assert registered.email == "ann.auditor@audit.example.gov.uk"
    assert registered.display_name == "Ann Auditor"
    assert registered.organisation_id == AUDIT_ORG
    assert registered.role is Role.AUDITOR
    assert account.id == Account.id_for("ann.auditor@audit.example.gov.uk")
    assert account.email == "ann.auditor@audit.example.gov.uk"
    assert account.display_name == "Ann Auditor"
    assert account.organisation_id == AUDIT_ORG
    assert account.role is Role.AUDITOR
    assert account.granted_contracts == frozenset()
    assert not account.is_disabled


def test_an_email_in_any_case_has_the_same_id() -> None:
    assert Account.id_for(" ANN@Kent.gov.uk") == Account.id_for("ann@kent.gov.uk")
    assert Account.id_for("ann@kent.gov.uk") != Account.id_for("bob@kent.gov.uk")


def test_registering_the_same_email_twice_lands_on_the_same_aggregate() -> None:
    assert register().id == register(email="ANN.AUDITOR@audit.example.gov.uk").id


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.PROVIDER, Role.AUDITOR, Role.ADMIN])
def test_a_person_may_hold_any_role_but_system(role: Role) -> None:
    assert register(role=role).role is role


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "ann.auditor"}, "not an email address"),
        ({"email": "ann@localhost"}, "not an email address"),
        ({"email": "ann@@kent.gov.uk"}, "not an email address"),
        ({"email": "ann smith@kent.gov.uk"}, "not an email address"),
        ({"email": "@kent.gov.uk"}, "not an email address"),
        ({"display_name": "  "}, "display name"),
        ({"role": Role.SYSTEM}, "system role"),
    ],
    ids=["no @", "no dot in domain", "two @", "space", "no local part", "blank name", "system"],
)
def test_a_registration_with_a_bad_email_name_or_role_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidAccount, match=message):
        register(**changes)


# -- contracts granted to auditors ---------------------------------------------------------------


def test_an_auditor_is_granted_a_contract_to_read() -> None:
    account = given_auditor(GRANTED)

    account.grant_contract(OTHER_CONTRACT, actor=ADMIN)

    [granted] = account.collect_events()
    assert isinstance(granted, Account.ContractAccessGranted)
    assert granted.actor == ADMIN
    assert granted.contract_id == OTHER_CONTRACT
    assert account.granted_contracts == frozenset({CONTRACT, OTHER_CONTRACT})


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.PROVIDER, Role.ADMIN])
def test_only_an_auditor_is_granted_contracts(role: Role) -> None:
    account = given(
        fact(
            Account.Registered,
            email="cat@kent.gov.uk",
            display_name="Cat",
            organisation_id="org-council",
            role=role,
        ),
        actor=ADMIN,
    )

    with refused(account, NotAnAuditor):
        account.grant_contract(CONTRACT, actor=ADMIN)


def test_granting_a_contract_twice_is_refused_so_the_admin_knows_it_was_there() -> None:
    account = given_auditor(GRANTED)

    with refused(account, ContractAlreadyGranted):
        account.grant_contract(CONTRACT, actor=ADMIN)


def test_a_granted_contract_is_revoked() -> None:
    account = given_auditor(
        GRANTED, fact(Account.ContractAccessGranted, contract_id=OTHER_CONTRACT)
    )

    account.revoke_contract(CONTRACT, actor=ADMIN)

    [revoked] = account.collect_events()
    assert isinstance(revoked, Account.ContractAccessRevoked)
    assert revoked.actor == ADMIN
    assert revoked.contract_id == CONTRACT
    assert account.granted_contracts == frozenset({OTHER_CONTRACT})


@pytest.mark.parametrize(
    "history",
    [[], [GRANTED, fact(Account.ContractAccessRevoked, contract_id=CONTRACT)]],
    ids=["never granted", "already revoked"],
)
def test_only_a_granted_contract_is_revoked(history: list[Fact]) -> None:
    account = given_auditor(*history)

    with refused(account, ContractNotGranted):
        account.revoke_contract(CONTRACT, actor=ADMIN)


# -- disabled and enabled ------------------------------------------------------------------------


def test_an_account_is_disabled_with_a_reason() -> None:
    account = given_auditor()

    account.disable(reason=" Left the audit body ", actor=ADMIN)

    [disabled] = account.collect_events()
    assert isinstance(disabled, Account.Disabled)
    assert disabled.actor == ADMIN
    assert disabled.reason == "Left the audit body"
    assert account.is_disabled


def test_an_account_is_not_disabled_without_a_reason() -> None:
    account = given_auditor()

    with refused(account, MissingReason):
        account.disable(reason=" ", actor=ADMIN)


def test_a_disabled_account_is_not_disabled_again() -> None:
    account = given_auditor(DISABLED)

    with refused(account, AccountDisabled):
        account.disable(reason="Still gone", actor=ADMIN)


def test_a_disabled_account_is_enabled_again() -> None:
    account = given_auditor(DISABLED)

    account.enable(actor=ADMIN)

    [enabled] = account.collect_events()
    assert isinstance(enabled, Account.Enabled)
    assert enabled.actor == ADMIN
    assert not account.is_disabled


def test_only_a_disabled_account_is_enabled() -> None:
    account = given_auditor(DISABLED, fact(Account.Enabled))

    with refused(account, AccountNotDisabled):
        account.enable(actor=ADMIN)


# -- passwords -----------------------------------------------------------------------------------


@pytest.mark.parametrize("history", [[], [DISABLED]], ids=["enabled", "disabled"])
def test_a_password_change_is_recorded_without_the_hash(history: list[Fact]) -> None:
    account = given_auditor(*history)

    account.record_password_changed(actor=ADMIN)

    [changed] = account.collect_events()
    assert isinstance(changed, Account.PasswordChanged)
    assert changed.actor == ADMIN
    assert set(vars(changed)) == {"originator_id", "originator_version", "timestamp", "actor"}


# -- replay --------------------------------------------------------------------------------------


def test_an_account_replayed_from_its_stored_events_is_the_same_account() -> None:
    account = register()
    account.grant_contract(CONTRACT, actor=ADMIN)
    account.grant_contract(OTHER_CONTRACT, actor=ADMIN)
    account.revoke_contract(CONTRACT, actor=ADMIN)
    account.disable(reason="Suspected compromise", actor=ADMIN)
    account.record_password_changed(actor=ADMIN)
    account.enable(actor=ADMIN)
    events = account.collect_events()

    restored = replayed(events)

    assert restored == account
    assert restored.role is Role.AUDITOR
    assert restored.granted_contracts == frozenset({OTHER_CONTRACT})
    assert restored.version == 7
