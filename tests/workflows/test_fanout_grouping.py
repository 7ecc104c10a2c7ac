"""One failure fanning out over callers and dependencies is one incident: the watchdog
scanning the sandbox's live surge scenario (scenarios/media-premiere-surge-live.yaml)
through the real ingestion path and store, for longer than the storm window; and an
unrelated fault meanwhile still gets an incident of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medic.action import Policy
from medic.domain import Signal, SignalSource
from medic.sandbox import Sandbox, SteppedClock
from medic.signals.grouping import GroupingRules
from medic.signals.watchdog import scan
from medic.store import Store
from medic.workflows.context import Deps, install, uninstall
from medic.workflows.ingest import ingest

SURGE = Path(__file__).parents[2] / "scenarios" / "media-premiere-surge-live.yaml"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
STORM = timedelta(minutes=15)


@pytest.fixture
def surge(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Store, Sandbox, SteppedClock]]:
    store = Store(sqlite_url)
    store.migrate()
    clock = SteppedClock(START)
    sandbox = Sandbox.open(str(SURGE), tmp_path / "sandbox", clock=clock)
    install(
        Deps(
            store=store,
            clock=clock,
            metrics=sandbox.metrics,
            changes=sandbox.changes,
            cluster=sandbox.cluster,
            writer=sandbox.cluster,
            namespace=sandbox.namespace,
            postmortem_dir=tmp_path / "pm",
            policy=Policy(autonomy="approve"),
            grouping=GroupingRules(storm=STORM),
        )
    )
    try:
        yield store, sandbox, clock
    finally:
        uninstall()
        store.close()


def _scan_at(sandbox: Sandbox, clock: SteppedClock, seconds: float) -> list[Signal]:
    clock.advance_to(sandbox.origin + timedelta(seconds=seconds))
    found = scan(
        sandbox.metrics, sandbox.cluster, sandbox.namespace, clock.now(), timedelta(hours=1)
    )
    ingest(found, raw=None, now=clock.now())
    return found


def test_a_surge_felt_downstream_for_longer_than_the_storm_is_one_incident(
    surge: tuple[Store, Sandbox, SteppedClock],
) -> None:
    store, sandbox, clock = surge
    seen: set[str] = set()
    # The surge begins at 5m; the incident stays open (awaiting approval, say) while
    # the watchdog keeps reporting the entry and every service it overloads.
    for seconds in (480, 600, 1500):
        seen.update(str(s.service) for s in _scan_at(sandbox, clock, seconds))

    incidents = store.list_incidents()
    assert [i.service for i in incidents] == ["playback-api"], [
        (i.service, i.opened_at) for i in incidents
    ]
    assert len(seen) >= 3  # the entry and the services it overloads
    assert store.services_of([incidents[0].id])[incidents[0].id] == seen


def test_findings_reported_after_the_storm_window_still_join_the_surge(
    surge: tuple[Store, Sandbox, SteppedClock],
) -> None:
    # A slow watchdog (a loaded machine, a big namespace): after the scan that opened
    # the incident, the next one comes 17 minutes later and is the first to see the
    # services the surge overloads; their trouble began with the surge.
    store, sandbox, clock = surge
    _scan_at(sandbox, clock, 480)
    late = _scan_at(sandbox, clock, 1500)

    incidents = store.list_incidents()
    assert [i.service for i in incidents] == ["playback-api"], [
        (i.service, i.opened_at) for i in incidents
    ]
    assert {str(s.service) for s in late} <= store.services_of([incidents[0].id])[incidents[0].id]


def test_an_unrelated_fault_during_the_surge_is_its_own_incident(
    surge: tuple[Store, Sandbox, SteppedClock],
) -> None:
    store, sandbox, clock = surge
    _scan_at(sandbox, clock, 600)
    profiles = Signal(
        source=SignalSource.ALERTMANAGER,
        fingerprint="profiles-errors",
        name="HighErrorRate",
        starts_at=clock.now(),
        service="profiles-api",  # edge-proxy's: nothing of the playback path
        namespace=sandbox.namespace,
    )

    [result] = ingest([profiles], raw=None, now=clock.now())

    assert result.new_incident
    assert sorted(str(i.service) for i in store.list_incidents()) == [
        "playback-api",
        "profiles-api",
    ]
