"""The cluster's nodes: the scenario's, or three default ones when it names none."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medic.sandbox.scenario import Scenario

__all__ = ["DEFAULT_NODES", "node_names"]

DEFAULT_NODES = ("node-a", "node-b", "node-c")


def node_names(scenario: Scenario) -> tuple[str, ...]:
    return tuple(n.name for n in scenario.nodes) or DEFAULT_NODES
