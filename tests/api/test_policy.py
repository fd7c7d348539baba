"""The policy table covers every endpoint: a route without a policy action fails here."""

from __future__ import annotations

from pathlib import Path

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from api.policy import POLICY
from api.settings import Settings

# Routes that need no policy action, and why.
OPEN = {
    ("GET", "/health"): "liveness, answered without authentication",
    ("POST", "/auth/token"): "signing in",
    ("GET", "/auth/me"): "any signed-in account reads its own account",
}


def _actions(dependant: Dependant) -> set[str]:
    found = {getattr(dependant.call, "policy_action", None)}
    for sub in dependant.dependencies:
        found |= _actions(sub)
    return {a for a in found if a}


def endpoints(tmp_path: Path) -> list[tuple[str, str, set[str]]]:
    """(method, full path, policy actions) of every API endpoint, however routers nest."""
    app = create_app(Settings(var_dir=tmp_path))
    found = []
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            found += [(m, context.path, _actions(route.dependant)) for m in sorted(route.methods)]
    return found


def test_the_route_table_is_read_whole(tmp_path: Path) -> None:
    paths = {path for _, path, _ in endpoints(tmp_path)}

    assert "/notices/{notice_id}/escalation" in paths
    assert "/contracts/{contract_id}/variations/{variation_id}/agreement" in paths
    assert len(paths) > 40


def test_every_endpoint_declares_exactly_one_action_of_the_policy_table(tmp_path: Path) -> None:
    unguarded = [
        f"{method} {path}: {sorted(actions)}"
        for method, path, actions in endpoints(tmp_path)
        if (method, path) not in OPEN and (len(actions) != 1 or not actions <= POLICY.keys())
    ]

    assert unguarded == []


def test_every_action_of_the_policy_table_guards_some_endpoint(tmp_path: Path) -> None:
    used = set().union(*(actions for _, _, actions in endpoints(tmp_path)))

    assert sorted(POLICY.keys() - used) == []
