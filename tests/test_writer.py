"""Specifications of the group-commit writer's memory: the aggregates it keeps between batches
stay true to the ledger, whoever else writes to it, and never hold a change that was not
committed. Run on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import pytest

from api.settings import Settings
from domain.actor import Actor, Role
from domain.application import Session, Trustledger, Write
from domain.errors import DomainError, StaleVersion
from domain.ledger import LedgerAggregate
from domain.organisation import Organisation, OrganisationKind
from domain.writer import Batch, Executed

ADMIN = Actor(user_id="admin", organisation_id="operator", role=Role.ADMIN)
TRUST = "Sandwell Children's Trust"


class RefusedHalfway(DomainError):
    """A rule broken after the command had already changed its aggregate."""


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    yield ledger
    ledger.close()


def register(ledger: Trustledger, name: str = TRUST) -> UUID:
    outcome = ledger.create(
        lambda _: Organisation.register(name=name, kind=OrganisationKind.TRUST, actor=ADMIN),
        actor=ADMIN,
        write=Write(),
    )
    return outcome.aggregate_id


def rename(ledger: Trustledger, organisation_id: UUID, name: str, version: int | None) -> int:
    return ledger.change(
        Organisation,
        organisation_id,
        lambda o: o.rename(name=name, reason="renamed by its board", actor=ADMIN),
        actor=ADMIN,
        write=Write(expected_version=version),
    ).version


def name_seen_by_a_command(ledger: Trustledger, organisation_id: UUID) -> str:
    """The name as the writer hands the organisation to the next command."""

    def read(session: Session) -> tuple[LedgerAggregate, str]:
        organisation = session.get(organisation_id, Organisation)
        return organisation, organisation.name

    return ledger.execute(read, actor=ADMIN, write=Write()).value


def test_a_change_made_by_another_process_is_seen_by_the_next_command(
    ledger: Trustledger, store_settings: Settings
) -> None:
    # Given an organisation this process has written, and so keeps
    organisation_id = register(ledger)
    assert rename(ledger, organisation_id, "Sandwell Children's Trust Ltd", 1) == 2

    # When another process renames it twice
    other = Trustledger(store_settings.ledger_env())
    try:
        assert rename(other, organisation_id, "Sandwell Children's Trust Limited", 2) == 3
        assert rename(other, organisation_id, "Sandwell Children's Services Trust", 3) == 4
    finally:
        other.close()

    # Then this process's next command sees the other's rename; a write made against the
    # version this process had kept is refused, and one made against the other's is accepted:
    # no lost update, no false refusal
    assert name_seen_by_a_command(ledger, organisation_id) == "Sandwell Children's Services Trust"
    with pytest.raises(StaleVersion):
        rename(ledger, organisation_id, "Sandwell Trust", 2)
    assert rename(ledger, organisation_id, "Sandwell Trust", 4) == 5
    assert ledger.get(organisation_id, Organisation).name == "Sandwell Trust"


def test_a_command_refused_after_changing_its_aggregate_leaves_no_trace(
    ledger: Trustledger,
) -> None:
    # Given an organisation the writer keeps
    organisation_id = register(ledger)
    assert name_seen_by_a_command(ledger, organisation_id) == TRUST

    # When a command renames it and is then refused
    def rename_then_refuse(session: Session) -> tuple[LedgerAggregate, None]:
        organisation = session.get(organisation_id, Organisation)
        organisation.rename(name="Renamed in error", reason="a slip", actor=ADMIN)
        raise RefusedHalfway("refused after the rename")

    with pytest.raises(RefusedHalfway):
        ledger.execute(rename_then_refuse, actor=ADMIN, write=Write())

    # Then neither the ledger nor the next command sees the rename
    assert ledger.get(organisation_id, Organisation).version == 1
    assert name_seen_by_a_command(ledger, organisation_id) == TRUST


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "new in the batch"])
def test_a_refused_command_keeps_what_earlier_commands_of_its_batch_did(
    ledger: Trustledger, committed: bool
) -> None:
    # Given a batch in which one command has renamed an organisation (committed before the
    # batch, or registered by an earlier command of the same batch)
    batch = Batch(ledger.repository)
    first = Session(batch)
    if committed:
        organisation_id = register(ledger)
    else:
        organisation_id = first.add(
            Organisation.register(name=TRUST, kind=OrganisationKind.TRUST, actor=ADMIN)
        ).id
    first.get(organisation_id, Organisation).rename(
        name="Sandwell Children's Trust Ltd", reason="incorporated", actor=ADMIN
    )

    # When a later command of the batch renames it again and is refused
    second = Session(batch)
    second.get(organisation_id, Organisation).rename(
        name="Renamed in error", reason="a slip", actor=ADMIN
    )
    second.undo()

    # Then the batch holds the first command's rename, and only its events
    organisation = batch.aggregates[organisation_id]
    assert isinstance(organisation, Organisation)
    assert organisation.name == "Sandwell Children's Trust Ltd"
    pending = organisation.collect_events()
    assert (
        [type(e) for e in pending] == [Organisation.Renamed]
        if committed
        else [
            Organisation.Registered,
            Organisation.Renamed,
        ]
    )
    assert organisation.version == pending[-1].originator_version


class FailsOnce(Trustledger):
    """A ledger whose next commit fails as a lost connection would."""

    failing = False

    def _save_batch(
        self, executed: Sequence[Executed], aggregates: Sequence[LedgerAggregate]
    ) -> dict[tuple[UUID, int], int]:
        if self.failing:
            self.failing = False
            raise ConnectionError("the database went away")
        return super()._save_batch(executed, aggregates)


def test_a_batch_that_failed_to_commit_leaves_nothing_of_itself_kept(
    store_settings: Settings,
) -> None:
    ledger = FailsOnce(store_settings.ledger_env())
    try:
        # Given an organisation the writer keeps
        organisation_id = register(ledger)
        assert name_seen_by_a_command(ledger, organisation_id) == TRUST

        # When a rename's commit fails
        ledger.failing = True
        with pytest.raises(ConnectionError):
            rename(ledger, organisation_id, "Sandwell Children's Trust Ltd", 1)

        # Then the next command sees the organisation as committed, and can rename it
        assert name_seen_by_a_command(ledger, organisation_id) == TRUST
        assert rename(ledger, organisation_id, "Sandwell Children's Trust Ltd", 1) == 2
    finally:
        ledger.close()


def test_a_write_read_back_at_the_version_it_reports_is_the_aggregate_the_ledger_holds(
    ledger: Trustledger,
) -> None:
    # Given an organisation renamed twice in a row
    organisation_id = register(ledger)
    renamed = rename(ledger, organisation_id, "Sandwell Children's Trust Ltd", 1)
    assert rename(ledger, organisation_id, "Sandwell Children's Services Trust", renamed) == 3

    # When each write's caller reads back the version it was told of
    read_back = ledger.get(organisation_id, Organisation, 3)
    earlier = ledger.get(organisation_id, Organisation, renamed)

    # Then each is what the ledger's events make of that version, read back as often as asked
    for version, aggregate in ((3, read_back), (renamed, earlier)):
        stored = ledger.repository.get(organisation_id, version=version)
        assert vars(aggregate) == vars(stored)
        assert vars(ledger.get(organisation_id, Organisation, version)) == vars(stored)
    assert read_back.name == "Sandwell Children's Services Trust"
    assert earlier.name == "Sandwell Children's Trust Ltd"


def test_commands_naming_what_they_read_see_it_as_committed_and_may_start_what_is_absent(
    ledger: Trustledger, store_settings: Settings
) -> None:
    # Given organisations another process registered and renamed, which this one never kept
    other = Trustledger(store_settings.ledger_env())
    try:
        names = [f"{TRUST} {n}" for n in range(6)]
        ids = [register(other, name) for name in names]
        for organisation_id in ids:
            rename(other, organisation_id, "Renamed elsewhere", 1)
    finally:
        other.close()
    new_name = "Wigan Children's Trust"
    new_id = Organisation.id_for(new_name)

    # When commands naming them (and one it has not got) arrive together
    def rename_here(organisation_id: UUID) -> int:
        return ledger.execute(
            lambda session: _renamed(session, organisation_id),
            actor=ADMIN,
            write=Write(expected_version=2),
            reads=(organisation_id,),
        ).version

    def register_here() -> int:
        return ledger.execute(
            lambda session: (_registered(session, new_name), None),
            actor=ADMIN,
            write=Write(),
            reads=(new_id,),
        ).version

    with ThreadPoolExecutor(max_workers=8) as pool:
        registering = pool.submit(register_here)
        renamed = list(pool.map(rename_here, ids))
        registered = registering.result()

    # Then each saw the version the other process committed, and the absent one was started
    assert renamed == [3] * len(ids)
    assert registered == 1
    assert ledger.get(new_id, Organisation).name == new_name
    assert {ledger.get(i, Organisation).name for i in ids} == {"Renamed here"}


def _renamed(session: Session, organisation_id: UUID) -> tuple[LedgerAggregate, None]:
    organisation = session.get(organisation_id, Organisation)
    organisation.check_version(2)
    organisation.rename(name="Renamed here", reason="renamed by its board", actor=ADMIN)
    return organisation, None


def _registered(session: Session, name: str) -> Organisation:
    return session.add(Organisation.register(name=name, kind=OrganisationKind.TRUST, actor=ADMIN))
