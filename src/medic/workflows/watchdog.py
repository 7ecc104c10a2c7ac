"""The watchdog: a scheduled DBOS workflow that scans the watched system for trouble."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from dbos import DBOS

from medic.domain import Signal
from medic.log import get_logger
from medic.signals.watchdog import scan
from medic.workflows.context import deps
from medic.workflows.ingest import ingest, start_incident_workflow

__all__ = ["schedule_watchdog", "watchdog_scan"]

log = get_logger(__name__)

SCHEDULE_NAME = "medic-watchdog"


# One scan at a time in a process: a tick that comes while the previous scan still
# runs (a big namespace, a slow backend) is skipped, not queued behind it.
_SCANNING = threading.Lock()


@DBOS.step()
def _scan_step() -> list[Signal]:
    if not _SCANNING.acquire(blocking=False):
        log.info("watchdog.scan_skipped", reason="the previous scan is still running")
        return []
    try:
        return _scan()
    finally:
        _SCANNING.release()


def _scan() -> list[Signal]:
    d = deps()
    return scan(
        d.metrics,
        d.cluster,
        d.namespace,
        d.clock.now(),
        lookback=timedelta(seconds=d.watchdog_lookback_s),
        logs=d.logs,
    )


@DBOS.step()
def _ingest_step(signals: list[Signal]) -> list[str]:
    results = ingest(signals, raw=None, now=deps().clock.now())
    return [r.incident_id for r in results if r.new_incident and r.incident_id]


@DBOS.workflow()
def watchdog_scan(scheduled_at: datetime, context: Any) -> None:
    signals = _scan_step()
    if not signals:
        return
    opened = _ingest_step(signals)
    for incident_id in opened:
        start_incident_workflow(incident_id)
    log.info("watchdog.signals", count=len(signals), incidents_opened=len(opened))


def schedule_watchdog(interval_seconds: int) -> None:
    """Run a scan now, then every `interval_seconds` (DBOS cron with seconds)."""
    DBOS.apply_schedules(
        [
            {
                "schedule_name": SCHEDULE_NAME,
                "workflow_fn": watchdog_scan,
                "schedule": f"*/{interval_seconds} * * * * *",
            }
        ]
    )
    DBOS.start_workflow(watchdog_scan, datetime.now().astimezone(), None)
