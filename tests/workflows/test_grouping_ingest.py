"""Grouping through the real ingestion path and store: storms, topology, flapping."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medic.domain import IncidentState, Signal, SignalSource
from medic.signals.grouping import GroupingRules, all_resolved
from medic.store import Store
from medic.workflows.ingest import ingest
from tests.workflows.sandbox_deps import install_sandbox_deps

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _alert(name: str, service: str, pod: int = 0, starts_at: datetime = NOW) -> Signal:
    return Signal(
        source=SignalSource.ALERTMANAGER,
        fingerprint=f"{name}-{service}-{pod}",
        name=name,
        starts_at=starts_at,
        service=service,
        namespace="production",
        labels={"alertname": name, "pod": f"{service}-{pod}"},
    )


def test_an_alert_storm_from_one_failure_is_one_incident(store: Store) -> None:
    # users-db goes down: hundreds of alerts on it and on every service that calls it,
    # delivered in any order and in several webhook batches.
    storm = [
        _alert(name, service, pod)
        for service in ("users-db", "auth-service", "api-gateway")
        for name in ("HighErrorRate", "HighLatency", "TargetDown", "PodNotReady")
        for pod in range(25)
    ]
    random.Random(7).shuffle(storm)
    for start in range(0, len(storm), 40):
        ingest(storm[start : start + 40], raw=None, now=NOW)
    incidents = store.list_incidents()
    assert len(incidents) == 1, [(i.service, i.group_key) for i in incidents]
    assert len(store.signals_of(incidents[0].id)) == 300


def test_an_unrelated_service_gets_its_own_incident(store: Store) -> None:
    ingest([_alert("HighErrorRate", "users-db")], raw=None, now=NOW)
    ingest([_alert("HighLatency", "catalog")], raw=None, now=NOW)
    assert sorted(str(i.service) for i in store.list_incidents()) == ["catalog", "users-db"]


def test_without_topology_callers_open_their_own_incidents(store: Store, tmp_path: Path) -> None:
    install_sandbox_deps(store, tmp_path / "other", grouping=GroupingRules(topology=False))
    ingest([_alert("TargetDown", "users-db")], raw=None, now=NOW)
    ingest([_alert("HighErrorRate", "api-gateway")], raw=None, now=NOW)
    assert len(store.list_incidents()) == 2


def test_a_flapping_alert_does_not_reopen_incidents_endlessly(store: Store) -> None:
    # The alert fires, resolves and the incident closes self-resolved, every 40 minutes
    # all night: beyond the 30-minute window each flap could open a new incident.
    at = NOW
    for flap in range(12):
        fired = _alert("HighLatency", "auth-service", starts_at=at)
        [result] = ingest([fired], raw=None, now=at)
        assert result.incident_id is not None
        if store.get_incident(result.incident_id).state is IncidentState.OPEN:
            store.set_state(result.incident_id, IncidentState.SELF_RESOLVED, at)
        at += timedelta(minutes=40 + flap)
    incidents = store.list_incidents()
    opened = sorted(i.opened_at for i in incidents)
    # at most flap_limit (3) incidents in any six hours, and every flap on record
    assert len(opened) < 12
    for at in opened:
        assert sum(1 for o in opened if at - timedelta(hours=6) < o <= at) <= 3, opened
    assert sum(len(store.signals_of(i.id)) for i in incidents) == 12


def test_a_refiring_alert_within_the_window_joins_the_closed_incident(store: Store) -> None:
    [first] = ingest([_alert("HighLatency", "auth-service")], raw=None, now=NOW)
    assert first.incident_id is not None
    store.set_state(first.incident_id, IncidentState.SELF_RESOLVED, NOW)
    later = NOW + timedelta(minutes=10)
    [again] = ingest([_alert("HighLatency", "auth-service", starts_at=later)], raw=None, now=later)
    assert again.incident_id == first.incident_id and not again.new_incident


def _shift(service: str, at: datetime, node: str | None = None) -> Signal:
    """A watchdog finding: its fingerprint is the same scan after scan."""
    return Signal(
        source=SignalSource.WATCHDOG,
        fingerprint=f"shift-{service}",
        name="LatencyLevelShift",
        starts_at=at,
        service=service,
        namespace="production",
        labels={"medic_slow_node": node} if node else {},
    )


def test_the_aftermath_of_a_fix_joins_the_incident_it_came_from(store: Store) -> None:
    # A node slowed two services; the incident closed after the fix. Their latency,
    # still elevated in the watchdog's look-back, must not open incidents of their own.
    [first, _] = ingest(
        [_shift("auth-service", NOW, "node-b"), _shift("catalog", NOW, "node-b")],
        raw=None,
        now=NOW,
    )
    assert first.incident_id is not None
    assert store.get_incident(first.incident_id).group_key == "production/node:node-b"
    store.set_state(first.incident_id, IncidentState.RESOLVED, NOW)
    later = NOW + timedelta(minutes=5)
    [after] = ingest([_shift("catalog", later)], raw=None, now=later)
    assert after.incident_id == first.incident_id and not after.new_incident
    # another alert about the same service is another problem
    [other] = ingest([_alert("DiskFull", "catalog", starts_at=later)], raw=None, now=later)
    assert other.new_incident
    much_later = NOW + timedelta(hours=2)
    [fresh] = ingest([_shift("auth-service", much_later)], raw=None, now=much_later)
    assert fresh.new_incident


def test_a_resolution_goes_to_the_incident_its_alert_joined(store: Store) -> None:
    # the database fails, the gateway's alert joins its incident; both resolve
    fired = [_alert("TargetDown", "users-db"), _alert("HighErrorRate", "api-gateway")]
    results = ingest(fired, raw=None, now=NOW)
    assert results[0].incident_id == results[1].incident_id
    later = NOW + timedelta(minutes=3)
    resolved = [replace(s, firing=False, ends_at=later) for s in fired]
    for signal, result in zip(resolved, ingest(resolved, raw=None, now=later), strict=True):
        assert result.incident_id == results[0].incident_id, signal.name
    assert all_resolved(store.signals_of(str(results[0].incident_id)))


def test_an_unrelated_fault_hours_later_is_its_own_incident(store: Store) -> None:
    [gateway] = ingest([_alert("HighLatency", "api-gateway")], raw=None, now=NOW)
    later = NOW + timedelta(hours=3)  # still awaiting approval, say
    [disk] = ingest([_alert("DiskFull", "users-db", starts_at=later)], raw=None, now=later)
    assert disk.new_incident and disk.incident_id != gateway.incident_id
