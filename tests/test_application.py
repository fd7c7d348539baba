"""The Trustledger application on both stores: group commit, idempotency, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from api.settings import Settings
from domain.account import Account
from domain.actor import Actor, Role
from domain.application import ACCOUNT_RECHECK_SECONDS, Trustledger, Write
from domain.errors import Conflict, IdempotencyKeyReused, InvalidOrganisation, StaleVersion
from domain.organisation import Organisation, OrganisationKind
from tests.clock import Clock

ADMIN = Actor(user_id="admin-1", organisation_id="operator", role=Role.ADMIN)


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    yield ledger
    ledger.close()


def register(ledger: Trustledger, name: str, write: Write | None = None) -> Any:
    return ledger.create(
        lambda _: Organisation.register(name=name, kind=OrganisationKind.TRUST, actor=ADMIN),
        actor=ADMIN,
        write=write or Write(),
    )


def rename(ledger: Trustledger, name: str, new_name: str, write: Write | None = None) -> Any:
    return ledger.change(
        Organisation,
        Organisation.id_for(name),
        lambda o: o.rename(name=new_name, reason="rebranded", actor=ADMIN),
        actor=ADMIN,
        write=write or Write(),
    )


def test_commands_that_arrive_together_are_committed_and_a_refused_one_records_nothing(
    ledger: Trustledger,
) -> None:
    register(ledger, "Trust A")
    head = ledger.recorder.max_notification_id()
    outcomes: list[Any] = []

    def act(n: int) -> None:
        try:
            # Every fifth rename is to an empty name, which the domain refuses.
            outcomes.append(rename(ledger, "Trust A", f"Trust A {n}" if n % 5 else ""))
        except InvalidOrganisation as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=act, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    refused = [o for o in outcomes if isinstance(o, InvalidOrganisation)]
    landed = [o for o in outcomes if not isinstance(o, InvalidOrganisation)]
    assert len(refused) == 8
    assert len(landed) == 32
    assert ledger.get(Organisation.id_for("Trust A"), Organisation).version == 33
    assert ledger.recorder.max_notification_id() == (head or 0) + 32
    assert sorted(o.version for o in landed) == list(range(2, 34))


def test_a_retry_under_the_same_key_gets_the_first_outcome_and_records_nothing(
    ledger: Trustledger,
) -> None:
    register(ledger, "Trust B")
    first = rename(ledger, "Trust B", "Trust B2", Write(idempotency_key="k", fingerprint="f"))
    head = ledger.recorder.max_notification_id()

    retry = rename(ledger, "Trust B", "Trust B2", Write(idempotency_key="k", fingerprint="f"))

    assert retry.replayed
    assert (retry.version, retry.position) == (first.version, first.position)
    assert ledger.recorder.max_notification_id() == head


def test_the_same_key_for_a_different_request_is_refused(ledger: Trustledger) -> None:
    register(ledger, "Trust C")
    rename(ledger, "Trust C", "Trust C2", Write(idempotency_key="k", fingerprint="one"))

    with pytest.raises(IdempotencyKeyReused):
        rename(ledger, "Trust C", "Trust C3", Write(idempotency_key="k", fingerprint="two"))
    assert ledger.get(Organisation.id_for("Trust C"), Organisation).name == "Trust C2"


def test_a_command_on_an_older_version_than_the_ledgers_is_refused(ledger: Trustledger) -> None:
    register(ledger, "Trust D")
    rename(ledger, "Trust D", "Trust D2")

    with pytest.raises(StaleVersion):
        rename(ledger, "Trust D", "Trust D3", Write(expected_version=1))
    assert ledger.get(Organisation.id_for("Trust D"), Organisation).version == 2


def test_a_conflict_reported_for_our_own_committed_write_returns_its_outcome(
    ledger: Trustledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When the reply to COMMIT is lost, the library retries the insert, meets its own rows and
    # reports a conflict (DESIGN §5). Here the save commits and then reports that conflict.
    register(ledger, "Trust E")
    real_save = ledger.save

    def commit_then_report_conflict(*args: Any, **kwargs: Any) -> Any:
        real_save(*args, **kwargs)
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(ledger, "save", commit_then_report_conflict)
    outcome = rename(ledger, "Trust E", "Trust E2", Write(idempotency_key="lost", fingerprint="f"))

    assert outcome.version == 2
    monkeypatch.undo()
    organisation = ledger.get(Organisation.id_for("Trust E"), Organisation)
    assert (organisation.name, organisation.version) == ("Trust E2", 2)


def test_two_processes_writing_one_aggregate_never_lose_an_update(
    store_settings: Settings,
) -> None:
    first = Trustledger(store_settings.ledger_env())
    second = Trustledger(store_settings.ledger_env())
    try:
        register(first, "Trust F")
        done: list[Any] = []

        def act(ledger: Trustledger, n: int) -> None:
            try:
                done.append(rename(ledger, "Trust F", f"Trust F {n}", Write(expected_version=None)))
            except Conflict as refused:
                done.append(refused)

        threads = [
            threading.Thread(target=act, args=(first if n % 2 else second, n)) for n in range(20)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        landed = [o for o in done if not isinstance(o, Conflict)]
        organisation = first.get(Organisation.id_for("Trust F"), Organisation)
        assert organisation.version == 1 + len(landed)
        assert sorted(o.version for o in landed) == list(range(2, 2 + len(landed)))
    finally:
        first.close()
        second.close()


def register_auditor(ledger: Trustledger, email: str) -> Any:
    return ledger.create(
        lambda _: Account.register(
            email=email,
            display_name="An auditor",
            organisation_id="audit-office",
            role=Role.AUDITOR,
            actor=ADMIN,
        ),
        actor=ADMIN,
        write=Write(),
    ).value


def disable(ledger: Trustledger, account_id: Any) -> None:
    ledger.change(
        Account,
        account_id,
        lambda account: account.disable(reason="left the audit office", actor=ADMIN),
        actor=ADMIN,
        write=Write(),
    )


def test_an_account_disabled_by_this_process_is_seen_disabled_at_once(
    ledger: Trustledger,
) -> None:
    account_id = register_auditor(ledger, "first.auditor@audit.test")
    assert not ledger.account(account_id).is_disabled
    assert ledger.account_if_kept(account_id) is not None

    disable(ledger, account_id)

    assert ledger.account_if_kept(account_id) is None
    assert ledger.account(account_id).is_disabled


def test_an_account_disabled_by_another_process_is_seen_disabled_once_the_log_is_rechecked(
    store_settings: Settings,
) -> None:
    clock = Clock()
    here = Trustledger(store_settings.ledger_env(), clock=clock)
    elsewhere = Trustledger(store_settings.ledger_env())
    try:
        account_id = register_auditor(elsewhere, "second.auditor@audit.test")
        assert not here.account(account_id).is_disabled

        disable(elsewhere, account_id)

        # Kept, unchecked, for at most the documented bound...
        assert here.account_if_kept(account_id) is not None
        clock.now += ACCOUNT_RECHECK_SECONDS
        # ...and then the log says the account has changed, and it is read again.
        assert here.account_if_kept(account_id) is None
        assert here.account(account_id).is_disabled
    finally:
        here.close()
        elsewhere.close()
