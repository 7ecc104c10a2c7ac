"""Signals about one service land in one incident, with a readable title."""

from __future__ import annotations

from datetime import UTC, datetime

from medic.domain.model import Signal, SignalSource
from medic.signals.grouping import group_key, incident_title

AT = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)


def _signal(name: str, service: str | None, namespace: str | None = "prod") -> Signal:
    return Signal(SignalSource.ALERTMANAGER, "fp", name, AT, service, namespace)


def test_alerts_about_one_service_share_a_group() -> None:
    assert group_key(_signal("PodMemoryLeak", "auth-service")) == group_key(
        _signal("HighLatency", "auth-service")
    )
    assert group_key(_signal("PodMemoryLeak", "auth-service")) == "prod/auth-service"


def test_the_same_service_in_two_namespaces_is_two_groups() -> None:
    assert group_key(_signal("X", "auth", "prod")) != group_key(_signal("X", "auth", "staging"))


def test_without_a_service_the_alert_name_groups() -> None:
    assert group_key(_signal("NodeDiskFull", None)) == "prod/alert:NodeDiskFull"
    assert group_key(_signal("NodeDiskFull", None, None)) == "-/alert:NodeDiskFull"


def test_the_title_names_what_and_where_on_one_line() -> None:
    assert incident_title(_signal("PodMemoryLeak", "auth-service")) == (
        "PodMemoryLeak on auth-service (prod)"
    )
    title = incident_title(_signal("Evil\nname " + "x" * 200, None, None))
    assert "\n" not in title
    assert len(title) < 120
