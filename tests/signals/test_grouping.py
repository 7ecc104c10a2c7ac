"""Signals about one service land in one incident, with a readable title."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from medic.domain.model import Incident, IncidentState, Signal, SignalSource
from medic.signals.grouping import (
    GroupingRules,
    flapping,
    group_key,
    incident_title,
    topology_match,
)

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


def test_group_by_labels_are_configurable() -> None:
    by_alert = GroupingRules(group_by=("namespace", "service", "alertname"))
    memory = _signal("PodMemoryLeak", "auth-service")
    latency = _signal("HighLatency", "auth-service")
    assert group_key(memory, by_alert) != group_key(latency, by_alert)
    by_cluster = GroupingRules(group_by=("cluster",))
    east = replace(memory, labels={"cluster": "east"})
    other_east = replace(_signal("X", "billing", "staging"), labels={"cluster": "east"})
    assert group_key(east, by_cluster) == group_key(other_east, by_cluster) == "east"


CALLS = {"gateway": ("auth",), "auth": ("users-db",), "users-db": (), "catalog": ()}


def _incident(service: str, key: str | None = None, **kw: object) -> Incident:
    fields: dict[str, object] = {
        "id": f"inc-{service}",
        "title": "t",
        "state": IncidentState.OPEN,
        "opened_at": AT,
        "updated_at": AT,
        "group_key": key or f"prod/{service}",
        "service": service,
        "namespace": "prod",
    }
    fields.update(kw)
    return Incident(**fields)  # type: ignore[arg-type]


def test_a_caller_joins_its_dependencys_open_incident() -> None:
    db = _incident("users-db")
    assert topology_match(_signal("HighErrors", "gateway"), "prod", [db], CALLS) == db
    # and a storm that reached the callers first takes the dependency in too
    gateway = _incident("gateway")
    assert topology_match(_signal("DbDown", "users-db"), "prod", [gateway], CALLS) == gateway


def test_unrelated_services_and_other_namespaces_do_not_join() -> None:
    db = _incident("users-db")
    assert topology_match(_signal("HighErrors", "catalog"), "prod", [db], CALLS) is None
    assert topology_match(_signal("HighErrors", "gateway"), "staging", [db], CALLS) is None
    assert topology_match(_signal("HighErrors", "unknown"), "prod", [db], CALLS) is None


def test_a_recently_closed_group_absorbs_instead_of_reopening() -> None:
    rules = GroupingRules(window=timedelta(minutes=30))
    closed = _incident("auth", state=IncidentState.SELF_RESOLVED, updated_at=AT)
    assert flapping("prod/auth", [closed], AT + timedelta(minutes=10), rules) == closed
    assert flapping("prod/auth", [closed], AT + timedelta(minutes=40), rules) is None
    assert flapping("prod/other", [closed], AT + timedelta(minutes=10), rules) is None


def test_a_group_that_keeps_flapping_stops_opening_incidents() -> None:
    rules = GroupingRules(window=timedelta(minutes=5), flap_limit=3, flap_period=timedelta(hours=6))
    history = [
        _incident(
            "auth",
            id=f"inc-{n}",
            state=IncidentState.SELF_RESOLVED,
            opened_at=AT - timedelta(hours=n),
            updated_at=AT - timedelta(hours=n) + timedelta(minutes=2),
        )
        for n in range(3)
    ]
    joined = flapping("prod/auth", history, AT + timedelta(hours=1), rules)
    assert joined is not None and joined.id == "inc-0"
    assert flapping("prod/auth", history[:2], AT + timedelta(hours=1), rules) is None


FANOUT = {
    "edge": ("api",),
    "mobile": ("api",),
    "api": ("api-db",),
    "api-db": (),
    "billing": ("billing-db",),
    "billing-db": (),
}


def test_a_caller_of_a_service_already_in_the_incident_joins_it() -> None:
    # A surge at edge: its incident already holds api's and api-db's findings; mobile,
    # which also calls api, is slow for the same reason.
    edge = _incident("edge")
    members = {edge.id: {"edge", "api", "api-db"}}
    mobile = _signal("HighLatency", "mobile")

    assert topology_match(mobile, "prod", [edge], FANOUT, members) == edge
    assert topology_match(mobile, "prod", [edge], FANOUT) is None  # by edge alone: no path


def test_a_dependency_of_a_service_already_in_the_incident_joins_it() -> None:
    mobile = _incident("mobile")
    members = {mobile.id: {"api"}}

    assert topology_match(_signal("DbSlow", "api-db"), "prod", [mobile], FANOUT, members) == mobile


def test_a_service_connected_to_no_member_keeps_to_itself() -> None:
    edge = _incident("edge")
    members = {edge.id: {"edge", "api", "api-db"}}

    for service in ("billing", "billing-db"):
        signal = _signal("HighErrors", service)
        assert topology_match(signal, "prod", [edge], FANOUT, members) is None
