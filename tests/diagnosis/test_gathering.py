"""Evidence gathering: concurrent queries under a budget, and node pressure from per-pod series."""

from __future__ import annotations

import threading

from medic.analysis.nodes import node_slowdowns, suspect_nodes
from medic.diagnosis.budget import run_queries
from medic.domain.errors import TransientError
from medic.domain.model import Point, Series


def test_answers_come_back_in_plan_order_and_a_slow_source_is_a_timeout() -> None:
    release = threading.Event()

    def slow() -> str:
        release.wait(5.0)
        return "late"

    def broken() -> str:
        raise TransientError("Loki timed out")

    try:
        answers = run_queries(
            [("fast", lambda: "a"), ("slow", slow), ("broken", broken), ("also", lambda: "b")],
            budget_s=0.2,
        )
    finally:
        release.set()

    assert [a.value for a in answers] == ["a", None, None, "b"]
    assert answers[1].failure == "timed out after 0.2s"
    assert answers[2].failure == "Loki timed out"


def _pod(node: str, before: float, after: float, name: str) -> Series:
    points = tuple(Point(float(t), before if t < 1000 else after) for t in range(0, 2000, 15))
    return Series("latency_p99_seconds", "web", points, labels={"pod": name, "node": node})


def test_one_slow_node_is_a_suspect() -> None:
    pods = [_pod("a", 0.1, 0.1, "p1"), _pod("b", 0.1, 0.11, "p2"), _pod("c", 0.1, 0.3, "p3")]

    (suspect,) = suspect_nodes({"web": node_slowdowns("web", pods, 1000.0)})

    assert suspect.node == "c"
    assert suspect.services[0].ratio > 2.5


def test_a_service_slow_everywhere_points_at_no_node() -> None:
    pods = [_pod("a", 0.1, 0.3, "p1"), _pod("b", 0.1, 0.31, "p2"), _pod("c", 0.1, 0.29, "p3")]

    assert suspect_nodes({"web": node_slowdowns("web", pods, 1000.0)}) == []


def test_a_service_on_one_node_has_nothing_to_compare_with() -> None:
    pods = [_pod("a", 0.1, 0.5, "p1"), _pod("a", 0.1, 0.5, "p2")]

    assert node_slowdowns("web", pods, 1000.0) == []
