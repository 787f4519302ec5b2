"""Every notification kind a person can choose in their preferences is produced somewhere, and a journey
shows it delivered in-app and by e-mail (issue 13): the producers declare their kinds with
apps.notifications.messaging.emits; the journeys (tests/journeys) carry `@notification_kind("<kind>")`,
found here by reading their source (the marker is registered in pyproject.toml)."""

import ast
from pathlib import Path

import pytest

from apps.notifications.messaging import EMITTERS
from apps.notifications.preferences import KNOWN_KINDS

JOURNEYS = Path(__file__).resolve().parent.parent / "journeys"


def _marked_kind(decorator: ast.expr) -> str | None:
    if not (isinstance(decorator, ast.Call) and decorator.args):
        return None
    name = getattr(decorator.func, "attr", None) or getattr(decorator.func, "id", None)
    argument = decorator.args[0]
    if name == "notification_kind" and isinstance(argument, ast.Constant):
        return argument.value
    return None


def journeys_by_kind() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(JOURNEYS.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for kind in filter(None, map(_marked_kind, node.decorator_list)):
                    found.setdefault(kind, []).append(f"{path.relative_to(JOURNEYS)}::{node.name}")
    return found


@pytest.mark.parametrize("kind", sorted(KNOWN_KINDS))
def test_every_kind_people_can_choose_is_produced_and_has_a_journey(kind):
    assert EMITTERS.get(kind), f"{kind}: nothing produces it (declare its producer with @emits)"
    assert journeys_by_kind().get(kind), f"{kind}: no journey in tests/journeys shows it delivered"


def test_the_kinds_are_found():
    # Guards the parametrisation above: an empty KNOWN_KINDS would make it skip silently.
    assert {"incident.assigned", "obligation.overdue", "training.assigned"} <= set(KNOWN_KINDS)


def test_nothing_is_produced_or_journeyed_that_people_cannot_choose():
    assert set(EMITTERS) <= set(KNOWN_KINDS)
    assert set(journeys_by_kind()) <= set(KNOWN_KINDS)
