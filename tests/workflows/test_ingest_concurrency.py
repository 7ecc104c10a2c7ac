"""Overlapping ingestions (two watchdog scans, a scan and a webhook) open one incident."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from medic.domain import Severity, Signal, SignalSource
from medic.store import Store
from medic.workflows.ingest import ingest

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _finding(onset_minutes: int) -> Signal:
    # Each scan estimates the onset a little differently: distinct signals, one group.
    return Signal(
        source=SignalSource.WATCHDOG,
        fingerprint="watchdog-auth-service-leak",
        name="MemoryLeakSuspected",
        starts_at=NOW - timedelta(minutes=onset_minutes),
        service="auth-service",
        namespace="production",
        severity=Severity.WARNING,
    )


def test_concurrent_scans_of_one_failure_open_one_incident(store: Store) -> None:
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def scan(i: int) -> None:
        start.wait()
        try:
            ingest([_finding(70 + i)], raw=None, now=NOW)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=scan, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    incidents = store.list_incidents()
    assert len(incidents) == 1, [(i.id, i.state) for i in incidents]
    assert len(store.signals_of(incidents[0].id)) == 8
