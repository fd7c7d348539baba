"""Who did something: every event records the actor behind it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """One role per account; what each may do is decided in `api/policy.py`."""

    COMMISSIONER = "commissioner"  # the council, which keeps legal responsibility
    PROVIDER = "provider"  # the children's trust that runs the services
    AUDITOR = "auditor"  # reads the contracts they are granted, writes nothing
    ADMIN = "admin"  # runs accounts and organisations, no contract business
    SYSTEM = "system"  # imports and the demo seed, never a signed-in person


@dataclass(frozen=True)
class Actor:
    """The signed-in user behind a command, and the request it came in (absent for the CLI)."""

    user_id: str
    organisation_id: str
    role: Role
    request_id: str | None = None
